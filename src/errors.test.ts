import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fuzzParameters } from "../test/support/fuzz.js";
import {
  formatUserError,
  InputFileError,
  OutputFileError,
  quote,
  RefusedError,
  UserError,
} from "./errors.js";

describe("user error lines", () => {
  it("escape a newline, a carriage return and terminal escapes from the user's value", () => {
    const error = new UserError(`unknown group ${quote('dev"\nRUN echo\r\u001b[31m')}`, {
      location: { file: "a\nb/pyproject.toml", line: 3 },
      hint: "x\ny",
    });
    expect(formatUserError(error)).toBe(
      'a\\nb/pyproject.toml:3: unknown group "dev\\"\\nRUN echo\\r\\u001b[31m" (x\\ny)',
    );
  });

  it("are one line whatever the message, file and hint hold (property)", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), (message, file, hint) => {
        const line = formatUserError(new UserError(message, { location: { file }, hint }));
        expect(line).not.toMatch(/[\n\r\u2028\u2029]/);
      }),
      fuzzParameters(),
    );
  });

  it("carry the exit code of their kind", () => {
    expect(new InputFileError("x").exitCode).toBe(2);
    expect(new OutputFileError("x").exitCode).toBe(2);
    expect(new RefusedError("x").exitCode).toBe(1);
  });
});
