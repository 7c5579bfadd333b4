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

class Unparseable extends Error {}

/** Evaluate a PEP 508 marker (`python_version < "3.12" and sys_platform != "win32"`) in three-valued logic. */
export function evaluateMarker(marker: string, env: MarkerEnvironment): Tristate {
  const tokens = tokenize(marker);
  if (!tokens) return undefined;
  let i = 0;
  const peek = () => tokens[i];
  const or = (): Tristate => {
    let value = and();
    while (peek()?.kind === "or") {
      i++;
      const right = and();
      value =
        value === true || right === true ? true : value === false && right === false ? false : undefined;
    }
    return value;
  };
  const and = (): Tristate => {
    let value = atom();
    while (peek()?.kind === "and") {
      i++;
      const right = atom();
      value =
        value === false || right === false ? false : value === true && right === true ? true : undefined;
    }
    return value;
  };
  const atom = (): Tristate => {
    const token = tokens[i++];
    if (!token) throw new Unparseable();
    if (token.kind === "(") {
      const value = or();
      if (tokens[i++]?.kind !== ")") throw new Unparseable();
      return value;
    }
    const op = tokens[i++];
    const right = tokens[i++];
    if (
      op?.kind !== "op" ||
      !right ||
      !["str", "var"].includes(right.kind) ||
      !["str", "var"].includes(token.kind)
    )
      throw new Unparseable();
    return compare(token, op.text, right, env);
  };
  try {
    const value = or();
    return i === tokens.length ? value : undefined;
  } catch (error) {
    if (error instanceof Unparseable) return undefined;
    throw error;
  }
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
