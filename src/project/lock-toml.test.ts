import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "smol-toml";
import { describe, expect, it } from "vitest";
import { parseLockToml } from "./lock-toml.js";

const FIXTURES = fileURLToPath(new URL("../../test/fixtures/projects/", import.meta.url));
const EXAMPLES = fileURLToPath(new URL("../../examples/", import.meta.url));

async function locks(): Promise<{ name: string; text: string }[]> {
  const out: { name: string; text: string }[] = [];
  for (const root of [FIXTURES, EXAMPLES]) {
    const dirs = await readdir(root, { withFileTypes: true }).catch(() => []);
    for (const d of dirs.filter((d) => d.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
      const text = await readFile(join(root, d.name, "poetry.lock"), "utf8").catch(() => undefined);
      if (text !== undefined) out.push({ name: d.name, text });
    }
  }
  return out;
}

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function fullParse(text: string): unknown {
  try {
    return parse(text, { integersAsBigInt: true });
  } catch {
    return "invalid";
  }
}

describe("parseLockToml reads what smol-toml reads", () => {
  it("takes the fast path on every real lock (Poetry 1.1 to 2.2) and gives the same document", async () => {
    const all = await locks();
    expect(all.length).toBeGreaterThanOrEqual(8);
    for (const { name, text } of all) {
      const fast = parseLockToml(text);
      expect(fast, `${name}: fell back to the full parser`).toBeDefined();
      expect(fast, name).toEqual(fullParse(text));
    }
  });

  it("on 400 small mutations it either gives up or agrees with smol-toml, never accepts invalid TOML", async () => {
    const all = (await locks()).filter((l) => l.text.length < 200_000);
    const rand = prng(7);
    // Characters that matter to TOML's grammar, to hit the scanner's edges rather than only string contents.
    const pieces = [
      '"',
      "'",
      "[",
      "]",
      "{",
      "}",
      ",",
      "=",
      "#",
      "\n",
      "\r",
      "\t",
      " ",
      "\\",
      ".",
      "1",
      "x",
      "\u0001",
      "\u007f",
      '"""',
    ];
    let accepted = 0;
    for (let i = 0; i < 400; i++) {
      const { name, text } = all[Math.floor(rand() * all.length)] as { name: string; text: string };
      // Mutate near structure: pick a random line start region to keep cases varied but cheap.
      const at = Math.floor(rand() * text.length);
      const cut = Math.floor(rand() * 3);
      const insert = rand() < 0.8 ? (pieces[Math.floor(rand() * pieces.length)] as string) : "";
      const mutated = text.slice(0, at) + insert + text.slice(at + cut);
      const fast = parseLockToml(mutated);
      if (fast === undefined) continue;
      accepted++;
      expect(fast, `case ${i} (${name}) at ${at}: ${JSON.stringify(insert)} replacing ${cut}`).toEqual(
        fullParse(mutated),
      );
    }
    expect(accepted).toBeGreaterThan(50);
  });

  it("gives up on constructs outside Poetry's subset", () => {
    for (const text of [
      "a = 1\n",
      "a.b = 'x'\n",
      'a = """x"""\n',
      'a = "\\u00e9"\n',
      "a = 1979-05-27\n",
      '[a]\nb = "x"\n[a]\n',
      'a = {b = "x"}\n[a]\n',
      'a = "x"\na = "y"\n',
    ])
      expect(parseLockToml(text), JSON.stringify(text)).toBeUndefined();
  });
});
