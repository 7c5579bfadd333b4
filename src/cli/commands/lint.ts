// `couplet lint [FILE...]`: report (and optionally fix) what keeps a Dockerfile from the optimized image.
import { copyFile, open, readFile, rename, stat, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { type Command, Option } from "commander";
import { formatUserError, isUserError, UserError } from "../../errors.js";
import { loadContext } from "../../lint/context.js";
import { checkInput, fixText, lintText, MAX_BYTES } from "../../lint/engine.js";
import { FORMATS, FORMATTERS, type FormatName } from "../../lint/formatters/index.js";
import { type Finding, SEVERITIES, type Severity, severityRank } from "../../lint/types.js";
import { action } from "../run.js";

interface LintFlags {
  format: FormatName;
  failOn: Severity;
  fix?: boolean;
  target?: string;
  project: boolean;
}

async function readDockerfile(file: string): Promise<string> {
  const info = await stat(file).catch(() => undefined);
  if (!info)
    throw new UserError("no such file", {
      location: { file },
      hint: "pass the Dockerfile's path: couplet lint path/to/Dockerfile",
    });
  if (!info.isFile()) throw new UserError("not a file", { location: { file } });
  // Refuse huge files before reading them whole.
  if (info.size > MAX_BYTES)
    throw new UserError(
      `refusing to lint a ${(info.size / 1024 / 1024).toFixed(1)} MiB file: a Dockerfile is far smaller`,
      {
        location: { file },
      },
    );
  return checkInput(await readFile(file), file);
}

/** Replace a file without ever leaving it half-written: write a sibling temp file, flush, rename over. */
async function writeAtomically(file: string, text: string): Promise<void> {
  const temp = join(dirname(file), `.${basename(file)}.couplet-${process.pid}.tmp`);
  const handle = await open(temp, "w", (await stat(file)).mode);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, file);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

async function lintOne(file: string, flags: LintFlags, say: (line: string) => void): Promise<Finding[]> {
  const text = await readDockerfile(file);
  const context = await loadContext(file, text, { project: flags.project });
  for (const note of context.notes) say(note);
  const options = {
    project: context.project,
    dockerignore: context.dockerignore,
    config: context.config,
    target: flags.target,
  };
  if (!flags.fix) return lintText(text, file, options);
  const result = fixText(text, file, options);
  if (result.text !== text) {
    await copyFile(file, `${file}.bak`);
    await writeAtomically(file, result.text);
  }
  const left = result.remaining.length;
  say(
    `${file}: ${result.fixed ? `fixed ${result.fixed} problem(s) (original kept as ${file}.bak)` : "nothing could be fixed automatically"}${left ? `; ${left} left that need a manual change (listed below)` : ""}`,
  );
  return result.remaining;
}

export function register(program: Command): void {
  program
    .command("lint")
    .description("find Poetry/Docker anti-patterns in Dockerfiles, explain their cost, fix the safe ones")
    .argument("[files...]", "Dockerfiles to lint", ["Dockerfile"])
    .addOption(new Option("--format <format>", "output format").choices(FORMATS).default("stylish"))
    .addOption(
      new Option("--fail-on <severity>", "exit 1 when a finding is at least this severe")
        .choices(SEVERITIES)
        .default("warning"),
    )
    .option("--fix", "apply the safe fixes in place (the original is kept as FILE.bak)")
    .option("--target <stage>", "the build target: the stage that becomes the image (default: the last)")
    .option("--no-project", "do not read the Poetry project next to the Dockerfile")
    .action(
      action(async (files: string[], flags: LintFlags) => {
        const findings: Finding[] = [];
        let failed = false;
        const say = (line: string) => process.stderr.write(`couplet: ${line}\n`);
        for (const file of files) {
          try {
            findings.push(...(await lintOne(file, flags, say)));
          } catch (error) {
            // One bad file is reported on one line; the others are still linted.
            if (!isUserError(error) || error.exitCode !== 2 || error.location?.file !== file) throw error;
            say(formatUserError(error));
            failed = true;
          }
        }
        const output = FORMATTERS[flags.format](findings);
        if (output) process.stdout.write(output);
        if (failed) return 2;
        return findings.some((f) => severityRank(f.severity) >= severityRank(flags.failOn)) ? 1 : 0;
      }),
    );
}
