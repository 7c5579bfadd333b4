// `couplet plan [DIR]`: what was detected and why, as text or as the plan's JSON.
import { resolve } from "node:path";
import type { Command } from "commander";
import { generate } from "../../pipeline.js";
import { explainPlan } from "../../plan/explain.js";
import { addPlanOptions, PLATFORM_FLAG, PLATFORM_HELP, type PlanFlags, planOptions } from "../options.js";
import { action } from "../run.js";

export function register(program: Command): void {
  addPlanOptions(
    program
      .command("plan")
      .description("explain what couplet detected in the project in DIR and the Dockerfile it would write")
      .argument("[dir]", "project folder", ".")
      .option("--json", "print the plan as JSON")
      .option(PLATFORM_FLAG, PLATFORM_HELP),
  ).action(
    action(async (dir: string, flags: PlanFlags & { json?: boolean; platform?: string }) => {
      const options = planOptions(flags);
      const { plan: result } = await generate(resolve(dir), options, undefined, flags.platform);
      process.stdout.write(flags.json ? `${JSON.stringify(result, null, 2)}\n` : explainPlan(result));
      return 0;
    }),
  );
}
