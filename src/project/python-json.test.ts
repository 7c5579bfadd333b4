import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { prng } from "../../test/support/prng.js";
import { pythonJsonDumps } from "./python-json.js";
import { parseToml } from "./toml.js";

const ALPHABET = [
  "a",
  "Z",
  "0",
  " ",
  "-",
  '"',
  "\\",
  "\n",
  "\t",
  "\u0001",
  "\u007f",
  "é",
  "ß",
  "中",
  "😀",
  "\u2028",
  "^",
  "~",
  "'",
];

function randomValue(rand: () => number, depth: number): unknown {
  const kind = Math.floor(rand() * (depth > 2 ? 5 : 7));
  const text = () =>
    Array.from({ length: Math.floor(rand() * 8) }, () => ALPHABET[Math.floor(rand() * ALPHABET.length)]).join(
      "",
    );
  switch (kind) {
    case 0:
      return text();
    case 1:
      return BigInt(Math.floor((rand() - 0.5) * 1e12));
    case 2: {
      const floats = [0.1, 1.0, -2.5, 1e-7, 1.5e16, 123456789.125, 1e22, 2.71875, 0.0001, 1e-5, 2 ** 60];
      return floats[Math.floor(rand() * floats.length)];
    }
    case 3:
      return rand() < 0.5;
    case 4:
      return null;
    case 5:
      return Array.from({ length: Math.floor(rand() * 4) }, () => randomValue(rand, depth + 1));
    default:
      return Object.fromEntries(
        Array.from({ length: Math.floor(rand() * 4) }, () => [text(), randomValue(rand, depth + 1)]),
      );
  }
}

/** Python's own json.dumps(sort_keys=True) of the same values, as the reference. */
function pythonDumps(values: unknown[]): string[] {
  const encoded = JSON.stringify(values, (_k, v) =>
    typeof v === "bigint"
      ? { __int__: v.toString() }
      : typeof v === "number"
        ? { __float__: v.toString() }
        : v,
  );
  const script = `
import json, sys
def decode(o):
    if "__int__" in o: return int(o["__int__"])
    if "__float__" in o: return float(o["__float__"])
    return o
values = json.loads(sys.stdin.read(), object_hook=decode)
print(json.dumps([json.dumps(v, sort_keys=True) for v in values]))
`;
  return JSON.parse(
    execFileSync("python3", ["-c", script], { input: encoded, encoding: "utf8" }),
  ) as string[];
}

describe("pythonJsonDumps matches Python's json.dumps(sort_keys=True) byte for byte", () => {
  it("on 300 random nested values (escapes, astral characters, floats, big integers, key order)", () => {
    const rand = prng(20261123);
    const values = Array.from({ length: 300 }, () => randomValue(rand, 0));
    const expected = pythonDumps(values);
    values.forEach((value, i) => {
      expect(pythonJsonDumps(value), JSON.stringify(expected[i])).toBe(expected[i]);
    });
  });

  it("on a real Poetry dependency table as smol-toml parses it", () => {
    const doc = parseToml(
      'python = "^3.11"\nflask = { version = "^3.0", extras = ["async"] }\nnumpy = [{ version = "<2", python = "<3.12" }, { version = ">=2", python = ">=3.12" }]\nx = 1.0\ny = 7\n',
      "pyproject.toml",
    );
    expect(pythonJsonDumps(doc)).toBe(
      '{"flask": {"extras": ["async"], "version": "^3.0"}, "numpy": [{"python": "<3.12", "version": "<2"}, {"python": ">=3.12", "version": ">=2"}], "python": "^3.11", "x": 1.0, "y": 7}',
    );
  });
});
