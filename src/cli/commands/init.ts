// `couplet init [DIR]`: analyze a Poetry project and write its Dockerfile and .dockerignore.
import { join, relative, resolve } from "node:path";
import type { Command } from "commander";
import { escapeControl } from "../../errors.js";
import { writeFiles } from "../../files/write.js";
import { generate } from "../../pipeline.js";
import { addPlanOptions, PLATFORM_FLAG, PLATFORM_HELP, type PlanFlags, planOptions } from "../options.js";
import { action } from "../run.js";

interface InitFlags extends PlanFlags {
  force?: boolean;
  stdout?: boolean;
  platform?: string;
}

export function register(program: Command): void {
  addPlanOptions(
    program
      .command("init")
      .description("write an optimized Dockerfile and .dockerignore for the Poetry project in DIR")
      .argument("[dir]", "project folder", ".")
      .option(
        "--force",
        "replace existing files (each kept as a .bak copy; an existing .bak is never replaced)",
      )
      .option("--stdout", "print the Dockerfile instead of writing files")
      .option(PLATFORM_FLAG, PLATFORM_HELP),
  ).action(
    action(async (dir: string, flags: InitFlags) => {
      const options = planOptions(flags);
      const {
        project,
        plan: result,
        files,
      } = await generate(resolve(dir), options, undefined, flags.platform);
      for (const warning of result.warnings)
        process.stderr.write(`couplet: warning: ${escapeControl(warning)}\n`);
      if (flags.stdout) {
        process.stdout.write(files.dockerfile);
        return 0;
      }
      const written = await writeFiles(
        [
          { path: join(project.dir, "Dockerfile"), text: files.dockerfile },
          { path: join(project.dir, ".dockerignore"), text: files.dockerignore },
        ],
        { replace: flags.force === true },
      );
      for (const path of written.written)
        process.stdout.write(`wrote ${relative(process.cwd(), path) || path}\n`);
      for (const path of written.backups)
        process.stdout.write(`kept the previous file as ${relative(process.cwd(), path)}\n`);
      process.stdout.write(
        `CPython ${result.python.version}, Poetry ${result.poetry.version}, strategy ${result.strategy}: run \`couplet plan${dir === "." ? "" : ` ${dir}`}\` to see why\n`,
      );
      return 0;
    }),
  );
}
