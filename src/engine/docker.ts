// Docker: BuildKit through buildx, else the daemon's own BuildKit (DOCKER_BUILDKIT=1, clients before 23.0), else legacy.
import { UserError } from "../errors.js";
import { commonBuildFlags } from "./flags.js";
import { checkMultiPlatform } from "./platforms.js";
import type { BuildRequest, Capture, CommandSpec, Engine } from "./types.js";

/**
 * How a docker client reaches BuildKit. `buildkit` is the daemon's built-in BuildKit (every engine since
 * 18.09) driven by the classic `docker build` with DOCKER_BUILDKIT=1: clients before 23.0 do that on their
 * own; from 23.0 the classic client refuses it without the buildx component.
 */
export type DockerBuilder = "buildx" | "buildkit" | "legacy";

export interface DockerVersions {
  /** `docker version --format {{.Client.Version}}`, e.g. "20.10.24+dfsg1" */
  client: string;
  /** `{{.Server.Version}}` */
  server: string;
  buildx: boolean;
}

/** Major and minor of a Docker version string ("20.10.24+dfsg1", "28.2.2", "18.09.1-ce"); undefined if unreadable. */
export function majorMinor(version: string): [number, number] | undefined {
  const m = /^v?(\d+)\.(\d+)/.exec(version.trim());
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

function atLeast(version: string, major: number, minor: number): boolean {
  const v = majorMinor(version);
  return v !== undefined && (v[0] > major || (v[0] === major && v[1] >= minor));
}

export function chooseDockerBuilder(versions: DockerVersions): DockerBuilder {
  if (versions.buildx) return "buildx";
  const clientKnown = majorMinor(versions.client) !== undefined;
  if (clientKnown && !atLeast(versions.client, 23, 0) && atLeast(versions.server, 18, 9)) return "buildkit";
  return "legacy";
}

export const LEGACY_BUILDER_WARNING =
  "docker has no buildx plugin: using the legacy builder, which has no BuildKit, so the Dockerfile is rendered " +
  "without cache mounts (RUN --mount=type=cache) and rebuilds after a dependency change download everything again; " +
  "install docker-buildx (Debian: apt-get install docker-buildx) for BuildKit";

/** Why the legacy builder was chosen, and the way out, for the warning shown before building. */
export function legacyWarning(versions: DockerVersions | undefined, olderClients: string[] = []): string {
  const reasons: string[] = [LEGACY_BUILDER_WARNING];
  if (versions && atLeast(versions.client, 23, 0))
    reasons.push(
      `this client (${versions.client}) is 23.0 or newer, and those drive the daemon's BuildKit only through buildx`,
    );
  if (versions && !atLeast(versions.server, 18, 9))
    reasons.push(`the daemon (${versions.server}) is older than 18.09 and has no BuildKit`);
  else if (olderClients.length)
    reasons.push(
      `or build with a client older than 23.0, which drives the daemon's BuildKit itself: --docker ${olderClients[0]} (or COUPLET_DOCKER=${olderClients[0]})`,
    );
  return reasons.join("; ");
}

export interface DockerOptions {
  builder: DockerBuilder;
  program?: string;
  /** The daemon's version: from 20.10 its built-in Dockerfile frontend reads RUN --mount without `# syntax=` */
  server?: string;
  /** Overrides the warning shown with the legacy builder */
  warning?: string;
}

export function dockerEngine(options: DockerOptions): Engine {
  const program = options.program ?? "docker";
  const { builder } = options;
  const buildkit = builder !== "legacy";
  const labels: Record<DockerBuilder, string> = {
    buildx: "docker (BuildKit via buildx)",
    buildkit: "docker (the daemon's BuildKit, DOCKER_BUILDKIT=1)",
    legacy: "docker (legacy builder)",
  };
  const features = {
    cacheMounts: buildkit,
    secrets: buildkit,
    // The classic client's BuildKit reads inline caches from images but cannot export a cache.
    cacheTo: builder === "buildx",
    builtinFrontendMounts: buildkit && options.server !== undefined && atLeast(options.server, 20, 10),
    // The classic `docker build` (legacy or the daemon's BuildKit) takes one platform per build.
    multiPlatform: builder === "buildx",
  };
  return {
    name: "docker",
    program,
    label: labels[builder],
    features,
    warnings: buildkit ? [] : [options.warning ?? LEGACY_BUILDER_WARNING],
    buildCommand(request: BuildRequest): CommandSpec {
      checkMultiPlatform({ label: labels[builder], features }, request);
      if (builder === "legacy") {
        if (request.secrets?.length || request.ssh?.length)
          throw new UserError("--secret and --ssh need BuildKit, and this docker has no buildx plugin", {
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
      if (builder === "buildkit") {
        if (request.cacheTo?.length)
          throw new UserError("--cache-to needs buildx: `docker build` with BuildKit cannot export a cache", {
            hint: "install docker-buildx, or build with buildah or podman (--cache-from works as it is)",
          });
        // Plain progress: one line per event, which is what the progress parser reads (no TTY redraws).
        const args = ["build", "--progress", "plain", ...commonBuildFlags(request)];
        // Image references whose inline cache (BUILDKIT_INLINE_CACHE=1) BuildKit may reuse.
        for (const from of request.cacheFrom ?? []) args.push("--cache-from", from);
        args.push(request.context);
        return { program, args, env: { DOCKER_BUILDKIT: "1" } };
      }
      // --load puts the result into the engine's image store (the docker-container driver would not).
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
