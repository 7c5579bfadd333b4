// podman: `podman build` (buildah underneath, so the same Dockerfile features and the same output).

import { type BuildahOptions, checkStorageDestination } from "./buildah.js";
import { parseIntegerLine } from "./docker.js";
import { commonBuildFlags } from "./flags.js";
import { isMultiPlatform } from "./platforms.js";
import type { BuildRequest, Capture, CommandSpec, Engine } from "./types.js";

/** Same options as buildah's: podman builds through buildah's library and stores images in the same containers-storage. */
export function podmanEngine(options: BuildahOptions = {}): Engine {
  const program = options.program ?? "podman";
  const globals = options.storageDriver ? ["--storage-driver", options.storageDriver] : [];
  return {
    name: "podman",
    program,
    label: options.storageDriver ? `podman (${options.storageDriver} storage)` : "podman",
    features: {
      cacheMounts: true,
      secrets: true,
      cacheTo: true,
      builtinFrontendMounts: true,
      multiPlatform: true,
    },
    warnings: [],
    checkDestination: (request) => checkStorageDestination("podman", request),
    buildCommand(request: BuildRequest): CommandSpec {
      checkStorageDestination("podman", request);
      const args = [...globals, "build", "--layers"];
      if (options.isolation) args.push("--isolation", options.isolation);
      args.push(...commonBuildFlags(request, isMultiPlatform(request)));
      for (const from of request.cacheFrom ?? []) args.push("--cache-from", from);
      for (const to of request.cacheTo ?? []) args.push("--cache-to", to);
      args.push(request.context);
      return { program, args };
    },
    async imageSize(ref: string, capture: Capture): Promise<number> {
      return parseIntegerLine(
        await capture({ program, args: [...globals, "image", "inspect", "--format", "{{.Size}}", ref] }),
      );
    },
    removeImagesCommand(refs: string[]): CommandSpec {
      return { program, args: [...globals, "rmi", "--force", ...refs] };
    },
    removeManifestCommand(ref: string): CommandSpec {
      return { program, args: [...globals, "manifest", "rm", ref] };
    },
    tagCommand(source: string, target: string): CommandSpec {
      return { program, args: [...globals, "tag", source, target] };
    },
  };
}
