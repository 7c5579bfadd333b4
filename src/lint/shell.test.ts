import { describe, expect, it } from "vitest";
import { parseShell, scriptFrom } from "./shell.js";

function commands(text: string) {
  return parseShell(scriptFrom(text, 0, text.length)).map((c) => ({
    env: c.assignments.map((a) => `${a.name}=${a.value}`),
    argv: c.argv.map((w) => w.value),
    after: c.after,
  }));
}

describe("shell reader", () => {
  it("splits on &&, ||, ; and | and keeps the operator", () => {
    expect(commands("a 1 && b || c; d | e").map((c) => [c.argv.join(" "), c.after])).toEqual([
      ["a 1", undefined],
      ["b", "&&"],
      ["c", "||"],
      ["d", ";"],
      ["e", "|"],
    ]);
  });

  it("keeps quoted operators inside words", () => {
    expect(commands(`echo "a && b" 'c;d' e\\;f`)[0]?.argv).toEqual(["echo", "a && b", "c;d", "e;f"]);
  });

  it("reads leading assignments and strips sudo/env wrappers", () => {
    expect(commands("POETRY_CACHE_DIR=/tmp/pc poetry install")[0]).toMatchObject({
      env: ["POETRY_CACHE_DIR=/tmp/pc"],
      argv: ["poetry", "install"],
    });
    expect(commands("sudo -E env A=1 pip install x")[0]?.argv).toEqual(["pip", "install", "x"]);
  });

  it("joins line continuations and skips comment lines inside them, with offsets into the original text", () => {
    const text = "apt-get update \\\n# a comment\n  && apt-get install -y gcc";
    const parsed = parseShell(scriptFrom(text, 0, text.length));
    expect(parsed.map((c) => c.argv.map((w) => w.value).join(" "))).toEqual([
      "apt-get update",
      "apt-get install -y gcc",
    ]);
    const gcc = parsed[1]?.argv[3];
    expect(text.slice(gcc?.start, gcc?.end)).toBe("gcc");
  });

  it("keeps command substitutions whole and ignores shell keywords", () => {
    expect(commands("if true; then pip install $(cat req.txt); fi").map((c) => c.argv.join(" "))).toEqual([
      "true",
      "pip install $(cat req.txt)",
    ]);
  });

  it("never throws on an unterminated quote", () => {
    expect(commands(`echo "unterminated`)[0]?.argv).toEqual(["echo", "unterminated"]);
  });
});
