// Which packages a project puts in production and which only in development, for inspect's findings; loaded only
// when inspect is given a project, since the selection brings the marker and wheel logic with it.
import { DEFAULT_PLATFORM, type Platform } from "../project/platform.js";
import { developmentOnlyPackages, productionPackages, productionSelection } from "../project/selection.js";
import type { Project } from "../project/types.js";

export interface ProductionPackages {
  /** Normalized names of the packages production installs */
  main: Set<string>;
  /** Normalized names of the packages only non-production groups install */
  developmentOnly: Set<string>;
}

function platformOf(architecture: string | undefined): Platform {
  return architecture === "arm64" ? { ...DEFAULT_PLATFORM, arch: "arm64" } : DEFAULT_PLATFORM;
}

/** `architecture` is the image config's ("amd64", "arm64"): markers on platform_machine are decided for it. */
export function productionPackagesFor(
  project: Project,
  architecture: string | undefined,
): ProductionPackages {
  // The interpreter is not known here (an image may hold several): markers on it stay undecided.
  const selection = productionSelection(project, { platform: platformOf(architecture) });
  return {
    main: new Set(productionPackages(project, selection).map((pkg) => pkg.name)),
    developmentOnly: new Set(developmentOnlyPackages(project, selection).map((pkg) => pkg.name)),
  };
}
