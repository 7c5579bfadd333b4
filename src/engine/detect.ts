// Finding a working engine: the one asked for, or the first of docker, podman, buildah that answers.
import { access, constants } from "node:fs/promises";
import { delimiter, join } from "node:path";
import { UserError } from "../errors.js";
import { buildahDefaults, buildahEngine } from "./buildah.js";
import {
  type BuildxBuilder,
  chooseDockerBuilder,
  type DockerVersions,
  dockerEngine,
  legacyWarning,
  majorMinor,
  parseBuildxDriver,
  usesContainerdStore,
} from "./docker.js";
import { capture } from "./exec.js";
import { podmanEngine } from "./podman.js";
import { ENGINE_NAMES, type Engine, type EngineName } from "./types.js";

export interface DetectOptions {
  engine?: string;
  /** buildah/podman storage driver (default: overlay as root, the engine's own config otherwise) */
  storageDriver?: string;
  /** buildah/podman isolation for RUN steps: oci, rootless or chroot (default: chroot as root, the engine's own otherwise) */
  isolation?: string;
  /** The docker client to use (`--docker PATH` or COUPLET_DOCKER); default: the first `docker` on the search path */
  docker?: string;
  /** Search path; defaults to $PATH */
  path?: string;
  /**
   * Ask buildx which driver its builder uses and the daemon which image store it keeps (several platforms, a
   * registry or an archive depend on them); a single-platform build into the daemon needs neither.
   */
  inspectBuilder?: boolean;
}

export const INSTALL_HINT =
  "install one: Debian/Ubuntu `apt-get install buildah` (or podman, or docker.io and start dockerd); " +
  "elsewhere see https://docs.docker.com/engine/install/ or https://podman.io/docs/installation";

export async function findProgram(name: string, path = process.env.PATH ?? ""): Promise<string | undefined> {
  return (await findPrograms(name, path))[0];
}

/** Every executable of that name on the search path, in search order. */
export async function findPrograms(name: string, path = process.env.PATH ?? ""): Promise<string[]> {
  const found: string[] = [];
  for (const dir of path.split(delimiter).filter(Boolean)) {
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      if (!found.includes(candidate)) found.push(candidate);
    } catch {
      // not here
    }
  }
  return found;
}

/** Asks one docker client for its version, the daemon's, and whether the buildx plugin answers. */
async function dockerVersions(program: string): Promise<DockerVersions | { problem: string }> {
  let versions: string;
  try {
    versions = await capture({
      program,
      args: ["version", "--format", "{{.Client.Version}} {{.Server.Version}}"],
    });
  } catch {
    return {
      problem: `docker: the client ${program} is installed but no daemon answers (start dockerd or set DOCKER_HOST)`,
    };
  }
  const [client = "", server = ""] = versions.trim().split(/\s+/);
  const buildx = await capture({ program, args: ["buildx", "version"] }).then(
    () => true,
    () => false,
  );
  return { client, server, buildx };
}

/**
 * The current buildx builder's driver and whether the daemon uses the containerd image store; undefined when
 * either answer is missing (buildx then decides on its own, as it did before couplet asked).
 */
export async function inspectBuildxBuilder(program: string): Promise<BuildxBuilder | undefined> {
  const [inspect, driverStatus] = await Promise.all([
    capture({ program, args: ["buildx", "inspect"] }).catch(() => undefined),
    capture({ program, args: ["info", "--format", "{{json .DriverStatus}}"] }).catch(() => undefined),
  ]);
  const driver = inspect === undefined ? undefined : parseBuildxDriver(inspect);
  if (!driver || driverStatus === undefined) return undefined;
  return { driver, containerdStore: usesContainerdStore(driverStatus) };
}

async function probeDocker(options: DetectOptions): Promise<Probe> {
  const named = options.docker ?? process.env.COUPLET_DOCKER;
  const program = named || (await findProgram("docker", options.path));
  if (!program) return { problem: "docker: not found on PATH" };
  if (named) {
    try {
      await access(named, constants.X_OK);
    } catch {
      const by = options.docker ? "--docker" : "COUPLET_DOCKER";
      return {
        problem: `docker: ${named} (named by ${by}) is not an executable file`,
        hint: `name the client's full path (\`command -v docker\` shows the first on PATH), or leave ${by} out to use that one`,
      };
    }
  }
  const versions = await dockerVersions(program);
  if ("problem" in versions) return versions;
  const builder = chooseDockerBuilder(versions);
  let warning: string | undefined;
  if (builder === "legacy") {
    // Another client on PATH may drive this daemon's BuildKit where the first one cannot: name it, never switch silently.
    const older: string[] = [];
    for (const other of await findPrograms("docker", options.path)) {
      if (other === program) continue;
      const v = await capture({ program: other, args: ["version", "--format", "{{.Client.Version}}"] }).catch(
        () => "",
      );
      const mm = majorMinor(v);
      if (mm && mm[0] < 23) older.push(other);
    }
    warning = legacyWarning(versions, older);
  }
  const buildx =
    builder === "buildx" && options.inspectBuilder ? await inspectBuildxBuilder(program) : undefined;
  return {
    engine: dockerEngine({
      builder,
      program,
      server: versions.server,
      ...(warning ? { warning } : {}),
      ...(buildx ? { buildx } : {}),
    }),
  };
}

/** Why an engine cannot be used, or undefined when it can. */
type Probe = { engine: Engine } | { problem: string; hint?: string };

async function probe(name: EngineName, options: DetectOptions): Promise<Probe> {
  if (name === "docker") return probeDocker(options);
  const program = await findProgram(name, options.path);
  if (!program) return { problem: `${name}: not found on PATH` };
  const uid = process.getuid?.() ?? 1000;
  const settings = {
    ...buildahDefaults(uid),
    program,
    ...(options.storageDriver ? { storageDriver: options.storageDriver } : {}),
    ...(options.isolation ? { isolation: options.isolation } : {}),
  };
  return { engine: name === "podman" ? podmanEngine(settings) : buildahEngine(settings) };
}

export async function detectEngine(options: DetectOptions = {}): Promise<Engine> {
  if (options.docker !== undefined && options.engine !== undefined && options.engine !== "docker")
    throw new UserError(`--docker names a docker client, but --engine is ${options.engine}`, {
      hint: "drop one of them",
    });
  // Naming a docker client is asking for docker.
  if (options.engine === undefined && options.docker !== undefined)
    options = { ...options, engine: "docker" };
  if (options.engine !== undefined) {
    if (!(ENGINE_NAMES as readonly string[]).includes(options.engine))
      throw new UserError(`unknown engine "${options.engine}"`, {
        hint: `choose one of ${ENGINE_NAMES.join(", ")}`,
      });
    const found = await probe(options.engine as EngineName, options);
    if ("problem" in found)
      throw new UserError(`cannot use ${found.problem}`, { hint: found.hint ?? INSTALL_HINT });
    return found.engine;
  }
  const problems: string[] = [];
  // Docker first: where a daemon runs, it is what the user builds with day to day.
  for (const name of ["docker", "podman", "buildah"] as const) {
    const found = await probe(name, options);
    if ("engine" in found) return found.engine;
    problems.push(found.problem);
  }
  throw new UserError(
    `no container engine found (looked for docker, podman, buildah: ${problems.join("; ")})`,
    {
      hint: INSTALL_HINT,
    },
  );
}
