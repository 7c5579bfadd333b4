// Which dependency groups each locked package belongs to, for locks that do not say (lock-version 2.0 and 1.x).
import type { LockEdge } from "./lock.js";
import { parseRequirement } from "./names.js";
import type { LockedPackage } from "./types.js";

/** A group's direct dependency as pyproject.toml declares it. */
export interface DirectDependency {
  name: string;
  extras: string[];
}

export interface GroupRoots {
  name: string;
  dependencies: DirectDependency[];
}

/**
 * Walk `[package.dependencies]` from each group's direct dependencies, as Poetry's installer does: a package's
 * optional dependencies are followed only for the extras requested of it. Returns groups per package index.
 */
export function deriveGroups(
  packages: LockedPackage[],
  edges: LockEdge[][],
  roots: GroupRoots[],
): string[][] {
  const byName = new Map<string, number[]>();
  packages.forEach((pkg, i) => {
    const list = byName.get(pkg.name);
    if (list) list.push(i);
    else byName.set(pkg.name, [i]);
  });
  const result: string[][] = packages.map(() => []);
  for (const group of roots) {
    // Extras already followed per package: a package is revisited only when asked for a new extra.
    const seen = new Map<number, Set<string>>();
    const queue: DirectDependency[] = [...group.dependencies];
    for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
      for (const index of byName.get(next.name) ?? []) {
        let extras = seen.get(index);
        const fresh = extras === undefined;
        if (!extras) {
          extras = new Set();
          seen.set(index, extras);
          result[index]?.push(group.name);
        }
        const newExtras = next.extras.filter((e) => !extras.has(e));
        if (!fresh && newExtras.length === 0) continue;
        for (const e of newExtras) extras.add(e);
        const pkg = packages[index] as LockedPackage;
        const wanted = extraRequirements(pkg, extras);
        for (const edge of edges[index] ?? []) {
          const viaExtra = wanted.get(edge.name);
          if (!edge.optional || viaExtra)
            queue.push({ name: edge.name, extras: [...edge.extras, ...(viaExtra ?? [])] });
        }
      }
    }
  }
  return result;
}

/**
 * What a package's active extras ask for: requirement name -> extras requested of it. An extra may name the
 * package itself with more extras (dask's `complete = ["dask[array,dataframe,...]", ...]`): those are activated
 * too, in `active`, until nothing new appears.
 */
function extraRequirements(pkg: LockedPackage, active: Set<string>): Map<string, string[]> {
  const wanted = new Map<string, string[]>();
  const pending = [...active];
  for (let extra = pending.pop(); extra !== undefined; extra = pending.pop()) {
    const specs = Object.hasOwn(pkg.extras, extra) ? (pkg.extras[extra] ?? []) : [];
    for (const spec of specs) {
      const req = parseRequirement(spec);
      if (!req) continue;
      if (req.name === pkg.name) {
        for (const e of req.extras)
          if (!active.has(e)) {
            active.add(e);
            pending.push(e);
          }
      } else wanted.set(req.name, [...(wanted.get(req.name) ?? []), ...req.extras]);
    }
  }
  return wanted;
}
