// The lock stage's pyproject reduction, run with real Poetry's interpreter and checked by real Poetry.
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type NormalizeOptions, normalizePyprojectCommand } from "../../src/generate/normalize.js";

const root = new URL("../..", import.meta.url).pathname;
const poetry = join(root, "scripts/poetry");

/** Run the exact shell command a generated Dockerfile runs, with the given Poetry's python. */
function reduce(version: string, project: string, options: NormalizeOptions = {}, into?: string): string {
  execFileSync(poetry, [version, "--version"]); // makes the pinned Poetry venv if missing
  const python = join(root, ".cache/poetry", version, "bin/python");
  const out = into ?? mkdtempSync(join(tmpdir(), "couplet-deps-"));
  const command = normalizePyprojectCommand(python, project, out, options).replace(/ \\\n/g, " ");
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

  it("reads only the tables it keeps: every TOML type in an unrelated table is left alone", () => {
    const dir = copy(project);
    const before = readFileSync(join(reduce(version, dir), "pyproject.toml"), "utf8");
    const path = join(dir, "pyproject.toml");
    // After [build-system], so [tool] is also split in two (tomlkit's out-of-order tables).
    writeFileSync(path, `${readFileSync(path, "utf8")}\n${EVERY_TOML_TYPE}`);
    const deps = reduce(version, dir);
    expect(readFileSync(join(deps, "pyproject.toml"), "utf8")).toBe(before);
    const check = spawnSync(poetry, [version, "check", "--lock"], { cwd: deps, encoding: "utf8" });
    expect(check.status, check.stderr + check.stdout).toBe(0);
  });
});

/** One value of each TOML type, in a table Poetry's content-hash does not cover (towncrier's dates are the real case). */
const EVERY_TOML_TYPE = `[tool.towncrier]
release-date = 2024-05-01
released-at = 2024-05-01T12:30:00+02:00
released-utc = 1979-05-27T07:32:00.999Z
local-datetime = 1979-05-27T07:32:00
local-time = 07:32:00.5
biggest = 9223372036854775807
smallest = -9223372036854775808
hex = 0xDEADBEEF
octal = 0o755
binary = 0b1101
tiny = 6.626e-34
pos-inf = inf
neg-inf = -inf
not-a-number = nan
flag = false
literal = 'C:\\no\\escapes'
multiline = """
two
lines"""
nested = { when = 2024-01-01, times = [07:00:00, 08:30:00], inf = -inf }

[[tool.towncrier.type]]
directory = "feature"
at = 2024-05-01T00:00:00-05:00

[[tool.towncrier.type]]
directory = "bugfix"
at = 2024-05-02
`;

describe("reduced pyproject of a plugin host (test/fixtures/projects/monorepo, Poetry 2.2.1)", () => {
  const project = join(root, "test/fixtures/projects/monorepo");
  /** `poetry install --no-root` as the builder runs it, beside the path dependencies the builder copies. */
  function installDryRun(options: NormalizeOptions) {
    const dir = mkdtempSync(join(tmpdir(), "couplet-plugin-host-"));
    for (const folder of ["libs", "plugins"])
      cpSync(join(project, folder), join(dir, folder), { recursive: true });
    reduce("2.2.1", project, options, dir);
    const args = ["2.2.1", "install", "--only", "main", "--extras", "all", "--no-root", "--dry-run"];
    const result = spawnSync(poetry, args, { cwd: dir, encoding: "utf8" });
    return { ...result, lock: readFileSync(join(dir, "poetry.lock"), "utf8") };
  }

  it("keeps the root version a locked plugin requires, so the install solves", () => {
    const blanked = installDryRun({});
    expect(blanked.stdout + blanked.stderr).toMatch(/myapp is 0, version solving failed/);
    const kept = installDryRun({ keepVersion: true, nonEditable: true });
    expect(kept.status, kept.stdout + kept.stderr).toBe(0);
    expect(kept.stdout).toMatch(/Installing mylib \(0\.3\.0 /);
    // Production copies the venv only: the lock the install reads makes the path dependency a regular install.
    expect(kept.lock).not.toMatch(/^develop = true$/m);
    expect(kept.lock).toMatch(/^develop = false$/m);
  });
});
