// buildah: `buildah bud` with layers; as root with an explicit storage driver and chroot isolation.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { UserError } from "../errors.js";
import { commonBuildFlags } from "./flags.js";
import { isMultiPlatform } from "./platforms.js";
import type { BuildRequest, Capture, CommandSpec, Engine } from "./types.js";

export interface BuildahOptions {
  /** Storage driver passed on every call; undefined leaves it to containers-storage.conf (rootless setups) */
  storageDriver?: string;
  /** Isolation for RUN steps; undefined leaves buildah's default */
  isolation?: string;
  program?: string;
}

/**
 * Root gets overlay + chroot (works inside containers and CI runners without nested namespaces or cgroup
 * control); rootless keeps the engine's own defaults. Used for buildah and podman alike.
 */
export function buildahDefaults(uid: number): BuildahOptions {
  return uid === 0 ? { storageDriver: "overlay", isolation: "chroot" } : {};
}

/**
 * buildah and podman build into their own storage: any number of platforms, but no registry or archive as the
 * build's output. Pushing or saving is a separate step, named in the refusal.
 */
export function checkStorageDestination(
  program: "buildah" | "podman",
  request: Pick<BuildRequest, "platform" | "destination">,
): void {
  if (!request.destination) return;
  const list = isMultiPlatform(request);
  throw new UserError(
    `--push and --output need docker buildx; ${program} keeps the image in its own storage`,
    {
      hint: `build without them, then \`${program} ${list ? "manifest push --all" : "push"} TAG docker://REF\` (or oci-archive:FILE)`,
    },
  );
}

export function buildahEngine(options: BuildahOptions = {}): Engine {
  const program = options.program ?? "buildah";
  const globals = options.storageDriver ? ["--storage-driver", options.storageDriver] : [];
  return {
    name: "buildah",
    program,
    label: options.storageDriver ? `buildah (${options.storageDriver} storage)` : "buildah",
    features: {
      cacheMounts: true,
      secrets: true,
      cacheTo: true,
      builtinFrontendMounts: true,
      multiPlatform: true,
    },
    warnings: [],
    checkDestination: (request) => checkStorageDestination("buildah", request),
    buildCommand(request: BuildRequest): CommandSpec {
      checkStorageDestination("buildah", request);
      const args = [...globals, "bud", "--layers"];
      if (options.isolation) args.push("--isolation", options.isolation);
      args.push(...commonBuildFlags(request, isMultiPlatform(request)));
      // buildah takes cache sources and destinations as repositories (no type=/mode= syntax).
      for (const from of request.cacheFrom ?? []) args.push("--cache-from", from);
      for (const to of request.cacheTo ?? []) args.push("--cache-to", to);
      args.push(request.context);
      return { program, args };
    },
    async imageSize(ref: string, capture: Capture): Promise<number> {
      // buildah prints sizes only rounded ("259 MB"); the exact figure is the sum of the layers'
      // diff sizes that containers-storage records, which is also what podman reports as Size.
      const id = (
        await capture({
          program,
          args: [...globals, "inspect", "--type", "image", "--format", "{{.FromImageID}}", ref],
        })
      ).trim();
      const [graphRoot, driver] = (
        await capture({
          program,
          args: [...globals, "info", "--format", "{{.store.GraphRoot}} {{.store.GraphDriverName}}"],
        })
      )
        .trim()
        .split(" ");
      if (!graphRoot || !driver) throw new Error("buildah info did not name its storage root and driver");
      const images = JSON.parse(
        await readFile(join(graphRoot, `${driver}-images`, "images.json"), "utf8"),
      ) as {
        id: string;
        layer?: string;
      }[];
      const layers = JSON.parse(
        await readFile(join(graphRoot, `${driver}-layers`, "layers.json"), "utf8"),
      ) as {
        id: string;
        parent?: string;
        "diff-size"?: number;
      }[];
      return imageSizeFromStorage(id, images, layers);
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

/** Sum of the diff sizes along the image's layer chain, as containers-storage records them. */
export function imageSizeFromStorage(
  imageId: string,
  images: { id: string; layer?: string }[],
  layers: { id: string; parent?: string; "diff-size"?: number }[],
): number {
  const image = images.find((i) => i.id === imageId);
  if (!image) throw new Error(`image ${imageId} is not in the storage's images.json`);
  const byId = new Map(layers.map((l) => [l.id, l]));
  let size = 0;
  for (let id = image.layer; id; ) {
    const layer = byId.get(id);
    if (!layer) throw new Error(`layer ${id} of image ${imageId} is not in layers.json`);
    size += layer["diff-size"] ?? 0;
    id = layer.parent;
  }
  return size;
}
