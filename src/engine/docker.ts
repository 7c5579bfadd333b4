// Docker: BuildKit through `docker buildx build` when the plugin is there, else the legacy builder.
import { UserError } from "../errors.js";
import { commonBuildFlags } from "./flags.js";
import type { BuildRequest, Capture, CommandSpec, Engine } from "./types.js";

export const LEGACY_BUILDER_WARNING =
  "docker has no buildx plugin: using the legacy builder, which has no BuildKit, so the Dockerfile is rendered " +
  "without cache mounts (RUN --mount=type=cache) and rebuilds after a dependency change download everything again; " +
  "install docker-buildx (Debian: apt-get install docker-buildx) for BuildKit";

export function dockerEngine(options: { buildx: boolean; program?: string }): Engine {
  const program = options.program ?? "docker";
  const buildx = options.buildx;
  return {
    name: "docker",
    program,
    label: buildx ? "docker (BuildKit via buildx)" : "docker (legacy builder)",
    features: { cacheMounts: buildx, secrets: buildx, cacheTo: buildx },
    warnings: buildx ? [] : [LEGACY_BUILDER_WARNING],
    buildCommand(request: BuildRequest): CommandSpec {
      if (!buildx) {
        if (request.secrets?.length)
          throw new UserError("--secret needs BuildKit, and this docker has no buildx plugin", {
            hint: "install docker-buildx, or build with buildah or podman",
          });
        if (request.cacheTo?.length)
          throw new UserError("--cache-to needs BuildKit, and this docker has no buildx plugin", {
            hint: "install docker-buildx, or build with buildah or podman",
          });
        // The legacy builder takes --cache-from as image references (pulled or local), which is the useful subset.
        const args = ["build", ...commonBuildFlags(request)];
        for (const from of request.cacheFrom ?? []) args.push("--cache-from", from);
        args.push(request.context);
        // DOCKER_BUILDKIT=0 keeps a docker that defaults to BuildKit from refusing without buildx.
        return { program, args, env: { DOCKER_BUILDKIT: "0" } };
      }
      // --load puts the result into the engine's image store (the docker-container driver would not);
      // plain progress gives one line per event, which is what the progress parser reads.
      const args = ["buildx", "build", "--load", "--progress", "plain", ...commonBuildFlags(request)];
      for (const from of request.cacheFrom ?? []) args.push("--cache-from", registryCache(from));
      for (const to of request.cacheTo ?? []) args.push("--cache-to", registryCache(to, "mode=max"));
      args.push(request.context);
      return { program, args };
    },
    async imageSize(ref: string, capture: Capture): Promise<number> {
      return parseIntegerLine(
        await capture({ program, args: ["image", "inspect", "--format", "{{.Size}}", ref] }),
      );
    },
    removeImagesCommand(refs: string[]): CommandSpec {
      return { program, args: ["image", "rm", "--force", ...refs] };
    },
  };
}

/** A bare `host/repo:tag` becomes a registry cache; a full `type=...` spec passes through unchanged. */
export function registryCache(spec: string, extra?: string): string {
  if (/(^|,)type=/.test(spec)) return spec;
  return [`type=registry,ref=${spec}`, extra].filter(Boolean).join(",");
}

export function parseIntegerLine(stdout: string): number {
  const line = stdout.trim().split("\n").pop() ?? "";
  const size = Number(line.trim());
  if (!Number.isSafeInteger(size)) throw new Error(`expected an image size in bytes, got: ${stdout.trim()}`);
  return size;
}
