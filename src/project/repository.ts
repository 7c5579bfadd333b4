// Where a project sits in its git repository: the repository's root and the branch its remote calls the default.
import { readFile, stat } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";

export interface Repository {
  /** The folder holding `.git` (the project folder itself when no repository encloses it) */
  root: string;
  /** The project folder relative to the root, with forward slashes ("." for the root itself) */
  projectPath: string;
  /** origin's default branch when the clone recorded it, else undefined */
  defaultBranch: string | undefined;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** The default branch a clone recorded (`git clone` writes refs/remotes/origin/HEAD); undefined when unknown. */
async function originHead(gitDir: string): Promise<string | undefined> {
  const text = await readFile(join(gitDir, "refs/remotes/origin/HEAD"), "utf8").catch(() => undefined);
  return text ? /^ref: refs\/remotes\/origin\/(\S+)\s*$/.exec(text)?.[1] : undefined;
}

/** Walk up from the project folder to the nearest `.git` (a folder, or a worktree's or submodule's file). */
export async function findRepository(projectDir: string): Promise<Repository> {
  for (let dir = projectDir; ; dir = dirname(dir)) {
    const git = join(dir, ".git");
    if (await exists(git)) {
      const path = relative(dir, projectDir).split(sep).join("/");
      return { root: dir, projectPath: path === "" ? "." : path, defaultBranch: await originHead(git) };
    }
    if (dirname(dir) === dir) return { root: projectDir, projectPath: ".", defaultBranch: undefined };
  }
}
