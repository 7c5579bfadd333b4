// The lock's path dependencies (local folders and archives): where they are and whether installing one compiles.
import { opendir, readFile, stat } from "node:fs/promises";
import { isAbsolute, join, relative, resolve } from "node:path";
import { UserError } from "../errors.js";
import { decodeUtf8 } from "../files/read.js";
import { get, isTable, parseToml } from "./toml.js";
import type { Lock, PathDependency } from "./types.js";

/** Build backends that only copy Python files into a wheel (poetry-core unless it runs a build script). */
const PURE_BACKENDS = [
  "poetry.core.masonry.api",
  "poetry.masonry.api",
  "flit_core.buildapi",
  "hatchling.build",
  "pdm.backend",
  "setuptools.build_meta",
  "setuptools.build_meta:__legacy__",
];

/** Sources a build compiles: C, C++, Cython, Rust, Fortran. */
const NATIVE_SOURCE = /\.(c|cc|cpp|cxx|pyx|rs|f|f90)$/i;
const SKIPPED_FOLDERS = new Set([".git", ".venv", "venv", "node_modules", "__pycache__", "build", "dist"]);

export async function readPathDependencies(dir: string, lock: Lock): Promise<PathDependency[]> {
  const found = lock.packages.filter(
    (pkg) => pkg.source?.type === "directory" || pkg.source?.type === "file",
  );
  return Promise.all(
    found.map(async (pkg) => {
      const path = (pkg.source?.url ?? "").replace(/^file:\/\//, "").replace(/\\/g, "/");
      const absolute = resolve(dir, path);
      const inside = relative(dir, absolute);
      const inContext = inside !== "" && !inside.startsWith("..") && !isAbsolute(inside);
      const kind = pkg.source?.type === "file" ? "file" : "directory";
      const compiles = !inContext
        ? undefined
        : kind === "file"
          ? archiveCompiles(path)
          : await folderCompiles(absolute, path);
      return { name: pkg.name, version: pkg.version, path, kind, develop: pkg.develop, inContext, compiles };
    }),
  );
}

function archiveCompiles(path: string): string | undefined {
  // A wheel is installed as it is; an sdist is built, and may hold anything.
  return path.endsWith(".whl") ? undefined : "a source archive is built at install time";
}

async function folderCompiles(absolute: string, path: string): Promise<string | undefined> {
  const pyproject = join(absolute, "pyproject.toml");
  const bytes = await readFile(pyproject).catch(() => undefined);
  if (bytes === undefined) {
    const setup = await stat(join(absolute, "setup.py")).catch(() => undefined);
    if (setup === undefined)
      throw new UserError(`path dependency ${path} has neither pyproject.toml nor setup.py`, {
        location: { file: pyproject },
        hint: "check the path in pyproject.toml, then run `poetry lock`",
      });
  } else {
    const root = parseToml(decodeUtf8(bytes, pyproject, "pyproject.toml"), pyproject);
    const system = get(root, "build-system");
    const backend = isTable(system) ? get(system, "build-backend") : undefined;
    if (typeof backend === "string" && !PURE_BACKENDS.includes(backend))
      return `its build backend ${backend} compiles`;
    const tool = get(root, "tool");
    const poetry = isTable(tool) ? get(tool, "poetry") : undefined;
    if (isTable(poetry) && get(poetry, "build") !== undefined)
      return "it runs a build script ([tool.poetry.build])";
  }
  const native = await findNativeSource(absolute, 4);
  return native ? `it has native sources (${relative(absolute, native)})` : undefined;
}

async function findNativeSource(folder: string, depth: number): Promise<string | undefined> {
  if (depth < 0) return undefined;
  const entries = await opendir(folder).catch(() => undefined);
  if (!entries) return undefined;
  for await (const entry of entries) {
    const path = join(folder, entry.name);
    if (entry.isFile() && (NATIVE_SOURCE.test(entry.name) || entry.name === "Cargo.toml")) return path;
    if (entry.isDirectory() && !SKIPPED_FOLDERS.has(entry.name)) {
      const found = await findNativeSource(path, depth - 1);
      if (found) return found;
    }
  }
  return undefined;
}
