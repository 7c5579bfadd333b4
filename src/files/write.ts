// The one writer of user files (init, lint --fix): every file or none, backups never overwritten, links and modes kept.
import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import {
  copyFile,
  type FileHandle,
  lstat,
  mkdir,
  open,
  readlink,
  realpath,
  rename,
  rmdir,
  stat,
  unlink,
} from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { describeFsError, OutputFileError, RefusedError } from "../errors.js";

export interface FileToWrite {
  /** Where the user expects the file (a symlink here is followed: its target is written) */
  path: string;
  text: string;
}

export interface WriteResult {
  /** The paths as given, in order */
  written: string[];
  /** Backups made of replaced files, in the same order as the files they keep */
  backups: string[];
}

/** How many numbered backups to try before giving up (`X.bak`, `X.bak.1`, ... `X.bak.99`). */
const MAX_BACKUPS = 100;

interface Staged {
  given: string;
  /** The real file written: `given`, or the end of its symlink chain */
  target: string;
  existed: boolean;
  temp?: string;
  backup?: string;
}

function fail(what: string, path: string, error: unknown): never {
  throw new OutputFileError(`cannot ${what}: ${describeFsError(error)}; nothing was written`, {
    location: { file: path },
    hint: "check that the folder exists and is writable, and that no folder stands where a file goes",
  });
}

/** Where a write to `path` lands: symlinks are followed so a linked Dockerfile is updated, not replaced by a copy. */
async function resolveTarget(path: string): Promise<{ target: string; existed: boolean }> {
  const info = await lstat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    return fail("read", path, error);
  });
  if (!info) return { target: path, existed: false };
  if (!info.isSymbolicLink()) {
    if (!info.isFile())
      fail(
        "replace it",
        path,
        Object.assign(new Error(), { code: info.isDirectory() ? "EISDIR" : "ENOTFILE" }),
      );
    return { target: path, existed: true };
  }
  try {
    const target = await realpath(path);
    const real = await stat(target);
    if (!real.isFile())
      fail(
        "replace it",
        path,
        Object.assign(new Error(), { code: real.isDirectory() ? "EISDIR" : "ENOTFILE" }),
      );
    return { target, existed: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") return fail("follow the link", path, error);
    // A dangling link: create the file it points to, as the shell's `>` would.
    const link = await readlink(path).catch((e: unknown) => fail("follow the link", path, e));
    return { target: resolve(dirname(path), link), existed: false };
  }
}

/**
 * The first free backup name: `X.bak`, then `X.bak.1`, `X.bak.2`... An existing backup (a file, a
 * folder, anything) is never replaced; the copy is made with COPYFILE_EXCL so a race cannot replace one either.
 */
async function makeBackup(target: string): Promise<string> {
  for (let n = 0; n < MAX_BACKUPS; n++) {
    const candidate = n === 0 ? `${target}.bak` : `${target}.bak.${n}`;
    try {
      await copyFile(target, candidate, constants.COPYFILE_EXCL);
      return candidate;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") continue;
      fail("keep a backup", candidate, error);
    }
  }
  throw new RefusedError(`${MAX_BACKUPS} backups of this file already exist; nothing was written`, {
    location: { file: target },
    hint: "delete the old .bak files you no longer need",
  });
}

async function writeTemp(staged: Staged, text: string): Promise<void> {
  // The file was there a moment ago; if it vanished since (a race with another program), say so in one line.
  const old = staged.existed
    ? await stat(staged.target).catch((error: unknown) => fail("read", staged.given, error))
    : undefined;
  const temp = join(
    dirname(staged.target),
    `.${basename(staged.target)}.couplet-${process.pid}-${randomBytes(4).toString("hex")}.tmp`,
  );
  let handle: FileHandle | undefined;
  try {
    handle = await open(temp, "wx", old ? old.mode & 0o7777 : 0o666);
    staged.temp = temp;
    await handle.writeFile(text);
    // Keep the replaced file's mode (a read-only Dockerfile stays read-only) and, as root, its owner.
    if (old) {
      await handle.chmod(old.mode & 0o7777);
      if (process.getuid?.() === 0) await handle.chown(old.uid, old.gid);
    }
    await handle.sync();
  } catch (error) {
    fail("write", staged.given, error);
  } finally {
    await handle?.close();
  }
}

async function removeQuietly(path: string | undefined): Promise<void> {
  if (path) await unlink(path).catch(() => undefined);
}

/**
 * Make the folders a new file needs (`.github/workflows`), outermost first, appending each one made to
 * `made` so a failure can take them away again: "nothing was written" includes folders.
 */
async function makeFolders(target: string, made: string[]): Promise<void> {
  const missing: string[] = [];
  for (let dir = dirname(target); ; dir = dirname(dir)) {
    const info = await stat(dir).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return undefined;
      return fail("make the folder", dir, error);
    });
    if (info) break;
    missing.unshift(dir);
    if (dirname(dir) === dir) break;
  }
  for (const dir of missing) {
    try {
      await mkdir(dir);
    } catch (error) {
      fail("make the folder", dir, error);
    }
    made.push(dir);
  }
}

async function removeFolders(made: string[]): Promise<void> {
  for (const dir of [...made].reverse()) await rmdir(dir).catch(() => undefined);
}

/**
 * Write every file or none. First everything is checked and staged (targets resolved through
 * symlinks, refused if present without `replace` or not a regular file; contents written to
 * temporary siblings; backups copied): any failure there removes what was staged and leaves the
 * user's files as they were. Then each file appears by an atomic rename.
 */
export async function writeFiles(
  files: FileToWrite[],
  options: {
    replace: boolean;
    /**
     * Keep a replaced file as `.bak` (the default). false is for one report the command itself made and remakes:
     * its atomic rename is still all or nothing, but of several files, those replaced before a failure stay so.
     */
    backup?: boolean;
  },
): Promise<WriteResult> {
  const staged: Staged[] = [];
  for (const file of files) staged.push({ given: file.path, ...(await resolveTarget(file.path)) });
  const present = staged.filter((s) => s.existed);
  if (present.length > 0 && !options.replace) {
    const names = present.map((s) => basename(s.given));
    throw new RefusedError(
      `${names.join(" and ")} already exist${names.length === 1 ? "s" : ""}; nothing was written`,
      {
        location: { file: (present[0] as Staged).given },
        hint: "pass --force to replace (the old file is kept as a .bak), or --stdout to print instead",
      },
    );
  }
  const folders: string[] = [];
  try {
    for (const s of staged) if (!s.existed) await makeFolders(s.target, folders);
    for (const [i, s] of staged.entries()) await writeTemp(s, (files[i] as FileToWrite).text);
    if (options.backup !== false)
      for (const s of staged) if (s.existed) s.backup = await makeBackup(s.target);
  } catch (error) {
    for (const s of staged) {
      await removeQuietly(s.temp);
      await removeQuietly(s.backup);
    }
    await removeFolders(folders);
    throw error;
  }
  const done: Staged[] = [];
  for (const s of staged) {
    try {
      await rename(s.temp as string, s.target);
      done.push(s);
    } catch (error) {
      // Put back what was already replaced (from its backup) so the promise "every file or none" holds.
      for (const t of staged) {
        await removeQuietly(t.temp);
        if (!done.includes(t)) await removeQuietly(t.backup);
        else if (!t.backup) {
          if (!t.existed) await removeQuietly(t.target);
        }
        // A backup is removed only once its content is back in place; otherwise it is all the user has.
        else if (
          await copyFile(t.backup, t.target).then(
            () => true,
            () => false,
          )
        )
          await removeQuietly(t.backup);
      }
      await removeFolders(folders);
      fail("replace it", s.given, error);
    }
  }
  return {
    written: staged.map((s) => s.given),
    backups: staged.flatMap((s) => (s.backup ? [s.backup] : [])),
  };
}
