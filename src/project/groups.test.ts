import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { deriveGroups } from "./groups.js";
import { parseLockWithEdges } from "./lock.js";
import { readPyproject } from "./pyproject.js";
import { parseToml, TomlDoc } from "./toml.js";

const FIXTURES = fileURLToPath(new URL("../../test/fixtures/projects/", import.meta.url));

// Poetry 2 records each package's groups in lock 2.1: the derivation used for older locks must agree with it.
describe("deriveGroups agrees with the groups Poetry 2.2 wrote into lock 2.1", () => {
  for (const name of ["pep621", "package-mode-false", "extras-dynamic", "pep735-groups", "large"]) {
    it(name, async () => {
      const dir = join(FIXTURES, name);
      const [pyText, lockText] = await Promise.all([
        readFile(join(dir, "pyproject.toml"), "utf8"),
        readFile(join(dir, "poetry.lock"), "utf8"),
      ]);
      const info = readPyproject(
        new TomlDoc(pyText, "pyproject.toml", parseToml(pyText, "pyproject.toml")),
        name,
      );
      const { lock, edges } = parseLockWithEdges(lockText, "poetry.lock");
      expect(lock.lockVersion).toBe("2.1");
      const derived = deriveGroups(lock.packages, edges, info.groupRoots);
      const expected = Object.fromEntries(lock.packages.map((p) => [p.name, [...p.groups].sort()]));
      const actual = Object.fromEntries(
        lock.packages.map((p, i) => [p.name, [...(derived[i] ?? [])].sort()]),
      );
      expect(actual).toEqual(expected);
    });
  }
});
