// Turn an engine image name into a docker-archive file in a private temporary folder (removed by the caller's dispose).
import { execFile } from "node:child_process";
import { rmSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { buildahDefaults } from "../engine/buildah.js";
import { type EngineName, EXPORT_ENGINES } from "../engine/types.js";
import { UserError } from "../errors.js";

const run = promisify(execFile);

/** The argument lists, as values: how each engine says "does this image exist" and "save it as a docker-archive". */
export function engineCommands(
  engine: EngineName,
  image: string,
  file: string,
  uid = process.getuid?.() ?? 1000,
): { exists: string[]; save: string[] } {
  // The same storage driver as `couplet build` uses (buildahDefaults), so the images it built are found.
  const driver = buildahDefaults(uid).storageDriver;
  const storage = driver ? ["--storage-driver", driver] : [];
  switch (engine) {
    case "buildah":
      return {
        exists: ["buildah", ...storage, "inspect", "--type", "image", image],
        save: ["buildah", ...storage, "push", "--quiet", image, `docker-archive:${file}`],
      };
    case "podman":
      return {
        exists: ["podman", ...storage, "image", "exists", image],
        save: ["podman", ...storage, "save", "--quiet", "-o", file, image],
      };
    case "docker":
      return { exists: ["docker", "image", "inspect", image], save: ["docker", "save", "-o", file, image] };
  }
}

async function succeeds(argv: string[]): Promise<boolean> {
  try {
    await run(argv[0] as string, argv.slice(1), { maxBuffer: 64 * 1024 * 1024 });
    return true;
  } catch {
    return false;
  }
}

async function installed(engine: EngineName): Promise<boolean> {
  return succeeds([engine, "--version"]);
}

export interface Exported {
  file: string;
  engine: EngineName;
  dispose(): Promise<void>;
}

/** Find the image in the first engine that has it and save it to a temporary docker-archive. */
export async function exportImage(image: string, only?: EngineName): Promise<Exported> {
  const candidates = only ? [only] : EXPORT_ENGINES;
  const present: EngineName[] = [];
  for (const engine of candidates) if (await installed(engine)) present.push(engine);
  if (present.length === 0)
    throw new UserError(
      `${image} is not a file, and no container engine was found (looked for ${candidates.join(", ")})`,
      {
        hint: "install one (e.g. apt-get install buildah), or pass a docker-archive/OCI archive file",
        exitCode: 2,
      },
    );
  const dir = await mkdtemp(path.join(tmpdir(), "couplet-inspect-"));
  const file = path.join(dir, "image.tar");
  // Ctrl-C during the export or the inspection: remove the export before leaving.
  const onInterrupt = () => {
    rmSync(dir, { recursive: true, force: true });
    process.exit(130);
  };
  process.once("SIGINT", onInterrupt);
  process.once("SIGTERM", onInterrupt);
  const dispose = async () => {
    process.off("SIGINT", onInterrupt);
    process.off("SIGTERM", onInterrupt);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (const engine of present) {
      const commands = engineCommands(engine, image, file);
      if (!(await succeeds(commands.exists))) continue;
      try {
        await run(commands.save[0] as string, commands.save.slice(1), { maxBuffer: 64 * 1024 * 1024 });
      } catch (error) {
        const stderr = (error as { stderr?: string }).stderr?.trim().split("\n").slice(-3).join(" ") ?? "";
        throw new UserError(`${engine} could not export ${image}: ${stderr || (error as Error).message}`, {
          exitCode: 2,
        });
      }
      return { file, engine, dispose };
    }
    throw new UserError(`no image named ${image} in ${present.join(", ")}, and no such file`, {
      exitCode: 2,
    });
  } catch (error) {
    await dispose();
    throw error;
  }
}
