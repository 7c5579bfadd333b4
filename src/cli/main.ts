#!/usr/bin/env node
// couplet's command line: parse arguments, call the library, print; nothing else lives here.
import { Command, CommanderError } from "commander";
import { VERSION } from "../version.js";
import { reportError } from "./run.js";

type Register = (program: Command) => void;

// Each command is loaded only when it runs (all of them for --help): `couplet init` should not pay
// for parsing the lint rules, the engines and the image readers at start-up.
const COMMANDS: Record<string, () => Promise<{ register: Register }>> = {
  init: () => import("./commands/init.js"),
  plan: () => import("./commands/plan.js"),
  lint: () => import("./commands/lint.js"),
  rules: () => import("./commands/rules.js"),
  explain: () => import("./commands/explain.js"),
  build: () => import("./commands/build.js"),
  bench: () => import("./commands/bench.js"),
  inspect: () => import("./commands/inspect.js"),
  assemble: () => import("./commands/assemble.js"),
};

const program = new Command("couplet")
  .description("Lean, fast-rebuilding, reproducible container images for Poetry projects")
  .version(VERSION)
  // A usage mistake is one line like every other error: `couplet: <what> (run couplet --help for usage)`.
  .configureOutput({
    outputError: (text, write) =>
      write(`couplet: ${text.replace(/^error: /, "").trimEnd()} (run couplet --help for usage)\n`),
  })
  .exitOverride();

const args = process.argv.slice(2);
const invoked = args.find((arg) => !arg.startsWith("-"));
// `couplet --version` alone needs no command (it loaded all nine and their libraries: 199 modules, 0.2 s of CPU).
const versionOnly = args.length === 1 && (args[0] === "--version" || args[0] === "-V");
const selected = versionOnly ? [] : invoked && invoked in COMMANDS ? [invoked] : Object.keys(COMMANDS);
for (const name of selected) {
  const load = COMMANDS[name];
  if (load) (await load()).register(program);
}

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
