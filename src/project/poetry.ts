// What a Poetry version can do: the one place that answers "is Poetry >= X" for plan, render and lint.
import { gte, valid } from "@renovatebot/pep440";

/** true/false when the version is known; undefined when it is not (absent or unparsable): the caller decides. */
export interface PoetryCapabilities {
  /** Dependency groups: `[tool.poetry.group.*]`, `--only`, `--with`, `--without` (1.2) */
  groups: boolean | undefined;
  /** `poetry install --no-dev` exists (deprecated in 1.2, removed in 2.0) */
  noDev: boolean | undefined;
  /** `poetry export` is built in (moved to poetry-plugin-export in 2.0) */
  bundledExport: boolean | undefined;
  /** PEP 621 `[project]` metadata and `poetry sync` (2.0) */
  pep621: boolean | undefined;
  /** PEP 735 `[dependency-groups]` (2.2) */
  pep735: boolean | undefined;
}

/**
 * The policy: a valid version is compared; "latest" (an unpinned install) is the newest Poetry; anything else
 * (no version, or one that is not PEP 440) is unknown, never guessed.
 */
export function poetryCapabilities(version: string | undefined): PoetryCapabilities {
  const since = (min: string): boolean | undefined => {
    if (version === "latest") return true;
    if (version === undefined || !valid(version)) return undefined;
    return gte(version, min);
  };
  const before = (removed: string): boolean | undefined => {
    const after = since(removed);
    return after === undefined ? undefined : !after;
  };
  return {
    groups: since("1.2.0"),
    noDev: before("2.0.0"),
    bundledExport: before("2.0.0"),
    pep621: since("2.0.0"),
    pep735: since("2.2.0"),
  };
}
