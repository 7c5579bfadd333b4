// Reading TOML documents into checked values: every malformed input becomes a UserError naming file, line, column.
import { parse, TomlError } from "smol-toml";
import { InputFileError, type Location, quote } from "../errors.js";
import type { Problem } from "./values.js";

export type Table = Record<string, unknown>;

/** Parse TOML; integers come back as bigint so Poetry's hash can tell 1 from 1.0. */
export function parseToml(text: string, file: string): Table {
  try {
    return parse(text, { integersAsBigInt: true }) as Table;
  } catch (error) {
    if (error instanceof TomlError) {
      // smol-toml's message carries a code excerpt after the first line; one line is what the user gets.
      const first = error.message.split("\n")[0]?.replace(/^Invalid TOML document:\s*/, "") ?? "invalid TOML";
      throw new InputFileError(`invalid TOML: ${first}`, {
        location: { file, line: error.line, column: error.column },
      });
    }
    throw error;
  }
}

export function isTable(value: unknown): value is Table {
  return value !== null && typeof value === "object" && !Array.isArray(value) && !(value instanceof Date);
}

/** Own property only: a TOML key named `constructor` or `__proto__` must not reach Object.prototype. */
export function get(t: Table, key: string): unknown {
  return Object.hasOwn(t, key) ? t[key] : undefined;
}

/** Set an own property even for keys like `__proto__` that plain assignment would turn into a prototype change. */
export function setOwn<T>(record: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Where a dotted key is written, best effort (line of its table header or `key =`), for error messages. */
export function locate(text: string, file: string, dotted: string): Location {
  const parts = dotted.split(".");
  const last = parts[parts.length - 1] ?? dotted;
  const lines = text.split("\n");
  const header = new RegExp(`^\\s*\\[+\\s*${escapeRegExp(dotted)}\\s*\\]+`);
  const assignment = new RegExp(`^\\s*"?${escapeRegExp(last)}"?\\s*=`);
  let index = lines.findIndex((line) => header.test(line));
  if (index < 0) index = lines.findIndex((line) => assignment.test(line));
  // A quoted key with escapes (`"dev\nx"`) appears in the file in its escaped spelling.
  const escaped = JSON.stringify(last).slice(1, -1);
  if (index < 0 && escaped !== last) index = lines.findIndex((line) => line.includes(escaped));
  return index < 0 ? { file } : { file, line: index + 1, column: 1 };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Typed access to one parsed document, throwing UserErrors that point into it. */
export class TomlDoc {
  constructor(
    readonly text: string,
    readonly file: string,
    readonly root: Table,
  ) {}

  fail(dotted: string, message: string, hint?: string): never {
    throw new InputFileError(
      message,
      hint === undefined
        ? { location: locate(this.text, this.file, dotted) }
        : { location: locate(this.text, this.file, dotted), hint },
    );
  }

  table(value: unknown, dotted: string): Table | undefined {
    if (value === undefined) return undefined;
    if (!isTable(value)) this.fail(dotted, `\`${dotted}\` must be a table`);
    return value;
  }

  string(value: unknown, dotted: string): string | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== "string") this.fail(dotted, `\`${dotted}\` must be a string`);
    return value;
  }

  boolean(value: unknown, dotted: string): boolean | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== "boolean") this.fail(dotted, `\`${dotted}\` must be true or false`);
    return value;
  }

  array(value: unknown, dotted: string): unknown[] | undefined {
    if (value === undefined) return undefined;
    if (!Array.isArray(value)) this.fail(dotted, `\`${dotted}\` must be an array`);
    return value;
  }

  /** Refuse a value a rule of ./values.ts finds wrong, pointing at its line and saying how to fix it. */
  check(value: string, dotted: string, rule: (value: string) => Problem, what = dotted): string {
    const problem = rule(value);
    if (problem) this.fail(dotted, `${what} ${quote(value)} ${problem.reason}`, problem.fix);
    return value;
  }

  strings(value: unknown, dotted: string): string[] | undefined {
    const items = this.array(value, dotted);
    if (items === undefined) return undefined;
    for (const item of items)
      if (typeof item !== "string") this.fail(dotted, `\`${dotted}\` must be an array of strings`);
    return items as string[];
  }
}
