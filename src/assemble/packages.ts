// Which locked packages go into the image, and which locked wheel each one installs from.
import { UserError } from "../errors.js";
import type { Platform } from "../project/platform.js";
import { buildNeed, productionPackages, productionSelection, type Selection } from "../project/selection.js";
import type { LockedFile, LockedPackage, Project } from "../project/types.js";
import type { BaseImage } from "./base.js";
import { PYPI_SIMPLE, type WheelRequest } from "./download.js";
import { type LocalWheel, pickLocalWheel, wheelCommand } from "./local-wheels.js";
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

export interface WheelOptions {
  /** `--wheels DIR`: its wheels stand in for packages whose lock has none that fits (never for one that has) */
  local?: { dir: string; wheels: LocalWheel[] };
  /** The base as buildah names it, for the command the refusal prints; default BASE */
  baseRef?: string;
}

/** One wheel per package, or a UserError naming every package that cannot be installed without compiling. */
export function chooseWheels(
  packages: LockedPackage[],
  selection: Selection,
  base: Target,
  options: WheelOptions = {},
): WheelRequest[] {
  const tags = supportedTags({ ...base.python, machine: base.machine, glibc: base.glibc });
  const chosen: WheelRequest[] = [];
  const refused: Unassemblable[] = [];
  // Packages a wheel built once in the base would let through (a path dependency is the project's own code).
  const buildable: LockedPackage[] = [];
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
    const best = need.kind === "compile" ? undefined : bestWheel(pkg.files, tags);
    if (!best) {
      const reason = need.kind === "compile" ? need.reason : `no locked wheel fits ${target}`;
      const local = options.local && pickLocalWheel(pkg, options.local.wheels, tags, target);
      if (local && "wheel" in local) {
        chosen.push({
          name: pkg.name,
          version: pkg.version,
          filename: local.wheel.file,
          sha256: local.wheel.sha256,
          index: options.local?.dir as string,
          path: local.wheel.path,
        });
        continue;
      }
      refused.push({
        name: pkg.name,
        version: pkg.version,
        reason: local ? `${reason}; ${local.reason}` : reason,
      });
      buildable.push(pkg);
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
    const wheels = buildable.length
      ? `make their wheels once in a container of the base (one that compiles needs a compiler and headers there): \`${wheelCommand(buildable, options.baseRef ?? "BASE")}\`, then add \`--wheels wheels\` to couplet assemble; or `
      : "";
    throw new UserError(`cannot assemble without compiling: ${list}`, {
      hint: `${wheels}use \`couplet build\`, which compiles them in a builder stage`,
    });
  }
  return chosen;
}
