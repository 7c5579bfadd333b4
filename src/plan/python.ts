// Choose the CPython to build on: the newest the project allows for which no locked package must compile.
import { UserError } from "../errors.js";
import { DEBIAN_GLIBC, machine, type Platform } from "../project/platform.js";
import { buildNeed, productionPackages, type Selection } from "../project/selection.js";
import type { LockedPackage, Project } from "../project/types.js";
import { admitsMinor, toPep440 } from "./constraint.js";
import { CPYTHON_RELEASES, type CPythonRelease } from "./pythons.js";

export interface PythonChoice {
  release: CPythonRelease;
  reason: string;
  rejected: { version: string; reason: string }[];
}

/** The selection an image on this release and platform installs: the release's Debian fixes the glibc. */
export function selectionOn(
  base: Omit<Selection, "python" | "platform">,
  release: CPythonRelease,
  platform: Platform,
): Selection {
  return { ...base, python: release.minor, platform: { ...platform, glibc: DEBIAN_GLIBC[release.debian] } };
}

/** Packages that have wheels for the platform, but none for this interpreter: choosing it would compile them. */
function forcedCompiles(
  project: Project,
  base: Omit<Selection, "python" | "platform">,
  release: CPythonRelease,
  platforms: Platform[],
): LockedPackage[] {
  const found = new Set<LockedPackage>();
  for (const platform of platforms) {
    const selection = selectionOn(base, release, platform);
    for (const pkg of productionPackages(project, selection)) {
      const need = buildNeed(pkg, selection);
      if (need.kind === "compile" && need.cause === "no-wheel-for-python") found.add(pkg);
    }
  }
  return [...found];
}

function list(packages: LockedPackage[]): string {
  const names = packages.map((pkg) => `${pkg.displayName} ${pkg.version}`);
  return names.length <= 3
    ? names.join(", ")
    : `${names.slice(0, 3).join(", ")} and ${names.length - 3} more`;
}

function constraintError(project: Project, message: string, hint: string): UserError {
  return new UserError(message, { location: project.python.location, hint });
}

/** "x86_64" for one platform, "x86_64 or aarch64" for several: what the rejected release has no wheel for. */
function machines(platforms: Platform[]): string {
  return [...new Set(platforms.map((p) => `${machine(p.arch)}${p.libc === "musl" ? " musl" : ""}`))].join(
    " or ",
  );
}

/**
 * The newest CPython the constraint allows on which no production package of `base` must compile for want of
 * a wheel for that interpreter, on every platform.
 */
export function choosePython(
  project: Project,
  base: Omit<Selection, "python" | "platform">,
  platforms: Platform[],
  forced: string | undefined,
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
    const compiles = forcedCompiles(project, base, release, platforms);
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
    const compiles = forcedCompiles(project, base, release, platforms);
    if (compiles.length === 0) {
      best = { release, compiles };
      break;
    }
    rejected.push({
      version: release.minor,
      reason: `${list(compiles)} ${compiles.length === 1 ? "has" : "have"} no ${machines(platforms)} wheel for CPython ${release.minor} and would be compiled from source`,
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
