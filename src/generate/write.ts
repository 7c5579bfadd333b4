// Write generated files so that a user's file is never lost or half-written.
import { constants } from "node:fs";
import { access, copyFile, rename, rm, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { UserError } from "../errors.js";

export interface WriteResult {
  written: string[];
  backups: string[];
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path, constants.F_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Write every file or none: all contents go to temporary siblings first, existing files are refused
 * unless `force` (then copied to `<name>.bak`), and each file appears by an atomic rename.
 */
export async function writeFiles(
  dir: string,
  files: Record<string, string>,
  force: boolean,
): Promise<WriteResult> {
  const names = Object.keys(files);
  const present: string[] = [];
  for (const name of names) if (await exists(join(dir, name))) present.push(name);
  if (present.length > 0 && !force) {
    throw new UserError(
      `${present.join(" and ")} already exist${present.length === 1 ? "s" : ""}; nothing was written`,
      {
        location: { file: join(dir, present[0] as string) },
        hint: "pass --force to replace (the old file is kept as .bak), or --stdout to print instead",
        exitCode: 1,
      },
    );
  }
  const temporary = names.map((name) => join(dir, `.${basename(name)}.couplet-${process.pid}.tmp`));
  try {
    for (const [i, name] of names.entries()) await writeFile(temporary[i] as string, files[name] as string);
  } catch (error) {
    await Promise.all(temporary.map((path) => rm(path, { force: true })));
    const reason = error instanceof Error ? error.message : String(error);
    throw new UserError(`cannot write in ${dir}: ${reason}`, {
      hint: "check the folder exists and is writable",
    });
  }
  const result: WriteResult = { written: [], backups: [] };
  for (const [i, name] of names.entries()) {
    const target = join(dir, name);
    if (present.includes(name)) {
      await copyFile(target, `${target}.bak`);
      result.backups.push(`${target}.bak`);
    }
    await rename(temporary[i] as string, target);
    result.written.push(target);
  }
  return result;
}
