// Questions several rules ask of a Dockerfile: which Poetry version a stage runs, which groups an install takes.
import type { Env } from "../env.js";
import {
  commandEnv,
  hasOption,
  optionValues,
  type PoetryCall,
  poetryCall,
  poetryInstallations,
} from "../facts.js";
import { chain, chainSteps, copies, type RunStep, runs, type Stage } from "../model.js";
import type { ShellCommand } from "../shell.js";
import type { LintProject } from "../types.js";

/** The Poetry a stage uses: the pinned version installed in its chain, "latest" when unpinned, else the lock's. */
export function poetryVersionOf(
  stage: Stage,
  project: LintProject | undefined,
): string | "latest" | undefined {
  let found: string | "latest" | undefined;
  for (const step of runs(chainSteps(stage))) {
    for (const install of poetryInstallations(step)) {
      if (install.version === undefined) found = "latest";
      else if (!install.version.includes("$")) found = install.version;
      else found = project?.lockPoetryVersion ?? found;
    }
  }
  return found ?? project?.lockPoetryVersion;
}

export interface PoetryInstallCall extends PoetryCall {
  step: RunStep;
}

/** `poetry install` / `poetry sync` commands of the given stages, in order. */
export function poetryInstalls(stages: Stage[]): PoetryInstallCall[] {
  const found: PoetryInstallCall[] = [];
  for (const stage of stages)
    for (const step of runs(stage.steps))
      for (const command of step.commands) {
        const call = poetryCall(command);
        if (call && (call.subcommand === "install" || call.subcommand === "sync"))
          found.push({ ...call, step });
      }
  return found;
}

export function installsRoot(call: PoetryCall): boolean {
  return !hasOption(call.args, "--no-root");
}

/** Group names given to --only/--with/--without, comma lists split. */
export function groupsOf(args: string[], option: string): string[] {
  return optionValues(args, option)
    .flatMap((v) => v.split(","))
    .map((g) => g.trim())
    .filter(Boolean);
}

/** Non-production groups a `poetry install` puts in the environment; "*" means some unknown dev group(s). */
export function devGroupsInstalled(call: PoetryCall, project: LintProject | undefined): string[] {
  const { args } = call;
  if (hasOption(args, "--only-root")) return [];
  const production = new Set(project?.production.groups ?? ["main"]);
  const only = groupsOf(args, "--only");
  if (only.length) return only.filter((g) => !production.has(g));
  if (hasOption(args, "--no-dev")) return [];
  const without = new Set(groupsOf(args, "--without"));
  const withGroups = groupsOf(args, "--with").filter((g) => !production.has(g));
  if (!project) {
    // Without the project we cannot know its groups: `--without something` is taken as deliberate.
    const defaults = without.size ? [] : ["*"];
    return [...new Set([...defaults, ...withGroups.filter((g) => !without.has(g))])];
  }
  const defaults = project.devGroups.filter((g) => !g.optional).map((g) => g.name);
  return [...new Set([...defaults, ...withGroups])].filter((g) => !without.has(g));
}

/** Stages whose files reach the image through its FROM chain. */
export function imageChain(target: Stage | undefined): Stage[] {
  return target ? chain(target) : [];
}

/** Environment of a command (its NAME=value prefixes and earlier `export`s applied). */
export function envOf(step: RunStep, command: ShellCommand): Env {
  return commandEnv(step, command);
}

export { copies, runs };
