// PEP 508 environment markers of locked packages, evaluated for the image's platform (Linux, CPython X.Y).
import { satisfies, valid } from "@renovatebot/pep440";
import type { LockedPackage } from "./types.js";

/** Marker variables of the target environment; a variable left undefined makes comparisons on it unknown. */
export interface MarkerEnvironment {
  os_name?: string;
  sys_platform?: string;
  platform_system?: string;
  platform_machine?: string;
  platform_python_implementation?: string;
  implementation_name?: string;
  platform_release?: string;
  platform_version?: string;
  python_version?: string;
  python_full_version?: string;
  implementation_version?: string;
  /** Extras requested of the package: `extra == "x"` is true for these */
  extras?: string[];
}

/**
 * A Linux CPython image. The patch release is left unknown (the `python:X.Y` images move with it), so a
 * `python_full_version` comparison that depends on it stays undefined rather than guessed; so is the minor
 * when it is not given.
 */
export function linuxCPython(
  pythonVersion: string | undefined,
  machine?: "x86_64" | "aarch64",
): MarkerEnvironment {
  const env: MarkerEnvironment = {
    os_name: "posix",
    sys_platform: "linux",
    platform_system: "Linux",
    platform_python_implementation: "CPython",
    implementation_name: "cpython",
  };
  if (pythonVersion !== undefined) env.python_version = pythonVersion;
  if (machine) env.platform_machine = machine;
  return env;
}

/** true, false, or undefined when the marker cannot be decided (unknown variable, unparseable marker). */
export type Tristate = boolean | undefined;

const VARIABLES = new Set([
  "os_name",
  "sys_platform",
  "platform_system",
  "platform_machine",
  "platform_python_implementation",
  "implementation_name",
  "platform_release",
  "platform_version",
  "python_version",
  "python_full_version",
  "implementation_version",
  "extra",
  // Legacy spellings from PEP 345, still accepted by packaging.
  "os.name",
  "sys.platform",
  "platform.version",
  "platform.machine",
  "platform.python_implementation",
  "python_implementation",
]);

const LEGACY: Record<string, string> = {
  "os.name": "os_name",
  "sys.platform": "sys_platform",
  "platform.version": "platform_version",
  "platform.machine": "platform_machine",
  "platform.python_implementation": "platform_python_implementation",
  python_implementation: "platform_python_implementation",
};

type Token = { kind: "str" | "var" | "op" | "and" | "or" | "(" | ")"; text: string };

const TOKEN =
  /\s*(?:(\()|(\))|"([^"]*)"|'([^']*)'|(===|==|!=|<=|>=|~=|<|>|not\s+in\b|in\b)|(and\b)|(or\b)|([A-Za-z_][A-Za-z0-9_.]*))/y;

function tokenize(marker: string): Token[] | undefined {
  const tokens: Token[] = [];
  let pos = 0;
  while (pos < marker.length) {
    if (/^\s*$/.test(marker.slice(pos))) break;
    TOKEN.lastIndex = pos;
    const m = TOKEN.exec(marker);
    if (!m) return undefined;
    pos = TOKEN.lastIndex;
    if (m[1]) tokens.push({ kind: "(", text: "(" });
    else if (m[2]) tokens.push({ kind: ")", text: ")" });
    else if (m[3] !== undefined || m[4] !== undefined)
      tokens.push({ kind: "str", text: (m[3] ?? m[4]) as string });
    else if (m[5]) tokens.push({ kind: "op", text: m[5].replace(/\s+/, " ") });
    else if (m[6]) tokens.push({ kind: "and", text: "and" });
    else if (m[7]) tokens.push({ kind: "or", text: "or" });
    else if (m[8] && VARIABLES.has(m[8])) tokens.push({ kind: "var", text: LEGACY[m[8]] ?? m[8] });
    else return undefined;
  }
  return tokens;
}

const and3 = (a: Tristate, b: Tristate): Tristate =>
  a === false || b === false ? false : a === true && b === true ? true : undefined;
const or3 = (a: Tristate, b: Tristate): Tristate =>
  a === true || b === true ? true : a === false && b === false ? false : undefined;

/**
 * Evaluate a PEP 508 marker (`python_version < "3.12" and sys_platform != "win32"`) in three-valued logic.
 * Operator precedence with explicit stacks rather than recursion: a lock can nest parentheses thousands
 * deep, and no depth may overflow the call stack.
 */
export function evaluateMarker(marker: string, env: MarkerEnvironment): Tristate {
  const tokens = tokenize(marker);
  if (!tokens || tokens.length === 0) return undefined;
  const values: Tristate[] = [];
  const ops: ("(" | "and" | "or")[] = [];
  const apply = (): boolean => {
    const op = ops.pop();
    if (values.length < 2 || (op !== "and" && op !== "or")) return false;
    const right = values.pop();
    const left = values.pop();
    values.push(op === "and" ? and3(left, right) : or3(left, right));
    return true;
  };
  let expectOperand = true;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as Token;
    if (expectOperand) {
      if (token.kind === "(") {
        ops.push("(");
        continue;
      }
      const op = tokens[i + 1];
      const right = tokens[i + 2];
      if (op?.kind !== "op" || !right || !isOperand(right) || !isOperand(token)) return undefined;
      values.push(compare(token, op.text, right, env));
      i += 2;
      expectOperand = false;
    } else if (token.kind === ")") {
      while (ops.length > 0 && ops.at(-1) !== "(") if (!apply()) return undefined;
      if (ops.pop() !== "(") return undefined;
    } else if (token.kind === "and" || token.kind === "or") {
      // `and` binds tighter than `or`; both associate to the left.
      const rank = token.kind === "and" ? 2 : 1;
      while (ops.length > 0 && ops.at(-1) !== "(" && (ops.at(-1) === "and" ? 2 : 1) >= rank)
        if (!apply()) return undefined;
      ops.push(token.kind);
      expectOperand = true;
    } else return undefined;
  }
  if (expectOperand) return undefined;
  while (ops.length > 0) if (ops.at(-1) === "(" || !apply()) return undefined;
  return values.length === 1 ? values[0] : undefined;
}

function isOperand(token: Token): boolean {
  return token.kind === "str" || token.kind === "var";
}

function resolve(token: Token, env: MarkerEnvironment): string | undefined {
  if (token.kind === "str") return token.text;
  if (token.text === "extra") return undefined;
  return env[token.text as Exclude<keyof MarkerEnvironment, "extras">];
}

function compare(left: Token, op: string, right: Token, env: MarkerEnvironment): Tristate {
  // `extra` compares against the set of requested extras (normalized as PEP 685 says).
  if (left.kind === "var" && left.text === "extra" && right.kind === "str") {
    if (!env.extras) return undefined;
    const wanted = normalizeExtra(right.text);
    const has = env.extras.some((e) => normalizeExtra(e) === wanted);
    return op === "==" ? has : op === "!=" ? !has : undefined;
  }
  const a = resolve(left, env);
  const b = resolve(right, env);
  if (a === undefined || b === undefined) return undefined;
  if (op === "in") return b.includes(a);
  if (op === "not in") return !b.includes(a);
  // As packaging does: a version comparison when the right side is a valid specifier, else string comparison.
  if (valid(a) && valid(b)) {
    const result = satisfies(a, `${op}${b}`);
    if (typeof result === "boolean") return result;
  }
  switch (op) {
    case "==":
      return a === b;
    case "!=":
      return a !== b;
    case "<":
      return a < b;
    case "<=":
      return a <= b;
    case ">":
      return a > b;
    case ">=":
      return a >= b;
    default:
      return undefined;
  }
}

function normalizeExtra(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, "-");
}

/**
 * Is a locked package installed in `env` for these groups? Lock 2.1 may give markers per group (the package is
 * installed if any of the chosen groups' markers holds); undefined markers mean always.
 */
export function packageApplies(pkg: LockedPackage, env: MarkerEnvironment, groups?: string[]): Tristate {
  const markers = pkg.markers;
  if (markers === undefined) return true;
  if (typeof markers === "string") return evaluateMarker(markers, env);
  const chosen = groups ?? Object.keys(markers);
  let result: Tristate = false;
  for (const group of chosen) {
    if (!Object.hasOwn(markers, group)) {
      // A group the package belongs to without a marker of its own: installed unconditionally.
      if (pkg.groups.includes(group)) return true;
      continue;
    }
    const value = evaluateMarker(markers[group] as string, env);
    if (value === true) return true;
    if (value === undefined) result = undefined;
  }
  return result;
}
