// `couplet lint [FILE...]`: report (and optionally fix) what keeps a Dockerfile from the optimized image.
import { type Command, Option } from "commander";
import { formatUserError, isUserError } from "../../errors.js";
import { lintFile } from "../../lint/file.js";
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
            const result = await lintFile(file, {
              fix: flags.fix,
              target: flags.target,
              project: flags.project,
            });
            for (const note of result.notes) say(note);
            findings.push(...result.findings);
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
