// Which locked packages go into the image, and which locked wheel each one installs from.
import { UserError } from "../errors.js";
import type { Platform } from "../project/platform.js";
import { buildNeed, productionPackages, productionSelection, type Selection } from "../project/selection.js";
import type { LockedFile, LockedPackage, Project } from "../project/types.js";
import type { BaseImage } from "./base.js";
import { PYPI_SIMPLE, type WheelRequest } from "./download.js";
import { bestWheel, supportedTags } from "./tags.js";

export interface Unassemblable {
  name: string;
  version: string;
  reason: string;
}

export type Target = Pick<BaseImage, "python" | "architecture" | "machine" | "glibc">;

/** The platform as project/selection.ts sees it: the base's architecture and glibc. */
export function platformOf(base: Target): Platform {
  return {
    os: "linux",
    arch: base.architecture === "arm64" ? "arm64" : "amd64",
    libc: "glibc",
    glibc: `${base.glibc.major}.${base.glibc.minor}`,
  };
}

/** The production selection (the one `couplet plan` makes) for the base's interpreter and platform. */
export function selectionFor(project: Project, base: Target): Selection {
  return productionSelection(project, {
    python: `${base.python.major}.${base.python.minor}`,
    platform: platformOf(base),
  });
}

export { productionPackages };

function sha256Of(file: LockedFile): string | undefined {
  return /^sha256:([0-9a-f]{64})$/.exec(file.hash)?.[1];
}

/** One wheel per package, or a UserError naming every package that cannot be installed without compiling. */
export function chooseWheels(packages: LockedPackage[], selection: Selection, base: Target): WheelRequest[] {
  const tags = supportedTags({ ...base.python, machine: base.machine, glibc: base.glibc });
  const chosen: WheelRequest[] = [];
  const refused: Unassemblable[] = [];
  const target = `CPython ${base.python.major}.${base.python.minor} on ${base.machine} glibc ${base.glibc.major}.${base.glibc.minor}`;
  for (const pkg of [...packages].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    // A path dependency has no locked file at all: Poetry builds it from the folder, which assemble does not do.
    if (pkg.localBuild) {
      refused.push({
        name: pkg.name,
        version: pkg.version,
        reason: `a path dependency (${pkg.localBuild.path}), built from its folder`,
      });
      continue;
    }
    // project/selection.ts decides what must be compiled, as for `couplet plan`; tags.ts then picks the wheel.
    const need = buildNeed(pkg, selection);
    if (need.kind === "compile") {
      refused.push({ name: pkg.name, version: pkg.version, reason: need.reason });
      continue;
    }
    const best = bestWheel(pkg.files, tags);
    if (!best) {
      refused.push({ name: pkg.name, version: pkg.version, reason: `no locked wheel fits ${target}` });
      continue;
    }
    const sha256 = sha256Of(best.file);
    if (!sha256) {
      refused.push({
        name: pkg.name,
        version: pkg.version,
        reason: `${best.file.file} has no sha256 in poetry.lock`,
      });
      continue;
    }
    chosen.push({
      name: pkg.name,
      version: pkg.version,
      filename: best.file.file,
      sha256,
      index: pkg.source ? pkg.source.url : PYPI_SIMPLE,
    });
  }
  if (refused.length > 0) {
    const list = refused.map((item) => `${item.name} ${item.version}: ${item.reason}`).join("; ");
    throw new UserError(`cannot assemble without compiling: ${list}`, {
      hint: "use `couplet build`, which compiles them in a builder stage",
    });
  }
  return chosen;
}
