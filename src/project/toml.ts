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

/**
 * Where a dotted key is written, best effort, for messages and for the facts the reader records: the line of
 * its own table header, else of `key =` inside the nearest table header written for its parent, else of the
 * first `key =` anywhere.
 */
export function locate(text: string, file: string, dotted: string): Location {
  const parts = dotted.split(".");
  const lines = text.split("\n");
  const header = (table: string) => new RegExp(`^\\s*\\[+\\s*${escapeRegExp(table)}\\s*\\]+`);
  const assignment = (key: string) => new RegExp(`^\\s*"?${escapeRegExp(key)}"?\\s*[=.]`);
  const found = (index: number): Location => ({ file, line: index + 1, column: 1 });
  const own = lines.findIndex((line) => header(dotted).test(line));
  if (own >= 0) return found(own);
  for (let split = parts.length - 1; split >= 1; split--) {
    const start = lines.findIndex((line) => header(parts.slice(0, split).join(".")).test(line));
    if (start < 0) continue;
    const key = assignment(parts[split] as string);
    for (let i = start + 1; i < lines.length && !/^\s*\[/.test(lines[i] as string); i++)
      if (key.test(lines[i] as string)) return found(i);
  }
  const lastKey = parts[parts.length - 1] ?? dotted;
  const last = assignment(lastKey);
  let index = lines.findIndex((line) => last.test(line));
  // A quoted key with escapes (`"dev\nx"`) appears in the file in its escaped spelling.
  const escaped = JSON.stringify(lastKey).slice(1, -1);
  if (index < 0 && escaped !== lastKey) index = lines.findIndex((line) => line.includes(escaped));
  return index < 0 ? { file } : found(index);
}

export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Typed access to one parsed document, throwing UserErrors that point into it. */
export class TomlDoc {
  constructor(
    readonly text: string,
    readonly file: string,
    readonly root: Table,
  ) {}

  /** Where a dotted key is written in this document. */
  locate(dotted: string): Location {
    return locate(this.text, this.file, dotted);
  }

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
