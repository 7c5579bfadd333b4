import { cpSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { UserError } from "../errors.js";
import {
  cacheBustingEdit,
  checkDependencyChange,
  dependencyEdit,
  findSourceFile,
  sourceEdit,
} from "./edits.js";

const example = new URL("../../examples/flask-uwsgi/", import.meta.url).pathname;
const prepared = new URL("../../test/fixtures/bench/flask-uwsgi/", import.meta.url).pathname;

function copy(): string {
  const dir = mkdtempSync(join(tmpdir(), "couplet-edits-"));
  cpSync(example, dir, { recursive: true, filter: (p) => !p.includes(".venv") });
  return dir;
}

describe("bench edits", () => {
  it("appends the seed's cache-busting comment to pyproject.toml", async () => {
    const dir = copy();
    const before = readFileSync(join(dir, "pyproject.toml"), "utf8");
    await cacheBustingEdit(dir, "n1");
    expect(readFileSync(join(dir, "pyproject.toml"), "utf8")).toBe(`${before}# cache busting comment n1\n`);
  });

  it("swaps in the prepared pyproject.toml and poetry.lock that add a dependency", async () => {
    const dir = copy();
    await checkDependencyChange(prepared);
    await dependencyEdit(dir, prepared, "n2");
    expect(readFileSync(join(dir, "pyproject.toml"), "utf8")).toMatch(/^requests = "2\.32\.3"$/m);
    const lock = readFileSync(join(dir, "poetry.lock"), "utf8");
    expect(lock).toMatch(/^name = "requests"$/m);
    expect(lock.endsWith("\n# couplet bench n2\n")).toBe(true);
  });

  it("refuses a dependency-change folder without both files", async () => {
    await expect(checkDependencyChange(`${example}hello_uwsgi`)).rejects.toBeInstanceOf(UserError);
  });

  it("edits the first Python file of the package's sources", async () => {
    const dir = copy();
    const file = await findSourceFile(dir, ["hello_uwsgi"]);
    expect(file).toBe(join(dir, "hello_uwsgi", "__init__.py"));
    await sourceEdit(file as string, "n3");
    expect(readFileSync(file as string, "utf8")).toMatch(/# couplet bench: source edit n3\n$/);
    expect(await findSourceFile(dir, ["missing"])).toBeUndefined();
  });
});
