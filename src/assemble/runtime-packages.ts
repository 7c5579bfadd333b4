// The plan's runtime Debian packages against the base's package database: assemble runs no apt, so the base must have them.

import { isInstalled } from "../image/dpkg.js";
import type { Plan } from "../plan/types.js";
import type { DebianPackages } from "./base.js";

export interface RuntimePackage {
  /** The Debian package, as the plan names it (`libpq5`, or `name:arch`) */
  name: string;
  /** The plan's reasons: the Python package that wants it, and where that is written */
  wantedBy: string[];
  /** `installed` in the base; `missing` from it; `unchecked` when the base has no package database */
  base: "installed" | "missing" | "unchecked";
}

/**
 * Each runtime package of the plan (what `couplet build` apt-installs in the final stage) and whether the base
 * has it installed, or a package that provides it (apt-get would install nothing more). These are found by no ELF check: a program run by subprocess (ssdeep), a library loaded by
 * ctypes or cffi (psycopg 3's libpq) is in no file's DT_NEEDED.
 */
export function runtimePackagesIn(
  plan: Plan,
  dpkg: DebianPackages | null,
  architecture: string,
): RuntimePackage[] {
  return plan.native.runtimePackages.map((name) => ({
    name,
    wantedBy: plan.native.runtimeReasons?.[name] ?? [],
    base: !dpkg
      ? "unchecked"
      : isInstalled(name, [...dpkg.installed, ...dpkg.provided], architecture)
        ? "installed"
        : "missing",
  }));
}

/** `ssdeep (for openrelik-worker-common 0.5.0: [tool.couplet.native...] runtime, pyproject.toml line 31)`. */
export function describeRuntimePackage(item: RuntimePackage): string {
  return item.wantedBy.length ? `${item.name} (for ${item.wantedBy.join("; ")})` : item.name;
}

/** A word as sh reads it: plain words as they are, anything else in single quotes. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * How to make a base that has the packages, as one shell line: buildah makes a working container of the base,
 * apt-get installs them (the lists are removed again, as the generated Dockerfile does), and the container is
 * committed to a docker-archive in the current folder, replacing one made before; the working container is removed
 * whether that worked or not. `baseRef` is the base as buildah names it (see buildahReference); `arch` picks the platform of an index.
 */
export function derivedBaseCommand(
  packages: string[],
  baseRef: string,
  output: string,
  arch?: string,
): string {
  const install = `apt-get update && apt-get install -y --no-install-recommends ${packages.join(" ")} && rm -rf /var/lib/apt/lists/*`;
  const from = `buildah from${arch ? ` --arch ${arch}` : ""} ${shellWord(baseRef)}`;
  // buildah commit refuses an existing docker-archive ("doesn't support modifying existing images"): the line
  // writes a .part file and moves it over, so it runs again in the same folder, also when a later refusal's base
  // is the file the last one made.
  const part = shellWord(`${output}.part`);
  return `c=$(${from}) && buildah run "$c" -- sh -c '${install}' && rm -f ${part} && buildah commit "$c" docker-archive:${part} && mv ${part} ${shellWord(output)}; buildah rm "$c"`;
}
