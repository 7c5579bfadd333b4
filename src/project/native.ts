// The native-needs table (data/native-needs.json): Debian packages a PyPI package needs to build and to run.
import { readFileSync } from "node:fs";
import { normalizeName } from "./names.js";
import type { NativeNeed, Project } from "./types.js";

export type DebianRelease = "bookworm" | "trixie";

export interface NativeEntry extends NativeNeed {
  /** Per-release replacements of `build`/`runtime` where Debian renamed packages */
  debian?: Partial<Record<DebianRelease, { build: string[]; runtime: string[] }>>;
}

export interface NativeTable {
  default: NativeNeed;
  packages: Record<string, NativeEntry>;
}

let cached: NativeTable | undefined;

/** The shipped table, read once (src/project and dist/project both sit two levels below the package root). */
export function nativeTable(): NativeTable {
  cached ??= JSON.parse(
    readFileSync(new URL("../../data/native-needs.json", import.meta.url), "utf8"),
  ) as NativeTable;
  return cached;
}

/**
 * What `packageName` needs on `debian`: the project's `[tool.couplet.native]` entry when it has one (it replaces
 * the shipped entry, so a user can also correct it), else the shipped table; undefined for unknown packages.
 */
export function nativeNeedFor(
  packageName: string,
  project?: Project,
  debian: DebianRelease = "bookworm",
): NativeNeed | undefined {
  const name = normalizeName(packageName);
  const own =
    project && Object.hasOwn(project.couplet.native, name) ? project.couplet.native[name] : undefined;
  if (own) return { ...own, note: own.note ?? "from [tool.couplet.native] in pyproject.toml" };
  const packages = nativeTable().packages;
  const entry = Object.hasOwn(packages, name) ? packages[name] : undefined;
  if (!entry) return undefined;
  const release = entry.debian?.[debian];
  const need: NativeNeed = {
    build: [...(release?.build ?? entry.build)],
    runtime: [...(release?.runtime ?? entry.runtime)],
  };
  if (entry.note !== undefined) need.note = entry.note;
  if (entry.runtimeWithWheel !== undefined) need.runtimeWithWheel = entry.runtimeWithWheel;
  if (entry.unlessInstalled !== undefined) need.unlessInstalled = [...entry.unlessInstalled];
  return need;
}

/** The guess for a package that must be compiled but is in no table: a C compiler and libc headers. */
export function defaultNativeNeed(): NativeNeed {
  const fallback = nativeTable().default;
  return { ...fallback, build: [...fallback.build], runtime: [...fallback.runtime] };
}
