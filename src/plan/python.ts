// Choose the CPython to build on: the newest the project allows for which no locked package must compile.
import { UserError } from "../errors.js";
import type { LockedPackage, Project } from "../project/types.js";
import { admitsMinor, toPep440 } from "./constraint.js";
import { installedOn } from "./packages.js";
import { CPYTHON_RELEASES, type CPythonRelease, minorNumber } from "./pythons.js";
import { type Arch, availability } from "./wheels.js";

export interface PythonChoice {
  release: CPythonRelease;
  reason: string;
  rejected: { version: string; reason: string }[];
}

/** Packages that have wheels, but none for this interpreter: choosing it would compile them. */
function forcedCompiles(
  packages: LockedPackage[],
  minor: string,
  arch: Arch,
  groups: string[],
): LockedPackage[] {
  return packages.filter(
    (pkg) =>
      installedOn(pkg, minor, groups) &&
      availability(pkg.files, minorNumber(minor), arch) === "no-wheel-for-python",
  );
}

function list(packages: LockedPackage[]): string {
  const names = packages.map((pkg) => `${pkg.displayName} ${pkg.version}`);
  return names.length <= 3
    ? names.join(", ")
    : `${names.slice(0, 3).join(", ")} and ${names.length - 3} more`;
}

function constraintError(project: Project, message: string, hint: string): UserError {
  const needle = project.python.constraint;
  const lines = project.pyprojectText.split("\n");
  const index = lines.findIndex((line) => line.includes(needle) && /python/.test(line));
  return new UserError(message, {
    location: { file: project.pyprojectPath, ...(index >= 0 ? { line: index + 1 } : {}) },
    hint,
  });
}

export function choosePython(
  project: Project,
  production: LockedPackage[],
  groups: string[],
  forced: string | undefined,
  arch: Arch = "x86_64",
): PythonChoice {
  const { constraint, source } = project.python;
  const alternatives = toPep440(constraint);
  if (!alternatives) {
    throw constraintError(
      project,
      `cannot read the python constraint "${constraint}" (${source})`,
      'write it as PEP 440 (">=3.10,<3.13") or Poetry syntax ("^3.10")',
    );
  }
  const allowed = CPYTHON_RELEASES.filter((release) => admitsMinor(alternatives, release.minor));
  const known = `${CPYTHON_RELEASES.at(-1)?.minor}–${CPYTHON_RELEASES[0]?.minor}`;

  if (forced !== undefined) {
    const release = CPYTHON_RELEASES.find((r) => r.minor === forced);
    if (!release) {
      throw new UserError(`--python ${forced} is not a CPython release couplet knows (${known})`, {
        hint: "pass a minor version such as 3.12",
      });
    }
    if (!allowed.includes(release)) {
      throw constraintError(
        project,
        `--python ${forced} is outside the project's python constraint "${constraint}" (${source})`,
        `choose one of ${allowed.map((r) => r.minor).join(", ") || "none"} or change the constraint`,
      );
    }
    const compiles = forcedCompiles(production, release.minor, arch, groups);
    return {
      release,
      reason: `CPython ${release.minor} was asked for with --python${
        compiles.length ? `; ${list(compiles)} will be compiled from source (no wheel for it)` : ""
      }`,
      rejected: [],
    };
  }

  if (allowed.length === 0) {
    throw constraintError(
      project,
      `the python constraint "${constraint}" (${source}) admits no CPython release couplet knows (${known})`,
      "widen the constraint, then run poetry lock",
    );
  }

  const rejected: { version: string; reason: string }[] = [];
  let best: { release: CPythonRelease; compiles: LockedPackage[] } | undefined;
  for (const release of allowed) {
    const compiles = forcedCompiles(production, release.minor, arch, groups);
    if (compiles.length === 0) {
      best = { release, compiles };
      break;
    }
    rejected.push({
      version: release.minor,
      reason: `${list(compiles)} ${compiles.length === 1 ? "has" : "have"} no ${arch} wheel for CPython ${release.minor} and would be compiled from source`,
    });
    if (!best || compiles.length < best.compiles.length) best = { release, compiles };
  }
  // `allowed` is not empty, so the loop set `best`.
  const chosen = best as { release: CPythonRelease; compiles: LockedPackage[] };
  const rejectedHere = rejected.filter((r) => r.version !== chosen.release.minor);
  const newest = chosen.release === allowed[0];
  const reason =
    chosen.compiles.length === 0
      ? `CPython ${chosen.release.minor} is the newest release allowed by "${constraint}" (${source})${
          newest ? "" : " for which every locked production package has a wheel or is pure Python"
        }`
      : `every CPython allowed by "${constraint}" (${source}) needs some package compiled; ${chosen.release.minor} needs the fewest (${list(chosen.compiles)})`;
  return { release: chosen.release, reason, rejected: rejectedHere };
}
