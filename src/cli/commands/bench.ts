// `couplet bench [DIR]`: build each strategy on a real engine, measure size and rebuild times, print a report.
import { mkdtempSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { renderHtml } from "../../bench/html.js";
import { renderMarkdown } from "../../bench/markdown.js";
import { BenchProgressBar } from "../../bench/progress-bar.js";
import { readBenchReport } from "../../bench/read-report.js";
import { runBench } from "../../bench/run.js";
import type { BenchReport } from "../../bench/types.js";
import { BuildFailed } from "../../engine/build.js";
import { UserError } from "../../errors.js";
import { parseStrategy } from "../../plan/strategies.js";
import { STRATEGIES, type StrategyName } from "../../plan/types.js";
import { addPlanOptions, type PlanFlags, planOptions } from "../options.js";
import { action } from "../run.js";
import {
  addEngineOptions,
  type EngineFlags,
  engineFromFlags,
  interruptSignal,
  requestFlags,
} from "./build.js";

const FORMATS = ["table", "json", "html"] as const;

interface BenchFlags extends PlanFlags, EngineFlags {
  strategies: string;
  runs: string;
  format: string;
  output?: string;
  depChange?: string;
  pythonImage?: string;
  fullPythonImage?: string;
  fromJson?: string;
  note: string[];
}

export function parseStrategies(text: string): StrategyName[] {
  const names = text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 0)
    throw new UserError("--strategies is empty", { hint: `choose from ${STRATEGIES.join(", ")}` });
  return [...new Set(names.map(parseStrategy))];
}

export function renderReport(report: BenchReport, format: string): string {
  if (format === "json") return `${JSON.stringify(report, null, 2)}\n`;
  if (format === "html") return renderHtml(report);
  return renderMarkdown(report);
}

export function register(program: Command): void {
  addEngineOptions(
    addPlanOptions(
      program
        .command("bench")
        .description("build each strategy for the project in DIR and measure image size and (re)build times")
        .argument("[dir]", "project folder (only read: edits happen in temporary copies)", ".")
        .option(
          "--strategies <list>",
          "comma-separated strategies",
          ["full", "slim", "layered", "multistage", "slim-buildkit", "optimal"].join(","),
        )
        .option("--runs <n>", "runs per strategy (medians, min and max are reported)", "1")
        .option("--format <format>", `report format: ${FORMATS.join(", ")}`, "table")
        .option("-o, --output <file>", "write the report here instead of standard output")
        .option(
          "--dep-change <dir>",
          "folder with pyproject.toml and poetry.lock after adding a real dependency",
        )
        .option("--python-image <ref>", "PYTHON_IMAGE for the strategies built on the slim image")
        .option("--full-python-image <ref>", "PYTHON_IMAGE for the `full` strategy (the full python image)")
        .option("--from-json <file>", "render a saved JSON report again instead of building")
        .option(
          "--note <text>",
          "a note to add to the report (e.g. how the base images differ), repeatable",
          (v: string, p: string[]) => [...p, v],
          [],
        ),
    ),
  ).action(
    action(async (dir: string, flags: BenchFlags) => {
      if (!(FORMATS as readonly string[]).includes(flags.format))
        throw new UserError(`unknown format "${flags.format}"`, {
          hint: `choose one of ${FORMATS.join(", ")}`,
        });
      let report: BenchReport;
      if (flags.fromJson) {
        report = await readBenchReport(resolve(flags.fromJson));
      } else {
        const runs = Number(flags.runs);
        if (!Number.isInteger(runs) || runs < 1)
          throw new UserError(`--runs must be a whole number ≥ 1, got "${flags.runs}"`);
        const strategies = parseStrategies(flags.strategies);
        const { strategy: _ignored, ...plan } = planOptions(flags);
        const engine = await engineFromFlags(flags);
        for (const warning of engine.warnings) process.stderr.write(`couplet: warning: ${warning}\n`);
        const logDir = mkdtempSync(join(tmpdir(), "couplet-bench-logs-"));
        process.stderr.write(
          `couplet: benchmarking ${strategies.join(", ")} with ${engine.label}, ${runs} run(s); logs in ${logDir}\n`,
        );
        const interrupt = interruptSignal();
        const bar = new BenchProgressBar({
          write: (t) => process.stderr.write(t),
          isTTY: process.stderr.isTTY,
          columns: process.stderr.columns,
        });
        try {
          report = await runBench({
            dir,
            engine,
            strategies,
            runs,
            planOptions: plan,
            ...(flags.depChange ? { depChange: resolve(flags.depChange) } : {}),
            baseImages: {
              ...(flags.pythonImage ? { slim: flags.pythonImage } : {}),
              ...(flags.fullPythonImage ? { full: flags.fullPythonImage } : {}),
            },
            request: requestFlags(flags),
            signal: interrupt.signal,
            onProgress: (p) => bar.update(p),
            logDir,
          });
        } catch (error) {
          bar.stop();
          if (error instanceof BuildFailed)
            process.stderr.write(
              `couplet: last lines of the log:\n${error.tail.map((l) => `  | ${l}`).join("\n")}\n`,
            );
          throw error;
        } finally {
          bar.stop();
          interrupt.dispose();
        }
      }
      report = {
        ...report,
        notes: [...report.notes, ...flags.note.filter((n) => !report.notes.includes(n))],
      };
      const text = renderReport(report, flags.format);
      if (flags.output) await writeFile(resolve(flags.output), text);
      else process.stdout.write(text);
      return 0;
    }),
  );
}
