// Finding a working engine: the one asked for, or the first of docker, podman, buildah that answers.
import { access, constants } from "node:fs/promises";
import { delimiter, join } from "node:path";
import { UserError } from "../errors.js";
import { buildahDefaults, buildahEngine } from "./buildah.js";
import { dockerEngine } from "./docker.js";
import { capture } from "./exec.js";
import { podmanEngine } from "./podman.js";
import { ENGINE_NAMES, type Engine, type EngineName } from "./types.js";

export interface DetectOptions {
  engine?: string;
  /** buildah/podman storage driver (default: overlay as root, the engine's own config otherwise) */
  storageDriver?: string;
  /** buildah/podman isolation for RUN steps: oci, rootless or chroot (default: chroot as root, the engine's own otherwise) */
  isolation?: string;
  /** Search path; defaults to $PATH */
  path?: string;
}

export const INSTALL_HINT =
  "install one: Debian/Ubuntu `apt-get install buildah` (or podman, or docker.io and start dockerd); " +
  "elsewhere see https://docs.docker.com/engine/install/ or https://podman.io/docs/installation";

export async function findProgram(name: string, path = process.env.PATH ?? ""): Promise<string | undefined> {
  for (const dir of path.split(delimiter).filter(Boolean)) {
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Why an engine cannot be used, or undefined when it can. */
type Probe = { engine: Engine } | { problem: string };

async function probe(name: EngineName, options: DetectOptions): Promise<Probe> {
  const program = await findProgram(name, options.path);
  if (!program) return { problem: `${name}: not found on PATH` };
  const uid = process.getuid?.() ?? 1000;
  if (name === "docker") {
    try {
      await capture({ program, args: ["version", "--format", "{{.Server.Version}}"] });
    } catch {
      return {
        problem: `docker: the client is installed but no daemon answers (start dockerd or set DOCKER_HOST)`,
      };
    }
    const buildx = await capture({ program, args: ["buildx", "version"] }).then(
      () => true,
      () => false,
    );
    return { engine: dockerEngine({ buildx, program }) };
  }
  const settings = {
    ...buildahDefaults(uid),
    program,
    ...(options.storageDriver ? { storageDriver: options.storageDriver } : {}),
    ...(options.isolation ? { isolation: options.isolation } : {}),
  };
  return { engine: name === "podman" ? podmanEngine(settings) : buildahEngine(settings) };
}

export async function detectEngine(options: DetectOptions = {}): Promise<Engine> {
  if (options.engine !== undefined) {
    if (!(ENGINE_NAMES as readonly string[]).includes(options.engine))
      throw new UserError(`unknown engine "${options.engine}"`, {
        hint: `choose one of ${ENGINE_NAMES.join(", ")}`,
      });
    const found = await probe(options.engine as EngineName, options);
    if ("problem" in found) throw new UserError(`cannot use ${found.problem}`, { hint: INSTALL_HINT });
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
