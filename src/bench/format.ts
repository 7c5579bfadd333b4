// Numbers as the seed document prints them: sizes in MB like `docker images`, times in seconds.
import type { BenchReport, Scenario, StrategyResult } from "./types.js";

export function megabytes(bytes: number): string {
  // docker images prints SI megabytes ("912MB"); the same unit keeps the seed's figures comparable.
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)} GB` : `${Math.round(bytes / 1e6)} MB`;
}

export function seconds(value: number | null): string {
  return value === null ? "–" : `${value.toFixed(1)} s`;
}

/** The median, with the range when there was more than one run. */
export function timeCell(result: StrategyResult, scenario: Scenario, runs: number): string {
  const median = result[scenario];
  if (median === null) return "–";
  const min = result.min[scenario];
  const max = result.max[scenario];
  return runs > 1 && min !== null && max !== null
    ? `${seconds(median)} (${min.toFixed(1)}–${max.toFixed(1)})`
    : seconds(median);
}

export function machineLine(report: BenchReport): string {
  const m = report.machine;
  return `${m.cpus} × ${m.cpuModel}, ${Math.round(m.memoryBytes / 2 ** 30)} GiB RAM, ${m.os}`;
}
