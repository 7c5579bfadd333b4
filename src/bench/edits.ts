// The edits between builds: the seed's cache-busting comment, a real added dependency, a source-only change.
import { appendFile, copyFile, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { UserError } from "../errors.js";

/**
 * The seed's edit (`echo '# cache busting comment' >> pyproject.toml`), with `nonce` in the comment: the
 * engine's layer cache outlives a bench, and an edit it has already seen would come from the cache.
 */
export async function cacheBustingEdit(dir: string, nonce: string): Promise<void> {
  await appendFile(join(dir, "pyproject.toml"), `# cache busting comment ${nonce}\n`);
}

/**
 * Replaces pyproject.toml and poetry.lock with a prepared pair that adds a dependency. A comment with
 * `nonce` goes at the end of the lock (Poetry ignores it) so that, as for a user's real new dependency,
 * no earlier build has made these layers.
 */
export async function dependencyEdit(dir: string, prepared: string, nonce: string): Promise<void> {
  for (const name of ["pyproject.toml", "poetry.lock"]) await copyFile(join(prepared, name), join(dir, name));
  await appendFile(join(dir, "poetry.lock"), `# couplet bench ${nonce}\n`);
}

export async function checkDependencyChange(prepared: string): Promise<void> {
  for (const name of ["pyproject.toml", "poetry.lock"]) {
    const ok = await stat(join(prepared, name)).then(
      (s) => s.isFile(),
      () => false,
    );
    if (!ok)
      throw new UserError(`--dep-change folder has no ${name}`, {
        location: { file: prepared },
        hint: "it needs the project's pyproject.toml and poetry.lock after `poetry add <package>`",
      });
  }
}

/** The first Python file under the root package's sources (sorted, so every run edits the same file). */
export async function findSourceFile(dir: string, sourcePaths: string[]): Promise<string | undefined> {
  for (const rel of [...sourcePaths].sort()) {
    const path = join(dir, rel);
    const info = await stat(path).catch(() => undefined);
    if (info?.isFile() && rel.endsWith(".py")) return path;
    if (info?.isDirectory()) {
      const entries = (await readdir(path, { recursive: true }))
        .map(String)
        .filter((f) => f.endsWith(".py"))
        .sort();
      if (entries[0]) return join(path, entries[0]);
    }
  }
  return undefined;
}

/** A source-only change: a comment (unique by `nonce`) appended to one of the package's Python files. */
export async function sourceEdit(file: string, nonce: string): Promise<void> {
  await appendFile(file, `# couplet bench: source edit ${nonce}\n`);
}
