// The one definition of "production": a selection (groups, extras, python, platform) → the packages it installs and how each gets built.
import { quote, UserError } from "../errors.js";
import { linuxCPython, packageApplies } from "./markers.js";
import { DEFAULT_PLATFORM, machine, type Platform, platformName } from "./platform.js";
import type { LockedPackage, Project } from "./types.js";
import { availability } from "./wheels.js";

export interface Selection {
  /** Dependency groups installed, "main" first */
  groups: string[];
  /** Extras of the root package installed */
  extras: string[];
  /**
   * CPython minor version ("3.12"); undefined when not known (a Dockerfile whose base image does not say):
   * markers on the version stay undecided, and a package must compile only when no wheel fits the platform.
   */
  python: string | undefined;
  platform: Platform;
}

/** Why a package is compiled rather than installed from a wheel. */
export type CompileCause =
  /** A directory, git, url or file source: Poetry builds it */
  | "source"
  /** The lock names no wheel at all */
  | "sdist-only"
  /** Wheels are locked, but none for this platform (OS, architecture, C library) */
  | "no-wheel-for-platform"
  /** Wheels for this platform exist, but none for this CPython */
  | "no-wheel-for-python";

export type BuildNeed = { kind: "wheel" } | { kind: "compile"; cause: CompileCause; reason: string };

/**
 * Production as the project declares it: the main group plus `[tool.couplet] with`, the extras of
 * `[tool.couplet] extras`. Names that pyproject.toml does not declare are a UserError pointing at it.
 */
export function productionSelection(
  project: Project,
  target: { python?: string | undefined; platform?: Platform } = {},
): Selection {
  const names = project.groups.map((group) => group.name);
  for (const wanted of project.couplet.with)
    if (!names.includes(wanted))
      throw configError(
        project,
        `[tool.couplet] with names the group ${quote(wanted)}, which pyproject.toml does not declare`,
        `declared groups: ${names.join(", ") || "none"}`,
      );
  for (const extra of project.couplet.extras)
    if (!Object.hasOwn(project.extras, extra))
      throw configError(
        project,
        `[tool.couplet] extras names ${quote(extra)}, which pyproject.toml does not declare`,
        `declared extras: ${Object.keys(project.extras).join(", ") || "none"}`,
      );
  return {
    groups: [...new Set(["main", ...project.couplet.with])],
    extras: [...project.couplet.extras],
    python: target.python,
    platform: target.platform ?? DEFAULT_PLATFORM,
  };
}

function configError(project: Project, message: string, hint: string): UserError {
  return new UserError(message, { location: { file: project.pyprojectPath }, hint });
}

/** Packages reachable from the selected extras through the lock's dependency graph. */
function extrasClosure(project: Project, extras: string[]): Set<string> {
  const byName = new Map(project.lock.packages.map((pkg) => [pkg.name, pkg]));
  const pending = extras.flatMap(
    (extra) => (Object.hasOwn(project.extras, extra) ? project.extras[extra] : []) ?? [],
  );
  const seen = new Set<string>();
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    if (seen.has(name)) continue;
    seen.add(name);
    for (const dependency of byName.get(name)?.dependencies ?? []) pending.push(dependency);
  }
  return seen;
}

/** The locked packages the selection's groups and extras take, before markers are looked at. */
export function selectedPackages(project: Project, selection: Selection): LockedPackage[] {
  const wanted = new Set(selection.groups);
  const fromExtras = extrasClosure(project, selection.extras);
  return project.lock.packages.filter((pkg) => {
    if (pkg.optional && !fromExtras.has(pkg.name)) return false;
    return pkg.groups.some((group) => wanted.has(group)) || fromExtras.has(pkg.name);
  });
}

/**
 * Is the package installed on this python and platform? Its markers decide (pywinpty is Windows-only,
 * PyPyDispatcher is PyPy-only); a marker that cannot be decided keeps the package, the safe side.
 */
export function installedIn(pkg: LockedPackage, selection: Selection): boolean {
  const env = linuxCPython(selection.python, machine(selection.platform.arch));
  return packageApplies(pkg, env, selection.groups) !== false;
}

/** The packages an image built with this selection contains: groups and extras, then markers. */
export function productionPackages(project: Project, selection: Selection): LockedPackage[] {
  return selectedPackages(project, selection).filter((pkg) => installedIn(pkg, selection));
}

/** Locked packages that only non-selected groups take: they have no business in this image. */
export function developmentOnlyPackages(project: Project, selection: Selection): LockedPackage[] {
  const wanted = new Set(selection.groups);
  return project.lock.packages.filter(
    (pkg) => pkg.groups.length > 0 && !pkg.groups.some((group) => wanted.has(group)),
  );
}

/** Does the package install from a locked wheel on this python and platform, or must it be compiled, and why? */
export function buildNeed(pkg: LockedPackage, selection: Selection): BuildNeed {
  if (pkg.localBuild) {
    // A pure-Python folder becomes a wheel by copying files: no compiler for it.
    const { path, compiles } = pkg.localBuild;
    if (compiles === undefined) return { kind: "wheel" };
    return { kind: "compile", cause: "source", reason: `built from ${path}: ${compiles}` };
  }
  if (pkg.source && pkg.source.type !== "legacy")
    return { kind: "compile", cause: "source", reason: `built from its ${pkg.source.type} source` };
  const minor = selection.python === undefined ? undefined : Number(selection.python.split(".")[1]);
  const state = availability(pkg.files, minor, selection.platform);
  if (state === "wheel") return { kind: "wheel" };
  if (state === "no-wheel-for-python")
    return {
      kind: "compile",
      cause: "no-wheel-for-python",
      reason: `no wheel for CPython ${selection.python}`,
    };
  if (!pkg.files.some((f) => f.file.endsWith(".whl")))
    return { kind: "compile", cause: "sdist-only", reason: "only a source distribution is locked" };
  const linux = pkg.files.some((f) => /-(many|musl)?linux[^-]*\.whl$/.test(f.file));
  // Linux wheels for another architecture, C library or newer glibc: name the platform they miss.
  const reason = !linux
    ? "no Linux wheel is locked, only a source distribution"
    : `no ${platformName(selection.platform)}${selection.platform.glibc ? ` (glibc ${selection.platform.glibc})` : ""} wheel is locked, only a source distribution`;
  return { kind: "compile", cause: "no-wheel-for-platform", reason };
}
