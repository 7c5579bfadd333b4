// `couplet inspect IMAGE|ARCHIVE`: what is in an image, what it wastes, and which shared libraries it lacks.
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { type Command, Option } from "commander";
import { UserError } from "../../errors.js";
import { openImageArchive } from "../../image/archive.js";
import { ENGINES, type EngineName, exportImage } from "../../image/export.js";
import { failures, parseFailOn } from "../../image/fail-on.js";
import { formatTable } from "../../image/format.js";
import { inspectImage } from "../../image/inspect.js";
import { analyze } from "../../project/analyze.js";
import { action } from "../run.js";

interface InspectFlags {
  format: "table" | "json";
  failOn?: string;
  project?: string;
  engine?: EngineName;
  top: string;
}

async function exists(target: string): Promise<boolean> {
  try {
    await stat(target);
    return true;
  } catch {
    return false;
  }
}

export function register(program: Command): void {
  program
    .command("inspect")
    .description(
      "inspect an image (engine image name, docker-archive tar, OCI archive or OCI layout) without extracting it",
    )
    .argument("<image>", "image name, or path of a docker save / OCI archive / OCI layout folder")
    .addOption(new Option("--format <format>", "output format").choices(["table", "json"]).default("table"))
    .option(
      "--fail-on <conditions>",
      "exit 1 when one holds (comma-separated): missing-libraries, caches, toolchain, dev-deps, efficiency<0.95, wasted>20MB",
    )
    .option("--project <dir>", "the Poetry project the image was built from (finds dev-group packages)")
    .addOption(new Option("--engine <engine>", "engine to export an image name from").choices(ENGINES))
    .option("--top <n>", "files, folders and waste paths to list", "10")
    .action(
      action(async (target: string, flags: InspectFlags) => {
        const conditions = flags.failOn ? parseFailOn(flags.failOn) : [];
        const top = Number(flags.top);
        if (!Number.isInteger(top) || top < 1)
          throw new UserError(`--top ${flags.top}: expected a positive number`);
        const project = flags.project ? await analyze(resolve(flags.project)) : undefined;
        const exported = (await exists(target)) ? undefined : await exportImage(target, flags.engine);
        let report: Awaited<ReturnType<typeof inspectImage>>;
        try {
          const opened = await openImageArchive(exported?.file ?? target);
          report = await inspectImage(opened, { top, ...(project ? { project } : {}) });
        } finally {
          await exported?.dispose();
        }
        if (exported) report.image.source = `${target} (${exported.engine})`;
        // `couplet inspect IMG | head` closes the pipe early: that is not an error worth a stack trace.
        process.stdout.on("error", (error: NodeJS.ErrnoException) => {
          if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
          throw error;
        });
        process.stdout.write(
          flags.format === "json" ? `${JSON.stringify(report, null, 2)}\n` : formatTable(report),
        );
        const failed = failures(report, conditions);
        for (const line of failed) process.stderr.write(`couplet: fail-on ${line}\n`);
        return failed.length > 0 ? 1 : 0;
      }),
    );
}
