// Options shared by the commands that plan a build (init, plan, build, bench).
import { type Command, Option } from "commander";
import { quote, UserError } from "../errors.js";
import { parseStrategy } from "../plan/strategies.js";
import { type PlanOptions, STRATEGIES } from "../plan/types.js";
import { checkImage, checkVersion, type Problem } from "../project/values.js";

export interface PlanFlags {
  strategy?: string;
  python?: string;
  poetryVersion?: string;
  cmd?: string;
  baseImage?: string;
  cacheMounts?: boolean;
  /** commander: a string from --syntax, false from --no-syntax, undefined when neither is given */
  syntax?: string | boolean;
}

/** init and plan decide wheels per platform without building (build and bench take the engine's --platform). */
export const PLATFORM_FLAG = "--platform <list>";
export const PLATFORM_HELP =
  "target platforms whose wheels decide what compiles, comma-separated (default: linux/amd64), e.g. linux/amd64,linux/arm64";

/** The container command, as init, plan, build, bench and assemble take it. */
export const CMD_FLAG = "--cmd <command>";
export const CMD_HELP =
  'container command: a JSON array (\'["uvicorn", "app:app"]\') or words separated by spaces';

export function addPlanOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        "--strategy <name>",
        `optimal, or one of the seed's variants: ${STRATEGIES.join(", ")}`,
      ).default("optimal"),
    )
    .option(
      "--python <minor>",
      "CPython minor version to build on (default: chosen from the constraint and the lock)",
    )
    .option(
      "--poetry-version <version>",
      "Poetry version to install (default: the one that wrote poetry.lock)",
    )
    .option(CMD_FLAG, CMD_HELP)
    .option("--base-image <image>", "default for the PYTHON_IMAGE build argument")
    .option("--no-cache-mounts", "no RUN --mount=type=cache (for builders without BuildKit)")
    .option("--syntax <frontend>", "frontend image for the `# syntax=` line (default: docker/dockerfile:1)")
    .option(
      "--no-syntax",
      "no `# syntax=` line, for BuildKit without registry access (Docker 20.10+, buildah and podman read the file as it is)",
    );
}

/** `--cmd`'s text as words: a JSON array of strings, or the text split on spaces. */
export function parseCmd(text: string): string[] {
  if (text.trim().startsWith("[")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new UserError(`--cmd is not a valid JSON array: ${quote(text)}`, {
        hint: 'for example \'["gunicorn", "app:app"]\'',
      });
    }
    if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every((w) => typeof w === "string")) {
      throw new UserError("--cmd must be a non-empty JSON array of strings", {
        hint: 'for example \'["gunicorn", "app:app"]\'',
      });
    }
    return parsed;
  }
  const words = text.split(/\s+/).filter(Boolean);
  if (words.length === 0) throw new UserError("--cmd is empty", { hint: "name the program to run" });
  return words;
}

function option(name: string, value: string, rule: (value: string) => Problem): string {
  const problem = rule(value);
  if (problem) throw new UserError(`${name} ${quote(value)} ${problem.reason}`, { hint: problem.fix });
  return value;
}

export function planOptions(flags: PlanFlags): PlanOptions {
  return {
    strategy: parseStrategy(flags.strategy ?? "optimal"),
    ...(flags.python !== undefined ? { python: flags.python } : {}),
    ...(flags.poetryVersion !== undefined
      ? { poetryVersion: option("--poetry-version", flags.poetryVersion, checkVersion) }
      : {}),
    ...(flags.cmd !== undefined ? { cmd: parseCmd(flags.cmd) } : {}),
    ...(flags.baseImage !== undefined
      ? { baseImage: option("--base-image", flags.baseImage, checkImage) }
      : {}),
    ...(flags.cacheMounts === false ? { cacheMounts: false } : {}),
    ...(flags.syntax === false
      ? { syntax: false }
      : typeof flags.syntax === "string"
        ? { syntax: flags.syntax }
        : {}),
  };
}
