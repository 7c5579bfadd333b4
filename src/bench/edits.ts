// The edits between builds: the seed's cache-busting comment, a real added dependency, a source-only change.
import { appendFile, copyFile, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { UserError } from "../errors.js";

/** The seed's edit: `echo '# cache busting comment' >> pyproject.toml`. */
export async function cacheBustingEdit(dir: string): Promise<void> {
  await appendFile(join(dir, "pyproject.toml"), "# cache busting comment\n");
}

/** Replaces pyproject.toml and poetry.lock with a prepared pair that adds a dependency. */
export async function dependencyEdit(dir: string, prepared: string): Promise<void> {
  for (const name of ["pyproject.toml", "poetry.lock"]) await copyFile(join(prepared, name), join(dir, name));
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

/** A source-only change: a comment appended to one of the package's Python files. */
export async function sourceEdit(file: string, run: number): Promise<void> {
  await appendFile(file, `# couplet bench: source edit ${run}\n`);
}
