// Mutated real pyprojects and locks must give a Project or a UserError: never a crash of another kind.
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { parse, stringify } from "smol-toml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fuzzParameters } from "../../test/support/fuzz.js";
import { prng } from "../../test/support/prng.js";
import { formatUserError, UserError } from "../errors.js";
import { analyze } from "./analyze.js";
import { parseLock } from "./lock.js";

const FIXTURES = fileURLToPath(new URL("../../test/fixtures/projects/", import.meta.url));
// The large lock is for the benchmark: mutating it a few hundred times would only make this test slow.
const SKIP = new Set(["large"]);

type Rand = () => number;
const pick = <T>(rand: Rand, list: readonly T[]): T => list[Math.floor(rand() * list.length)] as T;

type Container = Record<string, unknown> | unknown[];

/** Every (container, key) pair of a parsed document, to delete or retype one of them. */
function slots(value: unknown, out: [Container, string | number][] = []): [Container, string | number][] {
  if (Array.isArray(value))
    value.forEach((item, i) => {
      out.push([value, i]);
      slots(item, out);
    });
  else if (value !== null && typeof value === "object" && !(value instanceof Date))
    for (const [key, item] of Object.entries(value)) {
      out.push([value as Record<string, unknown>, key]);
      slots(item, out);
    }
  return out;
}

const WRONG_VALUES: unknown[] = [
  "",
  "not a version",
  42,
  -1.5,
  true,
  [],
  [1, "two", { three: 3 }],
  {},
  { file: 1, hash: false },
  new Date("2024-01-01T00:00:00Z"),
  "constructor",
];

function mutate(text: string, rand: Rand): { text: string; how: string } {
  const kind = Math.floor(rand() * 6);
  if (kind === 0) {
    const at = Math.floor(rand() * text.length);
    return { text: text.slice(0, at), how: `truncate at ${at}` };
  }
  if (kind === 1) {
    const bytes = Buffer.from(text, "utf8");
    const flips = 1 + Math.floor(rand() * 4);
    for (let i = 0; i < flips; i++) bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
    return { text: bytes.toString("utf8"), how: `flip ${flips} bytes` };
  }
  if (kind === 2) {
    const lines = text.split("\n");
    const at = Math.floor(rand() * lines.length);
    lines.splice(at, 1);
    return { text: lines.join("\n"), how: `delete line ${at + 1}` };
  }
  // Structural mutations: parse, change one slot, write back as TOML.
  const doc = parse(text);
  const all = slots(doc);
  if (all.length === 0) return { text, how: "unchanged" };
  const [container, key] = pick(rand, all);
  if (kind === 3) {
    if (Array.isArray(container)) container.splice(key as number, 1);
    else delete container[key as string];
    return { text: stringify(doc), how: `delete ${String(key)}` };
  }
  const value = pick(rand, WRONG_VALUES);
  (container as Record<string | number, unknown>)[key] = value;
  return { text: stringify(doc), how: `set ${String(key)} = ${JSON.stringify(value)}` };
}

let fixtures: { name: string; pyproject: string; lock: string }[] = [];
let work: string;

beforeAll(async () => {
  const names = (await readdir(FIXTURES, { withFileTypes: true }))
    // A folder without a lock at its top (path-outside holds two projects) is not one fixture.
    .filter((d) => d.isDirectory() && !SKIP.has(d.name) && existsSync(join(FIXTURES, d.name, "poetry.lock")))
    .map((d) => d.name)
    .sort();
  fixtures = await Promise.all(
    names.map(async (name) => ({
      name,
      pyproject: await readFile(join(FIXTURES, name, "pyproject.toml"), "utf8"),
      lock: await readFile(join(FIXTURES, name, "poetry.lock"), "utf8"),
    })),
  );
  work = await mkdtemp(join(tmpdir(), "couplet-fuzz-"));
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function outcome(run: () => unknown): Promise<"ok" | "user-error" | unknown> {
  try {
    await run();
    return "ok";
  } catch (error) {
    // A user error is fine only as one line: a raw newline from the input would split it.
    if (error instanceof UserError && !formatUserError(error).includes("\n")) return "user-error";
    return error;
  }
}

/** Each outcome in at least 1 case of 15 (checked from 100 cases up, where chance cannot miss it). */
function bothOutcomes(tally: { ok: number; "user-error": number }): void {
  const runs = tally.ok + tally["user-error"];
  if (runs < 100) return;
  expect(tally.ok).toBeGreaterThan(runs / 15);
  expect(tally["user-error"]).toBeGreaterThan(runs / 15);
}

// fast-check draws the mutation seed (replayable with COUPLET_FUZZ_SEED); each case is bounded in time.
const CASE_TIMEOUT_MS = 5000;

describe("readers never crash on mutated real inputs (property)", () => {
  it("parseLock: mutated lock files give a lock or a one-line user error", async () => {
    const tally = { ok: 0, "user-error": 0 };
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.nat(), async (pickSeed, mutationSeed) => {
        const fixture = fixtures[pickSeed % fixtures.length] as (typeof fixtures)[number];
        const { text, how } = mutate(fixture.lock, prng(mutationSeed));
        const result = await outcome(() => parseLock(text, "poetry.lock"));
        if (result !== "ok" && result !== "user-error")
          expect.fail(`${fixture.name}, ${how}: threw ${String(result)}`);
        tally[result]++;
      }),
      fuzzParameters(300, { timeout: CASE_TIMEOUT_MS }),
    );
    // Both outcomes happen: the mutations reach past the TOML parser into the lock reader.
    bothOutcomes(tally);
  });

  it("analyze: projects with a mutated pyproject.toml or poetry.lock", async () => {
    const tally = { ok: 0, "user-error": 0 };
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.boolean(), fc.nat(), async (pickSeed, onPyproject, mutationSeed) => {
        const fixture = fixtures[pickSeed % fixtures.length] as (typeof fixtures)[number];
        const target = onPyproject ? "pyproject.toml" : "poetry.lock";
        const { text, how } = mutate(onPyproject ? fixture.pyproject : fixture.lock, prng(mutationSeed));
        await writeFile(join(work, "pyproject.toml"), onPyproject ? text : fixture.pyproject);
        await writeFile(join(work, "poetry.lock"), onPyproject ? fixture.lock : text);
        const result = await outcome(() => analyze(work));
        if (result !== "ok" && result !== "user-error")
          expect.fail(`${fixture.name} ${target}, ${how}: threw ${String(result)}`);
        tally[result]++;
      }),
      fuzzParameters(200, { timeout: CASE_TIMEOUT_MS }),
    );
    bothOutcomes(tally);
  });
});
