// Read a saved `couplet bench --format json` report back, checked against its shape before anything renders it.
import * as v from "valibot";
import { InputFileError } from "../errors.js";
import { readTextFile } from "../files/read.js";
import { describeIssues } from "../image/schemas.js";
import { STRATEGIES } from "../plan/types.js";
import { type BenchReport, SCENARIOS } from "./types.js";

const seconds = v.nullable(v.number());
const spread = {
  sizeBytes: v.number(),
  cold: seconds,
  depChange: seconds,
  realDepChange: seconds,
  codeChange: seconds,
};
const build = v.object({ seconds: v.number(), cacheHits: v.number(), steps: v.number() });

const report = v.object({
  schemaVersion: v.literal(1),
  project: v.string(),
  date: v.string(),
  couplet: v.string(),
  engine: v.object({ name: v.string(), label: v.string(), version: v.string() }),
  machine: v.object({ os: v.string(), cpus: v.number(), cpuModel: v.string(), memoryBytes: v.number() }),
  runs: v.number(),
  results: v.array(
    v.object({
      ...spread,
      strategy: v.picklist(STRATEGIES),
      bytesAboveBase: v.number(),
      baseImage: v.string(),
      min: v.object(spread),
      max: v.object(spread),
      runs: v.array(
        v.object({
          sizeBytes: v.number(),
          baseBytes: v.number(),
          builds: v.partial(v.object(Object.fromEntries(SCENARIOS.map((s) => [s, build])))),
        }),
      ),
    }),
  ),
  notes: v.array(v.string()),
});

/** The report in `file`, or one InputFileError line saying why it is not one (missing, not JSON, wrong shape). */
export async function readBenchReport(file: string): Promise<BenchReport> {
  const text = await readTextFile(file);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InputFileError(`not valid JSON (${(error as Error).message})`, {
      location: { file },
      hint: "give a file written by couplet bench --format json",
    });
  }
  const parsed = v.safeParse(report, value);
  if (!parsed.success)
    throw new InputFileError(`not a couplet bench report: ${describeIssues(parsed.issues)}`, {
      location: { file },
      hint: "give a file written by couplet bench --format json",
    });
  return parsed.output as BenchReport;
}
