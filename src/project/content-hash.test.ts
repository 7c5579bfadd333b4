import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { contentHash, type HashScheme, hashSchemesFor } from "./content-hash.js";
import { parseLock } from "./lock.js";
import { parseToml } from "./toml.js";

const FIXTURES = fileURLToPath(new URL("../../test/fixtures/projects/", import.meta.url));

async function load(name: string) {
  const dir = join(FIXTURES, name);
  const [py, lock] = await Promise.all([
    readFile(join(dir, "pyproject.toml"), "utf8"),
    readFile(join(dir, "poetry.lock"), "utf8"),
  ]);
  return { root: parseToml(py, "pyproject.toml"), lock: parseLock(lock, "poetry.lock") };
}

// Which Poetry wrote each fixture's lock, and so which hashing scheme must reproduce its content-hash.
const WRITERS: [string, string, HashScheme][] = [
  ["poetry11", "1.1.15", "1.1"],
  ["poetry12-groups", "1.2.2", "1.2"],
  ["poetry1-groups", "1.8.5", "1.2"],
  ["src-layout", "1.8.5", "1.2"],
  ["pep621", "2.2.1", "2"],
  ["package-mode-false", "2.2.1", "2"],
  ["extras-dynamic", "2.2.1", "2"],
  ["pep735-groups", "2.2.1", "2"],
];

describe("contentHash reproduces the hash real Poetry wrote", () => {
  for (const [name, poetry, scheme] of WRITERS) {
    it(`${name} (Poetry ${poetry}, scheme ${scheme})`, async () => {
      const { root, lock } = await load(name);
      expect(contentHash(root, scheme)).toBe(lock.contentHash);
      expect(hashSchemesFor(lock.generatedBy, lock.lockVersion)).toContain(scheme);
    });
  }

  it("the schemes really differ: Poetry 1.1 ignores groups, Poetry 1.x ignores [project]", async () => {
    const groups = await load("poetry12-groups");
    expect(contentHash(groups.root, "1.1")).not.toBe(groups.lock.contentHash);
    const pep621 = await load("pep621");
    expect(contentHash(pep621.root, "1.2")).not.toBe(pep621.lock.contentHash);
  });
});

describe("hashSchemesFor", () => {
  it("follows the @generated header, else the lock-version", () => {
    expect(hashSchemesFor("1.1.15", "1.1")).toEqual(["1.1"]);
    expect(hashSchemesFor("1.4.2", "2.0")).toEqual(["1.2"]);
    expect(hashSchemesFor("2.0.1", "2.1")).toEqual(["2"]);
    expect(hashSchemesFor(undefined, "2.1")).toEqual(["2"]);
    // Poetry 1.1 and 1.2 both wrote lock-version 1.1 without a header.
    expect(hashSchemesFor(undefined, "1.1")).toEqual(["1.1", "1.2"]);
  });
});
