// Docker: BuildKit through buildx, else the daemon's own BuildKit (DOCKER_BUILDKIT=1, clients before 23.0), else legacy.
import { UserError } from "../errors.js";
import { commonBuildFlags } from "./flags.js";
import { checkMultiPlatform, isMultiPlatform, requestPlatforms } from "./platforms.js";
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

/**
 * The buildx builder a build goes to, which decides where a result can go. The `docker` driver is the daemon's own
 * BuildKit: on the classic image store it builds one platform and writes no archive (buildx's driver/docker
 * reports the multi-platform, OCI and docker exporter features only with containerd's snapshotter). Other drivers
 * (`docker-container`, `kubernetes`, `remote`) build anything, but `--load` of several platforms goes through
 * `docker load`, which takes an image index only into the containerd image store.
 */
export interface BuildxBuilder {
  driver: string;
  /** The daemon keeps images in the containerd image store, which holds image indexes (manifest lists) */
  containerdStore: boolean;
}

/** The builder's driver from `docker buildx inspect`: the `Driver:` line above `Nodes:`; undefined when absent. */
export function parseBuildxDriver(inspect: string): string | undefined {
  for (const line of inspect.split("\n")) {
    if (line.startsWith("Nodes:")) break;
    const m = /^Driver:\s+(\S+)/.exec(line);
    if (m) return m[1];
  }
  return undefined;
}

/**
 * True when `docker info --format '{{json .DriverStatus}}'` has `driver-type io.containerd.snapshotter.v1`, the
 * same pair buildx reads to decide that the daemon imports image indexes.
 */
export function usesContainerdStore(driverStatus: string): boolean {
  let pairs: unknown;
  try {
    pairs = JSON.parse(driverStatus);
  } catch {
    return false;
  }
  return (
    Array.isArray(pairs) &&
    pairs.some(
      (pair) =>
        Array.isArray(pair) && pair[0] === "driver-type" && pair[1] === "io.containerd.snapshotter.v1",
    )
  );
}

const CONTAINERD_STORE =
  'enable the containerd image store ("features": {"containerd-snapshotter": true} in /etc/docker/daemon.json, then restart dockerd)';

/**
 * buildx's export flags for a request: `--load` into the daemon (unchanged for one platform), `--push`, or an
 * archive. A combination the builder cannot carry out is refused here, before anything is built, instead of by
 * buildx after the whole build or with its own advice to switch drivers. An unknown builder (inspect failed) gets
 * the flags the request asks for and buildx's own answer.
 */
export function buildxExportArgs(
  request: Pick<BuildRequest, "platform" | "destination">,
  builder: BuildxBuilder | undefined,
): string[] {
  const multi = isMultiPlatform(request);
  const platforms = requestPlatforms(request).join(", ");
  const dockerDriverClassic = builder?.driver === "docker" && !builder.containerdStore;
  const destination = request.destination;
  if (destination && "push" in destination) {
    if (multi && dockerDriverClassic)
      throw new UserError(
        `buildx's builder uses the docker driver, which cannot build several platforms (${platforms}) on a daemon with the classic image store`,
        { hint: `create a docker-container builder (docker buildx create --use), or ${CONTAINERD_STORE}` },
      );
    return ["--push"];
  }
  if (destination && "archive" in destination) {
    if (dockerDriverClassic)
      throw new UserError(
        "buildx's builder uses the docker driver, which writes no archive (--output) on a daemon with the classic image store",
        {
          hint: `create a docker-container builder (docker buildx create --use), ${CONTAINERD_STORE}, or push to a registry instead (--push REF)`,
        },
      );
    return ["--output", `type=${multi ? "oci" : "docker"},dest=${destination.archive}`];
  }
  if (!multi || !builder || builder.containerdStore) return ["--load"];
  if (builder.driver === "docker")
    throw new UserError(
      `buildx's builder uses the docker driver, which cannot build several platforms (${platforms}) on a daemon with the classic image store`,
      {
        hint: `${CONTAINERD_STORE} to build and load them here; or create a docker-container builder (docker buildx create --use) and push to a registry (--push REF) or write an OCI archive (--output FILE); or build one platform per run (--platform ${requestPlatforms(request)[0]})`,
      },
    );
  throw new UserError(
    `buildx's ${builder.driver} builder cannot load several platforms (${platforms}) into this daemon's classic image store, which holds no image index`,
    {
      hint: `push them to a registry (--push REF), write an OCI archive (--output FILE), or ${CONTAINERD_STORE} so they load`,
    },
  );
}

export interface DockerOptions {
  builder: DockerBuilder;
  /** The buildx builder's driver and the daemon's image store, when the build needs to know them */
  buildx?: BuildxBuilder;
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
  const checkDestination = (request: Pick<BuildRequest, "platform" | "destination">): void => {
    checkMultiPlatform({ label: labels[builder], features }, request);
    if (builder === "buildx") buildxExportArgs(request, options.buildx);
    else if (request.destination)
      throw new UserError(
        `--push and --output need docker buildx, and ${labels[builder]} only loads the image into the daemon`,
        {
          hint: "install docker-buildx, or build without them and then `docker push` or `docker save` the image",
        },
      );
  };
  return {
    name: "docker",
    program,
    label: labels[builder],
    features,
    warnings: buildkit ? [] : [options.warning ?? LEGACY_BUILDER_WARNING],
    checkDestination,
    buildCommand(request: BuildRequest): CommandSpec {
      checkDestination(request);
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
      // --load puts the result into the engine's image store (the docker-container driver would not), where the
      // daemon can take it; else a registry or an archive.
      const exportArgs = buildxExportArgs(request, options.buildx);
      const args = ["buildx", "build", ...exportArgs, "--progress", "plain", ...commonBuildFlags(request)];
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
