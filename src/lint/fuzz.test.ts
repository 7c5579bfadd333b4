// Mutated real Dockerfiles (the seed variants, deterministic PRNG): lint either reports findings or refuses with a
// UserError; it never crashes, and every finding points inside the file.
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { isUserError } from "../errors.js";
import { fixText, lintText } from "./engine.js";

const dir = new URL("../../test/fixtures/dockerfiles/", import.meta.url);
const corpus = ["seed/", "examples/"].flatMap((sub) =>
  readdirSync(new URL(sub, dir))
    .filter((f) => /dockerfile$/i.test(f))
    .map((f) => readFileSync(new URL(`${sub}${f}`, dir), "utf8")),
);

/** mulberry32: small, seeded, reproducible. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = [
  "\\\n",
  "\n",
  '"',
  "'",
  "&&",
  ";",
  "|",
  "$",
  "${",
  "<<EOF\n",
  "EOF\n",
  "[",
  "]",
  "--mount=",
  "FROM ",
  "AS ",
  "\r\n",
  "#",
  " ",
  "=",
];

function mutate(text: string, random: () => number): string {
  let out = text;
  const edits = 1 + Math.floor(random() * 6);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(random() * (out.length + 1));
    const kind = random();
    if (kind < 0.35) out = out.slice(0, at) + out.slice(at + 1 + Math.floor(random() * 20));
    else if (kind < 0.7)
      out = out.slice(0, at) + PIECES[Math.floor(random() * PIECES.length)] + out.slice(at);
    else {
      const from = Math.floor(random() * out.length);
      out = out.slice(0, at) + out.slice(from, from + Math.floor(random() * 80)) + out.slice(at);
    }
  }
  return out;
}

describe("lint never crashes on mutated Dockerfiles", () => {
  it("400 mutations of the seed variants", () => {
    const random = prng(20261123);
    let refused = 0;
    let linted = 0;
    for (let i = 0; i < 400; i++) {
      const text = mutate(corpus[i % corpus.length] as string, random);
      const lines = text.split("\n").length;
      try {
        const findings = lintText(text, "Dockerfile");
        for (const f of findings) {
          expect(f.line).toBeGreaterThanOrEqual(1);
          expect(f.line).toBeLessThanOrEqual(lines);
          expect(f.column).toBeGreaterThanOrEqual(1);
        }
        const fixed = fixText(text, "Dockerfile");
        expect(typeof fixed.text).toBe("string");
        linted++;
      } catch (error) {
        if (!isUserError(error)) throw new Error(`crash on mutation ${i}: ${String(error)}\n---\n${text}`);
        expect(error.exitCode).toBe(2);
        refused++;
      }
    }
    // Both paths were exercised.
    expect(linted).toBeGreaterThan(60);
    expect(refused).toBeGreaterThan(10);
  });
});
