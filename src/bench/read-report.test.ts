import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatUserError, InputFileError } from "../errors.js";
import { readBenchReport } from "./read-report.js";

const saved = new URL("../../docs/bench-flask-uwsgi.json", import.meta.url).pathname;

async function failure(text: string | undefined): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "couplet-bench-json-"));
  const file = join(dir, "report.json");
  if (text !== undefined) writeFileSync(file, text);
  const error = await readBenchReport(file).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(InputFileError);
  const line = formatUserError(error as InputFileError);
  expect(line).not.toContain("\n");
  return line;
}

describe("readBenchReport", () => {
  it("reads the report bench wrote into docs/ as it is", async () => {
    expect(await readBenchReport(saved)).toEqual(JSON.parse(readFileSync(saved, "utf8")));
  });

  it("refuses a missing file, text that is not JSON and JSON of another shape in one line", async () => {
    expect(await failure(undefined)).toMatch(/report\.json.*no such file/);
    expect(await failure("{bad")).toMatch(/not valid JSON/);
    expect(await failure("{}")).toMatch(/not a couplet bench report: schemaVersion/);
    const report = JSON.parse(readFileSync(saved, "utf8"));
    report.results[0].runs[0].builds.cold.seconds = "37.9";
    expect(await failure(JSON.stringify(report))).toMatch(/results\[0\]\.runs\[0\]\.builds\.cold\.seconds/);
  });
});
