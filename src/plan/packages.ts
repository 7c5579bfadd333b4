// Which locked packages end up in an environment, given the groups and extras it installs.
import { linuxCPython, packageApplies } from "../project/markers.js";
import type { LockedPackage, Project } from "../project/types.js";

/** Packages reachable from the selected extras through the lock's dependency graph. */
function extrasClosure(project: Project, extras: string[]): Set<string> {
  const byName = new Map(project.lock.packages.map((pkg) => [pkg.name, pkg]));
  const pending = extras.flatMap((extra) => project.extras[extra] ?? []);
  const seen = new Set<string>();
  while (pending.length > 0) {
    const name = pending.pop() as string;
    if (seen.has(name)) continue;
    seen.add(name);
    for (const dependency of byName.get(name)?.dependencies ?? []) pending.push(dependency);
  }
  return seen;
}

export function packagesFor(project: Project, groups: string[], extras: string[]): LockedPackage[] {
  const wanted = new Set(groups);
  const fromExtras = extrasClosure(project, extras);
  return project.lock.packages.filter((pkg) => {
    if (pkg.optional && !fromExtras.has(pkg.name)) return false;
    return pkg.groups.some((group) => wanted.has(group)) || fromExtras.has(pkg.name);
  });
}

/**
 * Is the package installed on Linux CPython 3.<minor>? Its markers decide (pywinpty is Windows-only,
 * PyPyDispatcher is PyPy-only); a marker that cannot be decided keeps the package, the safe side.
 */
export function installedOn(pkg: LockedPackage, minor: string, groups: string[]): boolean {
  return packageApplies(pkg, linuxCPython(minor, "x86_64"), groups) !== false;
}
