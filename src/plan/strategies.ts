// The strategies: couplet's optimal one and the seed document's five variants, as feature sets.
import { UserError } from "../errors.js";
import { type Plan, STRATEGIES, type StrategyName } from "./types.js";

type Features = Plan["features"];

interface Strategy {
  summary: string;
  features: Omit<Features, "cacheMounts"> & { cacheMounts: boolean };
  /** Run as a non-root user in the final image */
  nonRoot: boolean;
}

const seedBase = {
  poetryIsolated: false,
  lockKeyedDependencies: false,
  dependenciesBeforeCode: true,
  excludeDevGroups: false,
  developmentTarget: false,
  fullBuilderImage: false,
  compileBytecode: false,
} as const;

export const STRATEGY_TABLE: Record<StrategyName, Strategy> = {
  optimal: {
    summary:
      "every technique: pinned Poetry in its own venv, lock-keyed dependency layer, production groups only, builder/runtime stages with development and production targets, cache mounts, non-root user",
    features: {
      multiStage: true,
      developmentTarget: true,
      cacheMounts: true,
      poetryIsolated: true,
      lockKeyedDependencies: true,
      dependenciesBeforeCode: true,
      excludeDevGroups: true,
      cleanCaches: true,
      fullBuilderImage: false,
      compileBytecode: true,
    },
    nonRoot: true,
  },
  full: {
    summary: "seed variant: one stage on the full python image, Poetry installed with pip, all groups",
    features: {
      ...seedBase,
      multiStage: false,
      cacheMounts: false,
      cleanCaches: false,
      fullBuilderImage: true,
    },
    nonRoot: false,
  },
  slim: {
    summary: "seed variant: one stage on the slim image with build packages, Poetry's cache removed",
    features: { ...seedBase, multiStage: false, cacheMounts: false, cleanCaches: true },
    nonRoot: false,
  },
  layered: {
    summary: "seed variant: a builder stage and a slim runtime stage that receives the venv",
    features: { ...seedBase, multiStage: true, cacheMounts: false, cleanCaches: true },
    nonRoot: false,
  },
  multistage: {
    summary: "seed variant: builder, development and production targets; production without dev groups",
    features: {
      ...seedBase,
      multiStage: true,
      developmentTarget: true,
      excludeDevGroups: true,
      cacheMounts: false,
      cleanCaches: true,
    },
    nonRoot: false,
  },
  "slim-buildkit": {
    summary:
      "seed variant: the slim image with a BuildKit cache mount for Poetry's cache (written correctly)",
    features: { ...seedBase, multiStage: false, cacheMounts: true, cleanCaches: false },
    nonRoot: false,
  },
};

/** A strategy name from a user (option or config), or a UserError listing the valid ones. */
export function parseStrategy(name: string): StrategyName {
  if ((STRATEGIES as readonly string[]).includes(name)) return name as StrategyName;
  throw new UserError(`unknown strategy "${name}"`, { hint: `choose one of ${STRATEGIES.join(", ")}` });
}
