// `couplet init [DIR]`: analyze a Poetry project and write its Dockerfile and .dockerignore.
import { join, relative, resolve } from "node:path";
import { type Command, Option } from "commander";
import { escapeControl, UserError } from "../../errors.js";
import { type FileToWrite, writeFiles } from "../../files/write.js";
import { renderGithubWorkflow, WORKFLOW_PATH } from "../../generate/github-workflow.js";
import { generate } from "../../pipeline.js";
import { findRepository } from "../../project/repository.js";
import { addPlanOptions, PLATFORM_FLAG, PLATFORM_HELP, type PlanFlags, planOptions } from "../options.js";
import { action } from "../run.js";

interface InitFlags extends PlanFlags {
  force?: boolean;
  stdout?: boolean;
  platform?: string;
  ci?: "github";
  ciRegistry?: string;
}

/** A workflow builds amd64 and arm64 unless told otherwise, so the plan must know arm64's wheels too. */
const CI_PLATFORMS = "linux/amd64,linux/arm64";

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
      .option("--stdout", "print the Dockerfile (with --ci, the workflow) instead of writing files")
      .option(PLATFORM_FLAG, `${PLATFORM_HELP}; with --ci, ${CI_PLATFORMS}`)
      .addOption(
        new Option(
          "--ci <provider>",
          `also write a CI workflow that lints, builds (amd64 and arm64) and gates the image with inspect: ${WORKFLOW_PATH} at the repository's root`,
        ).choices(["github"]),
      )
      .option(
        "--ci-registry <repository>",
        "with --ci: push the image to this repository (e.g. ghcr.io/acme/app) and keep the layer cache there (default: no push, GitHub Actions' cache)",
      ),
  ).action(
    action(async (dir: string, flags: InitFlags) => {
      if (flags.ciRegistry !== undefined && !flags.ci)
        throw new UserError("--ci-registry only applies with --ci github", {
          hint: "add --ci github, or leave --ci-registry out",
        });
      const options = planOptions(flags);
      const platform = flags.platform ?? (flags.ci ? CI_PLATFORMS : undefined);
      const { project, plan: result, files } = await generate(resolve(dir), options, undefined, platform);
      for (const warning of result.warnings)
        process.stderr.write(`couplet: warning: ${escapeControl(warning)}\n`);
      const targets: FileToWrite[] = [
        { path: join(project.dir, "Dockerfile"), text: files.dockerfile },
        { path: join(project.dir, ".dockerignore"), text: files.dockerignore },
      ];
      if (flags.ci) {
        const repository = await findRepository(project.dir);
        const workflow = renderGithubWorkflow(result, {
          projectPath: repository.projectPath,
          branch: repository.defaultBranch ?? "main",
          registry: flags.ciRegistry,
        });
        if (flags.stdout) {
          process.stdout.write(workflow);
          return 0;
        }
        targets.push({ path: join(repository.root, WORKFLOW_PATH), text: workflow });
      }
      if (flags.stdout) {
        process.stdout.write(files.dockerfile);
        return 0;
      }
      const written = await writeFiles(targets, { replace: flags.force === true });
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
