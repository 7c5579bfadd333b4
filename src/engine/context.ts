// Stages a build context in a temporary folder: the project's files that the .dockerignore keeps, plus the generated files.
import { copyFile, lstat, mkdir, mkdtemp, readdir, readlink, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import dockerignore from "@balena/dockerignore";

/**
 * Copies `projectDir` into a new temporary folder, leaving out what `ignoreText` excludes (the same
 * rules the engine would apply), and writes `files` (Dockerfile, .dockerignore) there. The user's
 * folder is only read; every engine sees the same context, whatever its support for ignore files
 * next to a Dockerfile.
 */
export async function stageContext(
  projectDir: string,
  ignoreText: string,
  files: Record<string, string>,
  prefix = "couplet-build-",
): Promise<string> {
  const dest = await mkdtemp(join(tmpdir(), prefix));
  await copyTree(projectDir, dest, ignoreText);
  for (const [name, text] of Object.entries(files)) await writeFile(join(dest, name), text);
  return dest;
}

/** A file or symlink of a context, relative to its root with `/` separators. */
export interface ContextEntry {
  path: string;
  kind: "file" | "symlink" | "directory";
}

/** What under `from` the `ignoreText` keeps (folders walked included), in walk order: the engine's rules. */
export async function listContext(from: string, ignoreText: string): Promise<ContextEntry[]> {
  // A CommonJS module whose factory is also its own `default`: this call works under tsc, Node and vitest alike.
  const ignore = dockerignore.default({ ignorecase: false }).add(ignoreText);
  // A `!` rule can bring back a file under an ignored folder, so only prune folders when there is none.
  const canPrune = !ignoreText.split("\n").some((line) => line.trim().startsWith("!"));
  const kept: ContextEntry[] = [];
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(join(from, rel), { withFileTypes: true });
    for (const entry of entries) {
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      const ignored = ignore.ignores(path);
      if (entry.isDirectory()) {
        if (ignored && canPrune) continue;
        kept.push({ path, kind: "directory" });
        await walk(path);
      } else if (!ignored) {
        if (entry.isSymbolicLink()) kept.push({ path, kind: "symlink" });
        else if (entry.isFile()) kept.push({ path, kind: "file" });
      }
    }
  };
  await lstat(from);
  await walk("");
  return kept;
}

export async function copyTree(from: string, to: string, ignoreText: string): Promise<void> {
  await mkdir(to, { recursive: true });
  for (const entry of await listContext(from, ignoreText)) {
    if (entry.kind === "directory") {
      await mkdir(join(to, entry.path), { recursive: true });
      continue;
    }
    await mkdir(dirname(join(to, entry.path)), { recursive: true });
    if (entry.kind === "symlink") await symlink(await readlink(join(from, entry.path)), join(to, entry.path));
    else await copyFile(join(from, entry.path), join(to, entry.path));
  }
}
