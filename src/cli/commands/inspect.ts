// `couplet inspect IMAGE [OTHER]`: what is in an image, what it wastes, which shared libraries it lacks; or how two differ.
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { setFlagsFromString } from "node:v8";
import { type Command, Option } from "commander";
import { type EngineName, EXPORT_ENGINES } from "../../engine/types.js";
import { UserError } from "../../errors.js";
import { type OpenedImage, openImageArchive } from "../../image/archive.js";
import type { Comparison } from "../../image/compare.js";
import { DEFAULT_DEPTH } from "../../image/compare-depth.js";
import type { Exported } from "../../image/export.js";
import { failures, growthFailures, parseFailOn } from "../../image/fail-on.js";
import { formatTable } from "../../image/format.js";
import { type InspectReport, inspectImage } from "../../image/inspect.js";
import type { Project } from "../../project/types.js";
import { action } from "../run.js";

// Keep V8's young generation at its starting size (1 MB per semi-space) instead of letting it double up to 16 MB:
// inspect keeps most of what it allocates (an object per path), so the young generation grew to its limit on
// every image and was a quarter of the peak memory. Measured on the corpus: peak RSS 20 to 26 MB lower on the
// 400 MB to 1.2 GB images, CPU the same or lower. Read by V8 each time it would grow the space, so setting it
// when inspect runs, after start-up, takes effect (this process runs one command; set in the action, not when
// the module loads, as `couplet --help` loads every command's module).
const KEEP_YOUNG_GENERATION_SMALL = "--semi-space-growth-factor=1";

interface InspectFlags {
  format: "table" | "json" | "html";
  output?: string;
  failOn?: string;
  project?: string;
  engine?: EngineName;
  top: string;
  depth: string;
}

async function exists(target: string): Promise<boolean> {
  try {
    await stat(target);
    return true;
  } catch {
    return false;
  }
}

/** An image name or archive opened for reading: `use` runs while an engine's export still exists. */
async function withImage<T>(
  target: string,
  engine: EngineName | undefined,
  use: (opened: OpenedImage, exported: Exported | undefined) => Promise<T>,
): Promise<T> {
  // Loaded only when used (as the project analysis below): each module costs file reads before the first layer.
  const exported = (await exists(target))
    ? undefined
    : await (await import("../../image/export.js")).exportImage(target, engine);
  try {
    return await use(await openImageArchive(exported?.file ?? target), exported);
  } finally {
    await exported?.dispose();
  }
}

function positive(flag: string, text: string, min: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min)
    throw new UserError(`${flag} ${text}: expected a whole number of at least ${min}`);
  return value;
}

/** The report to --output (replaced whole, in one rename) or to standard output. */
async function emit(text: string, output: string | undefined): Promise<void> {
  if (output) {
    const { writeFiles } = await import("../../files/write.js");
    await writeFiles([{ path: resolve(output), text }], { replace: true, backup: false });
    return;
  }
  // `couplet inspect IMG | head` closes the pipe early: that is not an error worth a stack trace.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
  process.stdout.write(text);
}

async function render(report: InspectReport, format: InspectFlags["format"]): Promise<string> {
  if (format === "json") return `${JSON.stringify(report, null, 2)}\n`;
  if (format === "table") return formatTable(report);
  // Loaded only when asked for: the treemap layout is not worth its start-up cost for the other formats.
  const { renderInspectHtml } = await import("../../image/html.js");
  return renderInspectHtml(report);
}

async function renderComparison(comparison: Comparison, format: InspectFlags["format"]): Promise<string> {
  if (format === "json") return `${JSON.stringify(comparison, null, 2)}\n`;
  if (format === "table") return (await import("../../image/compare-format.js")).formatComparison(comparison);
  const { renderCompareHtml } = await import("../../image/compare-html.js");
  return renderCompareHtml(comparison);
}

export function register(program: Command): void {
  program
    .command("inspect")
    .description(
      "inspect an image (engine image name, docker-archive tar, OCI archive or OCI layout) without extracting it, or compare two images",
    )
    .argument("<image>", "image name, or path of a docker save / OCI archive / OCI layout folder")
    .argument("[other]", "a second image to compare the first with (what grew, what was added or removed)")
    .addOption(
      new Option("--format <format>", "output format (html: one self-contained page with charts)")
        .choices(["table", "json", "html"])
        .default("table"),
    )
    .option(
      "-o, --output <file>",
      "write the report to this file (replaced whole) instead of standard output",
    )
    .option(
      "--fail-on <conditions>",
      "exit 1 when one holds (comma-separated): missing-libraries, caches, toolchain, dev-deps, efficiency<0.95, wasted>20MB; comparing, growth>10MB (and the others hold for the second image)",
    )
    .option("--project <dir>", "the Poetry project the image was built from (finds dev-group packages)")
    .addOption(new Option("--engine <engine>", "engine to export an image name from").choices(EXPORT_ENGINES))
    .option(
      "--top <n>",
      "files, folders and waste paths to list (comparing: packages, folders and files)",
      "10",
    )
    .option(
      "--depth <n>",
      "comparing: path components a folder is cut to (site-packages folders: at least the package's)",
      String(DEFAULT_DEPTH),
    )
    .action(
      action(async (target: string, other: string | undefined, flags: InspectFlags) => {
        setFlagsFromString(KEEP_YOUNG_GENERATION_SMALL);
        const conditions = flags.failOn ? parseFailOn(flags.failOn) : [];
        const top = positive("--top", flags.top, 1);
        const depth = positive("--depth", flags.depth, 1);
        if (!other && conditions.some((c) => c.kind === "growth"))
          throw new UserError(
            "--fail-on growth: compares two images (couplet inspect A B --fail-on growth>10MB)",
          );
        const project = flags.project
          ? await (await import("../../project/analyze.js")).analyze(resolve(flags.project))
          : undefined;
        if (other) return compare(target, other, flags, { top, depth, project, conditions });
        const report = await withImage(target, flags.engine, async (opened, exported) => {
          const scanned = await inspectImage(opened, { top, ...(project ? { project } : {}) });
          if (exported) scanned.image.source = `${target} (${exported.engine})`;
          return scanned;
        });
        await emit(await render(report, flags.format), flags.output);
        return reportFailures(failures(report, conditions));
      }),
    );
}

function reportFailures(failed: string[]): number {
  for (const line of failed) process.stderr.write(`couplet: fail-on ${line}\n`);
  return failed.length > 0 ? 1 : 0;
}

/** `couplet inspect A B`: both images read at once, then compared. */
async function compare(
  first: string,
  second: string,
  flags: InspectFlags,
  options: {
    top: number;
    depth: number;
    project: Project | undefined;
    conditions: ReturnType<typeof parseFailOn>;
  },
): Promise<number> {
  // Loaded here, as the other modules only one path needs: each is read and compiled before the first layer.
  const { compareImages, scanForComparison } = await import("../../image/compare.js");
  const scan = (target: string) =>
    withImage(target, flags.engine, async (opened, exported) => {
      const scanned = await scanForComparison(opened, {
        top: options.top,
        ...(options.project ? { project: options.project } : {}),
      });
      if (exported) scanned.report.image.source = `${target} (${exported.engine})`;
      return scanned;
    });
  const [a, b] = await Promise.all([scan(first), scan(second)]);
  const comparison: Comparison = compareImages(a, b, { top: options.top, depth: options.depth });
  await emit(await renderComparison(comparison, flags.format), flags.output);
  const report: InspectReport = b.report;
  return reportFailures([
    ...growthFailures(comparison.delta, options.conditions),
    ...failures(report, options.conditions),
  ]);
}
