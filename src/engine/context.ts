// Stages a build context in a temporary folder: the project's files that the .dockerignore keeps, plus the generated files.
import { copyFile, lstat, mkdir, mkdtemp, readdir, readlink, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
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

export async function copyTree(from: string, to: string, ignoreText: string): Promise<void> {
  // A CommonJS module whose factory is also its own `default`: this call works under tsc, Node and vitest alike.
  const ignore = dockerignore.default({ ignorecase: false }).add(ignoreText);
  // A `!` rule can bring back a file under an ignored folder, so only prune folders when there is none.
  const canPrune = !ignoreText.split("\n").some((line) => line.trim().startsWith("!"));
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(join(from, rel), { withFileTypes: true });
    await mkdir(join(to, rel), { recursive: true });
    for (const entry of entries) {
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      const ignored = ignore.ignores(path);
      if (entry.isDirectory()) {
        if (ignored && canPrune) continue;
        await walk(path);
      } else if (!ignored) {
        if (entry.isSymbolicLink()) await symlink(await readlink(join(from, path)), join(to, path));
        else if (entry.isFile()) {
          await copyFile(join(from, path), join(to, path));
        }
      }
    }
  };
  await lstat(from);
  await walk("");
}
