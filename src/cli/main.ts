#!/usr/bin/env node
// couplet's command line: parse arguments, call the library, print; nothing else lives here.
import { Command, CommanderError } from "commander";
import { VERSION } from "../version.js";
import { register as bench } from "./commands/bench.js";
import { register as build } from "./commands/build.js";
import { register as explain } from "./commands/explain.js";
import { register as init } from "./commands/init.js";
import { register as inspect } from "./commands/inspect.js";
import { register as lint } from "./commands/lint.js";
import { register as plan } from "./commands/plan.js";
import { register as rules } from "./commands/rules.js";
import { reportError } from "./run.js";

const program = new Command("couplet")
  .description("Lean, fast-rebuilding, reproducible container images for Poetry projects")
  .version(VERSION)
  .showHelpAfterError("(run couplet --help for usage)")
  .exitOverride();

for (const register of [init, plan, lint, rules, explain, build, bench, inspect]) register(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // --help and --version end here with code 0; usage errors were already printed by commander.
    process.exitCode = error.exitCode === 0 ? 0 : 2;
  } else {
    process.exitCode = reportError(error);
  }
}
