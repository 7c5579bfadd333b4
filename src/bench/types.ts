// The bench report: plain JSON-serializable data, rendered to Markdown, JSON or HTML.
import type { StrategyName } from "../plan/types.js";

export const SCENARIOS = ["cold", "depChange", "realDepChange", "codeChange"] as const;
export type Scenario = (typeof SCENARIOS)[number];

export const SCENARIO_TITLES: Record<Scenario, string> = {
  cold: "Uncached build",
  depChange: "Rebuild after cache-busting edit",
  realDepChange: "Rebuild after adding a dependency",
  codeChange: "Rebuild after a source edit",
};

export interface BuildMeasure {
  seconds: number;
  /** Steps the engine took from its cache, of `steps` */
  cacheHits: number;
  steps: number;
}

export interface RunMeasure {
  sizeBytes: number;
  baseBytes: number;
  builds: Partial<Record<Scenario, BuildMeasure>>;
}

export interface Spread {
  sizeBytes: number;
  cold: number | null;
  depChange: number | null;
  realDepChange: number | null;
  codeChange: number | null;
}

export interface StrategyResult extends Spread {
  strategy: StrategyName;
  /** Final image size minus the base image it starts from */
  bytesAboveBase: number;
  baseImage: string;
  min: Spread;
  max: Spread;
  runs: RunMeasure[];
}

export interface BenchReport {
  schemaVersion: 1;
  project: string;
  date: string;
  couplet: string;
  engine: { name: string; label: string; version: string };
  machine: { os: string; cpus: number; cpuModel: string; memoryBytes: number };
  runs: number;
  /** Sizes and medians: seconds (null where the scenario was not run) */
  results: StrategyResult[];
  notes: string[];
}
