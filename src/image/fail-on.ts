// `--fail-on` conditions for CI: parse them once, then say which ones an inspection report meets.
import { UserError } from "../errors.js";
import type { InspectReport } from "./inspect.js";

export type Condition =
  | { kind: "missing-libraries" }
  | { kind: "caches" }
  | { kind: "toolchain" }
  | { kind: "dev-deps" }
  | { kind: "efficiency"; below: number }
  | { kind: "wasted"; above: number }
  /** Comparing two images: the second is more than `above` bytes larger than the first */
  | { kind: "growth"; above: number };

const UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};

/** "20MB" -> 20000000 (SI units, as dive's config reads them; KiB/MiB/GiB are binary). */
export function parseSize(text: string): number | undefined {
  const match = /^\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  if (!match) return undefined;
  const unit = UNITS[(match[2] ?? "").toLowerCase()];
  return unit === undefined ? undefined : Math.round(Number(match[1]) * unit);
}

const HINT =
  "conditions: missing-libraries, caches, toolchain, dev-deps, efficiency<0.95, wasted>20MB, growth>10MB (comparing two images)";

export function parseFailOn(text: string): Condition[] {
  const conditions: Condition[] = [];
  for (const raw of text
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean)) {
    if (raw === "missing-libraries" || raw === "caches" || raw === "toolchain" || raw === "dev-deps") {
      conditions.push({ kind: raw });
      continue;
    }
    const efficiency = /^efficiency\s*<\s*([0-9.]+)$/.exec(raw);
    if (efficiency) {
      const below = Number(efficiency[1]);
      if (!(below >= 0 && below <= 1))
        throw new UserError(`--fail-on ${raw}: efficiency is between 0 and 1`, { hint: HINT });
      conditions.push({ kind: "efficiency", below });
      continue;
    }
    const threshold = /^(wasted|growth)\s*>\s*(.+)$/.exec(raw);
    if (threshold) {
      const above = parseSize(threshold[2] as string);
      if (above === undefined)
        throw new UserError(`--fail-on ${raw}: unknown size (write e.g. 20MB)`, { hint: HINT });
      conditions.push({ kind: threshold[1] as "wasted" | "growth", above });
      continue;
    }
    throw new UserError(`--fail-on: unknown condition ${JSON.stringify(raw)}`, { hint: HINT });
  }
  return conditions;
}

/** The growth conditions a comparison meets (B's size minus A's), one line each. */
export function growthFailures(delta: number, conditions: Condition[]): string[] {
  return conditions
    .filter((c): c is Extract<Condition, { kind: "growth" }> => c.kind === "growth" && delta > c.above)
    .map((c) => `growth>${c.above}: the second image is ${delta} bytes larger than the first`);
}

/** One line per condition that holds (growth aside: see growthFailures). */
export function failures(report: InspectReport, conditions: Condition[]): string[] {
  const out: string[] = [];
  const has = (kind: string) => report.findings.some((f) => f.kind === kind && f.bytes > 0);
  for (const condition of conditions) {
    switch (condition.kind) {
      case "missing-libraries":
        if (report.missingLibraries.length > 0)
          out.push(
            `missing-libraries: ${report.missingLibraries.length} needed libraries are not in the image`,
          );
        break;
      case "caches":
        if (has("cache")) out.push("caches: package-manager caches are in the image");
        break;
      case "toolchain":
        if (has("toolchain")) out.push("toolchain: a compiler or C headers are in the image");
        break;
      case "dev-deps":
        if (has("dev-dependency")) out.push("dev-deps: packages from non-production groups are installed");
        break;
      case "efficiency":
        if (report.efficiency < condition.below)
          out.push(`efficiency<${condition.below}: efficiency is ${report.efficiency.toFixed(4)}`);
        break;
      case "wasted":
        if (report.wastedBytes > condition.above)
          out.push(`wasted>${condition.above}: ${report.wastedBytes} bytes are wasted`);
        break;
      case "growth":
        break;
    }
  }
  return out;
}
