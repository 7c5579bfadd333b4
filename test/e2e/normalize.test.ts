// The lock stage's pyproject reduction, run with real Poetry's interpreter and checked by real Poetry.
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { normalizePyprojectCommand } from "../../src/generate/normalize.js";

const root = new URL("../..", import.meta.url).pathname;
const poetry = join(root, "scripts/poetry");

/** Run the exact shell command a generated Dockerfile runs, with the given Poetry's python. */
function reduce(version: string, project: string): string {
  execFileSync(poetry, [version, "--version"]); // makes the pinned Poetry venv if missing
  const python = join(root, ".cache/poetry", version, "bin/python");
  const out = mkdtempSync(join(tmpdir(), "couplet-deps-"));
  const command = normalizePyprojectCommand(python, project, out).replace(/ \\\n/g, " ");
  execFileSync("sh", ["-c", command]);
  return out;
}

function copy(project: string): string {
  const dir = mkdtempSync(join(tmpdir(), "couplet-norm-"));
  cpSync(join(root, project), dir, { recursive: true });
  return dir;
}

const cases = [
  { project: "test/fixtures/projects/poetry1-groups", poetry: "1.8.5" },
  { project: "test/fixtures/projects/pep621", poetry: "2.2.1" },
];

describe.each(cases)("reduced pyproject of $project (Poetry $poetry)", ({ project, poetry: version }) => {
  it("still matches poetry.lock, for real Poetry", () => {
    const deps = reduce(version, join(root, project));
    const check = spawnSync(poetry, [version, "check", "--lock"], { cwd: deps, encoding: "utf8" });
    expect(check.stderr + check.stdout).not.toMatch(/not consistent|out of date|changed significantly/i);
    expect(check.status).toBe(0);
  });

  it("keeps its bytes across cosmetic edits and changes with a dependency", () => {
    const dir = copy(project);
    const before = readFileSync(join(reduce(version, dir), "pyproject.toml"), "utf8");
    const path = join(dir, "pyproject.toml");
    const text = readFileSync(path, "utf8");
    const cosmetic = `${text.replace(/^description = ".*"$/m, 'description = "Something else entirely"').replace(/^version = ".*"$/m, 'version = "9.9.9"')}\n# cache busting comment\n\n[tool.ruff]\nline-length = 123\n`;
    writeFileSync(path, cosmetic);
    expect(readFileSync(join(reduce(version, dir), "pyproject.toml"), "utf8")).toBe(before);
    const dependencyTable = /^\[tool\.poetry\.dependencies\]$/m.test(cosmetic)
      ? cosmetic.replace(/^\[tool\.poetry\.dependencies\]$/m, '[tool.poetry.dependencies]\nsix = "*"')
      : cosmetic.replace(/^dependencies = \[/m, 'dependencies = [\n    "six",');
    writeFileSync(path, dependencyTable);
    expect(readFileSync(join(reduce(version, dir), "pyproject.toml"), "utf8")).not.toBe(before);
  });
});
