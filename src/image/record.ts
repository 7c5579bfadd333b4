// Read a wheel's RECORD as it streams past, keeping only the installed files' paths, never the whole text.

import { type Budget, costOf } from "./budget.js";
import type { EntrySink } from "./tar-parser.js";

/** Longer lines are no RECORD row (a path is at most 4096 bytes on Linux, plus hash and size): skipped. */
const MAX_LINE = 8192;

/** The path of a RECORD row `path,hash,size`, or undefined for a row without a size column. */
export function recordPath(line: string): string | undefined {
  const parts = line.split(",");
  if (parts.length < 3) return undefined;
  const size = Number(parts[parts.length - 1]);
  const file = parts.slice(0, -2).join(",");
  return file && Number.isFinite(size) ? file : undefined;
}

const COMMA = 0x2c;

/**
 * recordPath of the row in bytes[start, end) (without its newline), decoded from the bytes: split from the row's
 * text, a path of 13 characters or more was a slice that kept the whole row (hash and size too) alive for the rest
 * of the scan. A comma byte is never part of a longer UTF-8 sequence, so the bytes split where the text does; a CR
 * before the newline ends the size column, which Number() trims.
 */
export function recordPathIn(bytes: Buffer, start: number, end: number): string | undefined {
  // lastIndexOf counts a negative offset from the buffer's end: the search stops short of it.
  const last = end > start ? bytes.lastIndexOf(COMMA, end - 1) : -1;
  if (last < start || last === start) return undefined;
  const second = bytes.lastIndexOf(COMMA, last - 1);
  if (second < start || second === start) return undefined;
  return Number.isFinite(Number(bytes.toString("utf8", last + 1, end)))
    ? bytes.toString("utf8", start, second)
    : undefined;
}

/**
 * A sink for one RECORD file: calls `done` with the paths it lists, or with undefined when the budget ran out
 * part way (a partial list would understate the package, so none is kept).
 */
export function recordSink(budget: Budget, done: (paths: string[] | undefined) => void): EntrySink {
  const paths: string[] = [];
  let charged = 0;
  let partial: Buffer[] = [];
  let partialLength = 0;
  let overlong = false;
  let overBudget = false;
  const line = (bytes: Buffer, start: number, end: number) => {
    const file = recordPathIn(bytes, start, end);
    if (file === undefined || overBudget) return;
    const cost = costOf(file);
    if (budget.take(cost)) {
      paths.push(file);
      charged += cost;
    } else {
      overBudget = true;
      budget.release(charged);
      paths.length = 0;
    }
  };
  const piece = (bytes: Buffer) => {
    if (overlong) return;
    if (partialLength + bytes.length > MAX_LINE) {
      overlong = true;
      partial = [];
      partialLength = 0;
      return;
    }
    // Copied: the parser reuses its buffers once data() returns.
    partial.push(Buffer.from(bytes));
    partialLength += bytes.length;
  };
  const whole = () => {
    const bytes = Buffer.concat(partial);
    line(bytes, 0, bytes.length);
  };
  return {
    data(chunk) {
      let at = 0;
      for (let newline = chunk.indexOf(10, at); newline !== -1; newline = chunk.indexOf(10, at)) {
        if (overlong) overlong = false;
        else if (partialLength === 0) {
          if (newline - at <= MAX_LINE) line(chunk, at, newline);
        } else {
          piece(chunk.subarray(at, newline));
          if (!overlong) whole();
          overlong = false;
        }
        partial = [];
        partialLength = 0;
        at = newline + 1;
      }
      if (at < chunk.length) piece(chunk.subarray(at));
    },
    end() {
      if (partialLength > 0 && !overlong) whole();
      done(overBudget ? undefined : paths);
    },
  };
}
