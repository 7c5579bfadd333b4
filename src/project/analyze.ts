// Read a Poetry project folder once (pyproject.toml, poetry.lock, a few file checks) into a Project.
import { readFile, stat } from "node:fs/promises";
import { basename, dirname, join, posix, resolve } from "node:path";
import { describeFsError, InputFileError, UserError } from "../errors.js";
import { decodeUtf8 } from "../files/read.js";
import { detectApp } from "./app.js";
import { isLockFresh } from "./content-hash.js";
import { deriveGroups } from "./groups.js";
import { parseLockWithEdges } from "./lock.js";
import { readPathDependencies } from "./path-dependencies.js";
import { readPyproject } from "./pyproject.js";
import { parseToml, TomlDoc } from "./toml.js";
import type { Project } from "./types.js";

export async function analyze(dir: string): Promise<Project> {
  let absolute = resolve(dir);
  const info = await stat(absolute).catch(() => undefined);
  // Pointing at the project's pyproject.toml is as good as pointing at its folder.
  if (info?.isFile() && basename(absolute) === "pyproject.toml") absolute = dirname(absolute);
  else if (!info?.isDirectory())
    throw new UserError(`no such project folder: ${dir}`, { location: { file: dir } });

  const pyprojectPath = join(absolute, "pyproject.toml");
  const lockPath = join(absolute, "poetry.lock");
  // Every read starts at once: the files are independent and the slow part is waiting on the disk.
  const [pyprojectText, lockText, hasDockerignore] = await Promise.all([
    readText(pyprojectPath),
    readText(lockPath),
    exists(join(absolute, ".dockerignore")),
  ]);
  if (pyprojectText === undefined)
    throw new UserError("no pyproject.toml here", {
      location: { file: pyprojectPath },
      hint: "run couplet in a Poetry project's folder, or pass its path",
    });
  const doc: TomlDoc = new TomlDoc(pyprojectText, pyprojectPath, parseToml(pyprojectText, pyprojectPath));
  const pyproject = readPyproject(doc, basename(absolute));
  if (lockText === undefined)
    throw new UserError("no poetry.lock next to pyproject.toml", {
      location: { file: lockPath },
      hint: "run `poetry lock` to create it",
    });
  const { lock, edges } = parseLockWithEdges(lockText, lockPath);

  // Lock 2.1 records groups per package; older locks are resolved against pyproject's groups like Poetry does.
  if (lock.lockVersion !== "2.1") {
    const derived = deriveGroups(lock.packages, edges, pyproject.groupRoots);
    lock.packages.forEach((pkg, i) => {
      const groups = derived[i] ?? [];
      // A 1.x `category` stays as the answer for packages no declared dependency reaches (a stale lock).
      if (groups.length > 0) pkg.groups = groups;
    });
  }

  let sourcePaths = pyproject.packageMode
    ? pyproject.packages
      ? outermostPaths(pyproject.packages)
      : await defaultLayout(absolute, pyproject.moduleName)
    : [];
  // Many applications keep Poetry's default package mode with no package named after the project
  // (fastapi-realworld-example-app: name "fastapi-realworld-example-app", code in app/): Poetry cannot
  // install that root, so the image treats it as an application, as with package-mode = false.
  const rootPackageMissing =
    pyproject.packageMode && pyproject.packages === undefined && sourcePaths.length === 0;
  const packageMode = pyproject.packageMode && !rootPackageMissing;
  if (!packageMode) sourcePaths = [];
  const app = await detectApp(absolute, packageMode ? sourcePaths : undefined, pyproject.scripts);
  const pathDependencies = await readPathDependencies(absolute, lock);
  for (const dep of pathDependencies) {
    const pkg = lock.packages.find((p) => p.name === dep.name);
    if (pkg && dep.inContext) pkg.localBuild = { path: dep.path, compiles: dep.compiles };
  }
  const { packages: _packages, moduleName: _moduleName, groupRoots: _roots, ...rest } = pyproject;
  return {
    ...rest,
    packageMode,
    ...(rootPackageMissing ? { rootPackageMissing } : {}),
    dir: absolute,
    pyprojectPath,
    sourcePaths,
    app,
    lock,
    pathDependencies,
    lockFresh: isLockFresh(doc.root, lock.contentHash, lock.generatedBy, lock.lockVersion),
    hasDockerignore,
  };
}

async function readText(path: string): Promise<string | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new InputFileError(`cannot read ${basename(path)}: ${describeFsError(error)}`, {
      location: { file: path },
      hint: "check the path and its permissions",
    });
  }
  // TOML is UTF-8 by definition; a Latin-1 file read as UTF-8 would put U+FFFD into names silently.
  return decodeUtf8(bytes, path, `${basename(path)} (TOML must be UTF-8)`);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** poetry-core's default when `packages` is absent: `<module>/`, `src/<module>/`, or a single-module file. */
async function defaultLayout(dir: string, module: string): Promise<string[]> {
  const candidates = [module, `src/${module}`, `${module}.py`, `src/${module}.py`];
  const found = await Promise.all(candidates.map((c) => exists(join(dir, c))));
  const index = found.indexOf(true);
  return index < 0 ? [] : [candidates[index] as string];
}

/**
 * `packages` entries without those inside another entry: lnbits lists `lnbits` and `lnbits/py.typed`, and
 * copying both put py.typed into the image twice, in two layers. A repeated entry (one per `format`) goes too.
 */
function outermostPaths(paths: string[]): string[] {
  const clean = paths.map((path) => posix.normalize(path).replace(/\/+$/, ""));
  return paths.filter((_, i) => {
    const path = clean[i] as string;
    return clean.indexOf(path) === i && !clean.some((other) => path.startsWith(`${other}/`));
  });
}
