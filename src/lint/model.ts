// The Dockerfile as the rules see it: stages, their ancestry, and each RUN/COPY with the env, workdir and user in force.
import { type Dockerfile, DockerfileParser, type Instruction, type Run } from "dockerfile-ast";
import { type Env, NO_VARS, VarHistory } from "./env.js";
import type { Range } from "./position.js";
import { readShell, type Script, type ShellCommand, scriptFrom, scriptOf, type Word } from "./shell.js";

export interface Mount {
  type: string;
  target: string | undefined;
  options: Record<string, string>;
}

interface StepBase {
  instruction: Instruction;
  stage: Stage;
  /** Variables known at this point: ARG values and ENV (expanded where possible) */
  env: Env;
  workdir: string;
  /** The USER in force; undefined means root (the default) */
  user: string | undefined;
}

export interface RunStep extends StepBase {
  kind: "run";
  instruction: Run;
  mounts: Mount[];
  commands: ShellCommand[];
  /** JSON form (`RUN ["a", "b"]`): no shell is involved */
  execForm: boolean;
  heredoc: boolean;
  /** Why the shell reader is not sure it read this RUN as the shell will (fixes stay away); undefined when sure */
  unsure: string | undefined;
  /** The script ends in a `#` comment */
  endsInComment: boolean;
  /** Offsets of the RUN's command text (after the flags) in the document */
  start: number;
  end: number;
}

export interface CopyStep extends StepBase {
  kind: "copy";
  keyword: "COPY" | "ADD";
  /** `--from` value as written (stage name, index or image) */
  from: string | undefined;
  fromStage: Stage | undefined;
  sources: string[];
  dest: string;
  /** Destination made absolute with WORKDIR (a trailing slash kept off) */
  destAbs: string;
}

export type Step = RunStep | CopyStep;

export interface Stage {
  index: number;
  name: string | undefined;
  /** Base image with ARG defaults substituted, as written otherwise */
  image: string;
  /** The FROM instruction */
  from: Instruction;
  /** Set when the stage is `FROM <earlier stage>` */
  parent: Stage | undefined;
  instructions: Instruction[];
  steps: Step[];
  /** State at the end of the stage (inherited by `FROM <this stage>`) */
  env: Env;
  workdir: string;
  user: string | undefined;
}

export interface Model {
  file: string;
  text: string;
  dockerfile: Dockerfile;
  /** `# syntax=` parser directive, if any */
  syntax: string | undefined;
  /** ARGs before the first FROM, with their defaults */
  globalArgs: Map<string, string>;
  stages: Stage[];
  /** The stage that becomes the image (the last one, or --target) */
  target: Stage | undefined;
  offsetAt(position: { line: number; character: number }): number;
  positionAt(offset: number): { line: number; character: number };
  rangeOf(start: number, end: number): Range;
}

/** Replace `$NAME` and `${NAME}` (also `${NAME:-x}`) with known values; unknown ones stay as written. */
export function expand(value: string, env: Env): string {
  if (!value.includes("$")) return value;
  return value.replace(
    /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-+]([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g,
    (all, a, dflt, b) => {
      const name = (a ?? b) as string;
      const known = env.get(name);
      if (known !== undefined) return known;
      if (dflt !== undefined && all.includes(":-")) return dflt as string;
      return all;
    },
  );
}

function unquote(value: string): string {
  if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.endsWith(value[0] as string))
    return value.slice(1, -1);
  return value;
}

function joinPath(dir: string, path: string): string {
  const full = path.startsWith("/") ? path : `${dir.replace(/\/+$/, "")}/${path}`;
  const parts: string[] = [];
  for (const part of full.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return `/${parts.join("/")}`;
}

export { joinPath };

function parseMounts(instruction: Run, env: Env): Mount[] {
  const mounts: Mount[] = [];
  for (const flag of instruction.getFlags()) {
    if (flag.getName() !== "mount") continue;
    const options: Record<string, string> = {};
    for (const part of (flag.getValue() ?? "").split(",")) {
      const eq = part.indexOf("=");
      if (eq < 0) options[part] = "true";
      else options[part.slice(0, eq)] = expand(part.slice(eq + 1), env);
    }
    const target = options.target ?? options.dst ?? options.destination;
    mounts.push({ type: options.type ?? "bind", target, options });
  }
  return mounts;
}

export function buildModel(text: string, file: string): Model {
  const dockerfile = DockerfileParser.parse(text);
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === "\n") lineStarts.push(i + 1);
  const offsetAt = (p: { line: number; character: number }): number =>
    Math.min((lineStarts[p.line] ?? text.length) + p.character, text.length);
  const positionAt = (offset: number): { line: number; character: number } => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((lineStarts[mid] as number) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo, character: offset - (lineStarts[lo] as number) };
  };
  const rangeOf = (start: number, end: number): Range => ({ start: positionAt(start), end: positionAt(end) });
  const escapeChar = dockerfile.getEscapeCharacter();
  const syntax = dockerfile
    .getDirectives()
    .find((d) => d.getName()?.toLowerCase() === "syntax")
    ?.getValue();

  const globalArgs = new Map<string, string>();
  const stages: Stage[] = [];
  /** Stages by lower-cased name and by index, for `FROM <stage>` and `COPY --from` */
  const stageNamed = new Map<string, Stage>();
  let stage: Stage | undefined;

  const state = { env: new VarHistory(), workdir: "/", user: undefined as string | undefined };

  for (const instruction of dockerfile.getInstructions()) {
    const keyword = instruction.getKeyword().toUpperCase();
    if (keyword === "FROM") {
      if (stage) Object.assign(stage, { env: state.env.now(), workdir: state.workdir, user: state.user });
      const args = instruction.getArguments().map((a) => a.getValue());
      const flagless = args.filter((a) => !a.startsWith("--"));
      const rawImage = flagless[0] ?? "";
      const image = expand(rawImage, globalArgs);
      const asIndex = flagless.findIndex((a) => a.toLowerCase() === "as");
      const name = asIndex >= 0 ? flagless[asIndex + 1] : undefined;
      const parent = stageNamed.get(image.toLowerCase());
      stage = {
        index: stages.length,
        name,
        image,
        from: instruction,
        parent,
        instructions: [],
        steps: [],
        env: NO_VARS,
        workdir: "/",
        user: undefined,
      };
      stages.push(stage);
      if (name !== undefined && !stageNamed.has(name.toLowerCase()))
        stageNamed.set(name.toLowerCase(), stage);
      state.env = new VarHistory(parent?.env);
      state.workdir = parent?.workdir ?? "/";
      state.user = parent?.user;
      continue;
    }
    if (!stage) {
      if (keyword === "ARG") {
        for (const word of instruction.getArguments()) {
          const [name, ...rest] = word.getValue().split("=");
          if (name)
            globalArgs.set(name, rest.length ? unquote(rest.join("=")) : (globalArgs.get(name) ?? ""));
          if (!rest.length && globalArgs.get(name as string) === "") globalArgs.delete(name as string);
        }
      }
      continue;
    }
    stage.instructions.push(instruction);
    const base = { instruction, stage, env: state.env.now(), workdir: state.workdir, user: state.user };
    switch (keyword) {
      case "ARG":
        for (const word of instruction.getArguments()) {
          const value = word.getValue();
          const eq = value.indexOf("=");
          const name = eq < 0 ? value : value.slice(0, eq);
          const known = eq < 0 ? globalArgs.get(name) : expand(unquote(value.slice(eq + 1)), state.env.now());
          if (known !== undefined) state.env.set(name, known);
        }
        break;
      case "ENV": {
        // dockerfile-ast reads both `ENV A=1 B=2` and the legacy `ENV A 1`.
        const props = (
          instruction as unknown as { getProperties(): { getName(): string; getValue(): string | null }[] }
        ).getProperties();
        // Every value is expanded with the variables from before this instruction.
        const values = props.map((p) => [p.getName(), expand(p.getValue() ?? "", base.env)] as const);
        for (const [name, value] of values) state.env.set(name, value);
        break;
      }
      case "WORKDIR": {
        const dir = expand(instruction.getArgumentsContent() ?? "", base.env);
        if (dir) state.workdir = joinPath(state.workdir, unquote(dir.trim()));
        break;
      }
      case "USER":
        state.user = expand(instruction.getArguments()[0]?.getValue() ?? "", base.env) || undefined;
        break;
      case "RUN":
        stage.steps.push(runStep(instruction as Run, base, text, escapeChar, offsetAt));
        break;
      case "COPY":
      case "ADD": {
        const flags = (
          instruction as unknown as { getFlags(): { getName(): string; getValue(): string | null }[] }
        ).getFlags();
        const from = flags.find((f) => f.getName() === "from")?.getValue() ?? undefined;
        const args = jsonOrWords(instruction).map((a) => expand(a, base.env));
        const dest = args[args.length - 1] ?? "";
        const fromStage =
          from === undefined
            ? undefined
            : [
                stageNamed.get(from.toLowerCase()),
                /^(0|[1-9]\d*)$/.test(from) ? stages[Number(from)] : undefined,
              ].find((s) => s !== undefined && s !== stage);
        stage.steps.push({
          ...base,
          kind: "copy",
          keyword: keyword as "COPY" | "ADD",
          from,
          fromStage,
          sources: args.slice(0, -1),
          dest,
          destAbs: joinPath(state.workdir, dest),
        });
        break;
      }
    }
  }
  if (stage) Object.assign(stage, { env: state.env.now(), workdir: state.workdir, user: state.user });
  return {
    file,
    text,
    dockerfile,
    syntax,
    globalArgs,
    stages,
    target: stages[stages.length - 1],
    offsetAt,
    positionAt,
    rangeOf,
  };
}

/** Arguments of a COPY/ADD/CMD in JSON form or as words, flags left out. */
export function jsonOrWords(instruction: Instruction): string[] {
  const json =
    (instruction as unknown as { getJSONStrings?(): { getValue(): string }[] }).getJSONStrings?.() ?? [];
  if (json.length) return json.map((s) => s.getValue());
  return instruction
    .getArguments()
    .map((a) => a.getValue())
    .filter((a) => !a.startsWith("--"));
}

function runStep(
  instruction: Run,
  base: Omit<StepBase, never>,
  text: string,
  escapeChar: string,
  offsetAt: (p: { line: number; character: number }) => number,
): RunStep {
  const mounts = parseMounts(instruction, base.env);
  const args = instruction.getArguments();
  const end = offsetAt(instruction.getRange().end);
  const first = args[0];
  const start = first ? offsetAt(first.getRange().start) : end;
  const step: RunStep = {
    ...base,
    instruction,
    kind: "run",
    mounts,
    commands: [],
    execForm: false,
    heredoc: false,
    unsure: undefined,
    endsInComment: false,
    start,
    end,
  };
  if (!first) return step;
  const json = instruction.getJSONStrings();
  if (json.length && first.getValue().startsWith("[")) {
    const argv: Word[] = json.map((s) => {
      const r = s.getRange();
      return { value: s.getJSONValue(), start: offsetAt(r.start), end: offsetAt(r.end), quoted: true };
    });
    step.execForm = true;
    step.commands = [{ assignments: [], argv, redirects: [], start, end, after: undefined }];
    return step;
  }
  const firstValue = first.getValue();
  if (firstValue.startsWith("<<")) {
    // Heredoc: the script is the body between the line after `<<EOF` and the delimiter line.
    step.heredoc = true;
    const delimiter = firstValue.replace(/^<<-?/, "").replace(/^["']|["']$/g, "");
    const newline = text.indexOf("\n", start);
    const bodyStart = newline < 0 || newline >= end ? end : newline + 1;
    let bodyEnd = -1;
    // `<<-` strips leading tabs from the delimiter line; BuildKit also accepts it indented with blanks.
    for (let cursor = bodyStart; cursor < end; ) {
      const lineEnd = text.indexOf("\n", cursor);
      const stop = lineEnd < 0 ? text.length : lineEnd;
      if (text.slice(cursor, stop).trim() === delimiter) {
        bodyEnd = cursor;
        break;
      }
      cursor = stop + 1;
    }
    if (bodyEnd < 0) {
      bodyEnd = end;
      step.unsure = `a here-document that never reaches its delimiter ${delimiter}`;
    }
    return withShell(step, scriptOf(text, bodyStart, bodyEnd));
  }
  return withShell(step, scriptFrom(text, start, end, escapeChar));
}

function withShell(step: RunStep, script: Script): RunStep {
  const parsed = readShell(script);
  step.commands = parsed.commands;
  step.unsure ??= parsed.unsure;
  step.endsInComment = parsed.endsInComment;
  return step;
}

/** The stage and its FROM ancestors, oldest first: everything whose files are in the stage's image. */
export function chain(stage: Stage): Stage[] {
  const stages: Stage[] = [];
  for (let s: Stage | undefined = stage; s; s = s.parent) stages.unshift(s);
  return stages;
}

/** Steps of a stage including those inherited from its FROM ancestors, in build order. */
export function chainSteps(stage: Stage): Step[] {
  return chain(stage).flatMap((s) => s.steps);
}

/** Every stage whose work reaches the image: its chain plus, transitively, the stages it copies from. */
export function contributors(stage: Stage): Stage[] {
  const seen = new Set<Stage>();
  const visit = (s: Stage): void => {
    for (const c of chain(s)) {
      if (seen.has(c)) continue;
      seen.add(c);
      for (const step of c.steps) if (step.kind === "copy" && step.fromStage) visit(step.fromStage);
    }
  };
  visit(stage);
  return [...seen].sort((a, b) => a.index - b.index);
}

export function runs(steps: Step[]): RunStep[] {
  return steps.filter((s): s is RunStep => s.kind === "run");
}

export function copies(steps: Step[]): CopyStep[] {
  return steps.filter((s): s is CopyStep => s.kind === "copy");
}
