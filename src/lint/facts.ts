// What the commands of a RUN do, in Poetry/pip/apt terms: the shared vocabulary of the rules.
import { type Env, VarHistory } from "./env.js";
import { expand, joinPath, type RunStep, type Stage, type Step } from "./model.js";
import {
  argValues,
  hasOption,
  optionValues,
  programName,
  pythonModule,
  type ShellCommand,
  type Word,
} from "./shell.js";

export interface PipInstall {
  command: ShellCommand;
  /** Arguments after `install` */
  args: Word[];
  /** Requirement words (not options, not option values) */
  requirements: Word[];
  /** The venv the pip belongs to when called by path (`/opt/poetry/bin/pip` → `/opt/poetry`) */
  venv: string | undefined;
}

/** pip options that take a value: their value is not a requirement. */
const PIP_VALUE_OPTIONS = new Set([
  "-r",
  "--requirement",
  "-c",
  "--constraint",
  "-i",
  "--index-url",
  "--extra-index-url",
  "-f",
  "--find-links",
  "--target",
  "-t",
  "--prefix",
  "--root",
  "--cache-dir",
  "--progress-bar",
  "--platform",
  "--python-version",
  "--trusted-host",
  "-e",
  "--editable",
]);

function venvOfProgram(path: string): string | undefined {
  const match = /^(.*)\/bin\/[^/]+$/.exec(path);
  if (!match?.[1] || match[1] === "/usr" || match[1] === "/usr/local" || match[1] === "") return undefined;
  return match[1];
}

export function pipInstall(command: ShellCommand, env: Env): PipInstall | undefined {
  const name = programName(command);
  let rest: Word[];
  let program = command.argv[0]?.value ?? "";
  if (/^pip(\d(\.\d+)?)?$/.test(name)) rest = command.argv.slice(1);
  else {
    const module = pythonModule(command);
    if (module?.module !== "pip") return undefined;
    rest = module.args;
  }
  program = expand(program, env);
  // Global options may come before the subcommand.
  let i = 0;
  while (i < rest.length && (rest[i] as Word).value.startsWith("-")) i++;
  if (rest[i]?.value !== "install") return undefined;
  const args = rest.slice(i + 1);
  const requirements: Word[] = [];
  for (let j = 0; j < args.length; j++) {
    const value = (args[j] as Word).value;
    if (PIP_VALUE_OPTIONS.has(value)) {
      j++;
      continue;
    }
    if (value.startsWith("-")) continue;
    requirements.push(args[j] as Word);
  }
  return { command, args, requirements, venv: venvOfProgram(program) };
}

/** `poetry==1.8.5` → { name: "poetry", specifier: "==1.8.5" } */
export function requirement(text: string): { name: string; specifier: string } {
  const match = /^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*(.*)$/.exec(text.trim());
  if (!match) return { name: text, specifier: "" };
  return {
    name: (match[1] as string).toLowerCase().replace(/[-_.]+/g, "-"),
    specifier: (match[3] ?? "").trim(),
  };
}

export interface PoetryCall {
  command: ShellCommand;
  /** `install`, `export`, `config`, `self`... */
  subcommand: string;
  args: string[];
}

export function poetryCall(command: ShellCommand): PoetryCall | undefined {
  let argv: string[];
  if (programName(command) === "poetry") argv = argValues(command).slice(1);
  else {
    const module = pythonModule(command);
    if (module?.module !== "poetry") return undefined;
    argv = module.args.map((w) => w.value);
  }
  const i = argv.findIndex((a) => !a.startsWith("-"));
  if (i < 0) return undefined;
  return { command, subcommand: argv[i] as string, args: argv.slice(i + 1) };
}

export interface AptCall {
  command: ShellCommand;
  subcommand: string;
  /** Arguments after the subcommand */
  args: Word[];
  /** Package names (words that are not options) */
  packages: string[];
}

export function aptCall(command: ShellCommand): AptCall | undefined {
  const name = programName(command);
  if (name !== "apt-get" && name !== "apt" && name !== "aptitude") return undefined;
  const rest = command.argv.slice(1);
  const i = rest.findIndex((w) => !w.value.startsWith("-"));
  if (i < 0) return undefined;
  const args = rest.slice(i + 1);
  const packages: string[] = [];
  for (let j = 0; j < args.length; j++) {
    const value = (args[j] as Word).value;
    if (value === "-o" || value === "-t" || value === "--target-release") j++;
    else if (!value.startsWith("-")) packages.push(value.replace(/[=:].*$/, ""));
  }
  // Options after the subcommand (`apt-get install -y --no-install-recommends x`) count as well as those before.
  return { command, subcommand: (rest[i] as Word).value, args: [...rest.slice(0, i), ...args], packages };
}

export interface PoetryInstallation {
  step: RunStep;
  command: ShellCommand;
  how: "pip" | "pipx" | "installer";
  /** The exact version, `undefined` when not pinned, `"$ARG"`-style text when it comes from a build argument without default */
  version: string | undefined;
  /** The specifier when Poetry is constrained but not pinned (`>=1.8`) */
  range: string | undefined;
  /** Where it went: a dedicated venv (pip by path, pipx, the installer), or the environment of `pip` (system or the active venv) */
  environment: { kind: "own-venv"; path: string } | { kind: "shared"; venv: string | undefined };
  /** The word to point at */
  word: Word;
}

const INSTALLER = /install\.python-poetry\.org|get-poetry\.py|install-poetry\.py/;

/** Every way a RUN installs Poetry: pip, pipx, or the official installer script. */
export function poetryInstallations(step: RunStep): PoetryInstallation[] {
  const found: PoetryInstallation[] = [];
  const usesInstaller = step.commands.some((c) => c.argv.some((w) => INSTALLER.test(w.value)));
  for (const command of step.commands) {
    const env = withAssignments(step.env, command);
    const pip = pipInstall(command, env);
    if (pip) {
      for (const word of pip.requirements) {
        const req = requirement(expand(word.value, env));
        if (req.name !== "poetry") continue;
        const pinned = /^===?\s*([^,\s]+)$/.exec(req.specifier);
        // A plain `pip` is the venv's only when the venv's bin comes first on PATH.
        const virtualEnv = env.get("VIRTUAL_ENV");
        const activeVenv =
          virtualEnv &&
          (env.get("PATH") ?? "").split(":")[0]?.replace(/\/+$/, "") ===
            `${virtualEnv.replace(/\/+$/, "")}/bin`
            ? virtualEnv
            : undefined;
        found.push({
          step,
          command,
          how: "pip",
          version: pinned?.[1],
          range: pinned ? undefined : req.specifier || undefined,
          environment:
            pip.venv && pip.venv !== activeVenv
              ? { kind: "own-venv", path: pip.venv }
              : { kind: "shared", venv: pip.venv ?? activeVenv },
          word,
        });
      }
      continue;
    }
    if (programName(command) === "pipx" && command.argv[1]?.value === "install") {
      for (const word of command.argv.slice(2)) {
        const req = requirement(expand(word.value, env));
        if (word.value.startsWith("-") || req.name !== "poetry") continue;
        const pinned = /^===?\s*([^,\s]+)$/.exec(req.specifier);
        found.push({
          step,
          command,
          how: "pipx",
          version: pinned?.[1],
          range: pinned ? undefined : req.specifier || undefined,
          environment: { kind: "own-venv", path: env.get("PIPX_HOME") ?? "/root/.local/share/pipx" },
          word,
        });
      }
      continue;
    }
    // The installer script is piped into python: `curl -sSL https://install.python-poetry.org | python3 -`.
    if (usesInstaller && /^python(\d(\.\d+)?)?$/.test(programName(command)) && command.after === "|") {
      const args = argValues(command);
      const versionAt = args.indexOf("--version");
      const version = versionAt >= 0 ? args[versionAt + 1] : env.get("POETRY_VERSION");
      found.push({
        step,
        command,
        how: "installer",
        version: version ? expand(version, env) : undefined,
        range: undefined,
        environment: { kind: "own-venv", path: env.get("POETRY_HOME") ?? "/root/.local/share/pypoetry" },
        word: command.argv[0] as Word,
      });
    }
  }
  return found;
}

/** Is a version text still an unresolved variable (a build argument without default)? */
export function unresolved(text: string): boolean {
  return text.includes("$");
}

/** Poetry's cache directory for a command: POETRY_CACHE_DIR, or the default in the user's home. */
export function poetryCacheDir(env: Env, user: string | undefined): string {
  const set = env.get("POETRY_CACHE_DIR");
  if (set) return set;
  const xdg = env.get("XDG_CACHE_HOME");
  if (xdg) return `${xdg}/pypoetry`;
  return `${homeOf(user, env)}/.cache/pypoetry`;
}

export function pipCacheDir(env: Env, user: string | undefined): string {
  const set = env.get("PIP_CACHE_DIR");
  if (set) return set;
  const xdg = env.get("XDG_CACHE_HOME");
  if (xdg) return `${xdg}/pip`;
  return `${homeOf(user, env)}/.cache/pip`;
}

function homeOf(user: string | undefined, env: Env): string {
  const home = env.get("HOME");
  if (home) return home;
  return user === undefined ||
    user === "root" ||
    user === "0" ||
    user.startsWith("0:") ||
    user.startsWith("root:")
    ? "/root"
    : `/home/${user.split(":")[0]}`;
}

/** Is `path` the directory `dir` or inside it? */
export function within(path: string, dir: string): boolean {
  const p = path.replace(/\/+$/, "");
  const d = dir.replace(/\/+$/, "");
  return p === d || p.startsWith(`${d}/`) || d === "";
}

/** Does the RUN delete `dir` (or a parent of it, or its contents) with rm? */
export function removes(step: RunStep, dir: string, env: Env): boolean {
  return removed(step).some((w) => {
    const target = expand(w.value, env).replace(/\/\*$/, "").replace(/\/+$/, "");
    return target !== "" && !target.includes("$") && within(dir, target);
  });
}

const removedCache = new WeakMap<RunStep, Word[]>();

/** The paths `rm` is given in a RUN (read once per step: rules ask for every command). */
function removed(step: RunStep): Word[] {
  let words = removedCache.get(step);
  if (!words) {
    words = step.commands
      .filter((c) => programName(c) === "rm")
      .flatMap((c) => c.argv.slice(1).filter((w) => !w.value.startsWith("-")));
    removedCache.set(step, words);
  }
  return words;
}

/** Does a cache (or tmpfs) mount of this RUN cover `dir`? */
export function mounted(step: RunStep, dir: string): boolean {
  return step.mounts.some(
    (m) => (m.type === "cache" || m.type === "tmpfs") && m.target !== undefined && within(dir, m.target),
  );
}

/** Environment of a command: the step's variables plus the command's own `NAME=value` prefixes. */
export function commandEnv(step: RunStep, command: ShellCommand): Env {
  return withAssignments(exportedBefore(step).get(command) ?? step.env, command);
}

/** `env` with a command's own `NAME=value` prefixes applied (each sees the ones before it). */
export function withAssignments(env: Env, command: ShellCommand): Env {
  if (!command.assignments.length) return env;
  const history = new VarHistory(env);
  for (const a of command.assignments) history.set(a.name, expand(a.value, history.now()));
  return history.now();
}

const exportsCache = new WeakMap<RunStep, Map<ShellCommand, Env>>();

/** The variables each command of a RUN sees, with the `export NAME=value`s before it (one pass per step). */
function exportedBefore(step: RunStep): Map<ShellCommand, Env> {
  let byCommand = exportsCache.get(step);
  if (byCommand) return byCommand;
  byCommand = new Map();
  const history = new VarHistory(step.env);
  for (const c of step.commands) {
    byCommand.set(c, history.now());
    if (programName(c) !== "export") continue;
    for (const w of c.argv.slice(1)) {
      const eq = w.value.indexOf("=");
      if (eq > 0) history.set(w.value.slice(0, eq), expand(w.value.slice(eq + 1), history.now()));
    }
  }
  exportsCache.set(step, byCommand);
  return byCommand;
}

/** Truthy Poetry/pip boolean settings ("true", "1", "yes", "on"). */
export function truthy(value: string | undefined): boolean {
  return value !== undefined && /^(1|true|yes|on)$/i.test(value.trim());
}

export function falsy(value: string | undefined): boolean {
  return value !== undefined && /^(0|false|no|off)$/i.test(value.trim());
}

/** Official Python images: `python:3.11`, `python:3.11-bookworm` (full) vs `-slim`/`-alpine`. */
export function isFullPythonImage(image: string): boolean {
  const match = /^(?:docker\.io\/)?(?:library\/)?python(?::([^@]+))?(?:@.*)?$/.exec(image);
  if (!match) return false;
  const tag = match[1] ?? "latest";
  return !/slim|alpine|windowsservercore|nanoserver/.test(tag);
}

/** Venvs a stage created or uses: `python -m venv X`, `virtualenv X`, VIRTUAL_ENV, Poetry's in-project `.venv`. */
export function venvsOf(steps: Step[]): string[] {
  const venvs = new Set<string>();
  for (const step of steps) {
    const env = step.env;
    const active = env.get("VIRTUAL_ENV");
    if (active && !active.includes("$")) venvs.add(joinPath("/", active));
    if (step.kind !== "run") continue;
    for (const command of step.commands) {
      const cenv = commandEnv(step, command);
      const module = pythonModule(command);
      const args =
        module?.module === "venv" || module?.module === "virtualenv"
          ? module.args
          : programName(command) === "virtualenv"
            ? command.argv.slice(1)
            : undefined;
      if (args) {
        const target = args.find((w) => !w.value.startsWith("-"));
        if (target) venvs.add(joinPath(step.workdir, expand(target.value, cenv)));
      }
      const poetry = poetryCall(command);
      if (
        poetry &&
        (poetry.subcommand === "install" || poetry.subcommand === "sync") &&
        inProject(step, command)
      )
        venvs.add(joinPath(step.workdir, ".venv"));
    }
  }
  return [...venvs];
}

/** Does Poetry create its venv in the project folder for this command? */
export function inProject(step: RunStep, command: ShellCommand): boolean {
  const env = commandEnv(step, command);
  if (truthy(env.get("POETRY_VIRTUALENVS_IN_PROJECT"))) return true;
  return configSet(step.stage, "virtualenvs.in-project", step, command).some((v) => truthy(v));
}

/** Values given to a Poetry setting with `poetry config NAME VALUE` in this stage's chain, up to `until`. */
export function configSet(stage: Stage, name: string, until?: Step, untilCommand?: ShellCommand): string[] {
  const values: string[] = [];
  // Where to stop in `stage`: before `until` (or before `untilCommand` inside it), as a (step, command) place.
  const limit =
    until && until.stage === stage
      ? {
          step: stage.steps.indexOf(until),
          command: until.kind === "run" && untilCommand ? (commandIndex(until).get(untilCommand) ?? -1) : -1,
        }
      : undefined;
  const chainOf: Stage[] = [];
  for (let s: Stage | undefined = stage; s; s = s.parent) chainOf.unshift(s);
  for (const s of chainOf)
    for (const call of configCalls(s)) {
      if (s === stage && limit) {
        if (call.step > limit.step) break;
        if (call.step === limit.step && (limit.command < 0 || call.command >= limit.command)) break;
      }
      if (call.name === name && call.value !== undefined) values.push(call.value);
    }
  return values;
}

interface ConfigCall {
  step: number;
  command: number;
  name: string | undefined;
  value: string | undefined;
}

const configCache = new WeakMap<Stage, ConfigCall[]>();

/** The stage's `poetry config` calls with their places, read once (rules ask for every install). */
function configCalls(stage: Stage): ConfigCall[] {
  let calls = configCache.get(stage);
  if (calls) return calls;
  calls = [];
  for (const [stepIndex, step] of stage.steps.entries()) {
    if (step.kind !== "run") continue;
    for (const [commandIndex, command] of step.commands.entries()) {
      const call = poetryCall(command);
      if (call?.subcommand !== "config") continue;
      const args = call.args.filter((a) => !a.startsWith("-"));
      calls.push({ step: stepIndex, command: commandIndex, name: args[0], value: args[1] });
    }
  }
  configCache.set(stage, calls);
  return calls;
}

const indexCache = new WeakMap<RunStep, Map<ShellCommand, number>>();

function commandIndex(step: RunStep): Map<ShellCommand, number> {
  let index = indexCache.get(step);
  if (!index) {
    index = new Map(step.commands.map((c, i) => [c, i]));
    indexCache.set(step, index);
  }
  return index;
}

export { hasOption, optionValues };
