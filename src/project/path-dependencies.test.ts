import { cp, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { analyze } from "./analyze.js";

const fixtures = new URL("../../test/fixtures/projects/", import.meta.url).pathname;

/** The monorepo fixture in a temporary folder, with one file added to its local library. */
async function withLibFile(name: string, text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "couplet-pathdeps-"));
  await cp(join(fixtures, "monorepo"), dir, { recursive: true });
  await writeFile(join(dir, "libs/mylib", name), text);
  return dir;
}

describe("path dependencies read from poetry.lock (Poetry 2.2.1 monorepo fixture)", () => {
  it("finds each folder, its develop flag, and that pure-Python folders compile nothing", async () => {
    const project = await analyze(join(fixtures, "monorepo"));
    expect(project.pathDependencies).toEqual([
      {
        name: "myapp-plugin-hello",
        version: "1.0.0",
        path: "plugins/hello",
        kind: "directory",
        develop: false,
        inContext: true,
        compiles: undefined,
      },
      {
        name: "mylib",
        version: "0.3.0",
        path: "libs/mylib",
        kind: "directory",
        develop: true,
        inContext: true,
        compiles: undefined,
      },
    ]);
  });

  it.each([
    ["a C source", "src/mylib/_speed.c", "int x;\n", /native sources \(src\/mylib\/_speed\.c\)/],
    ["a Rust crate", "Cargo.toml", "[package]\nname = 'x'\n", /native sources \(Cargo\.toml\)/],
  ])("a folder with %s is compiled", async (_what, file, text, reason) => {
    const project = await analyze(await withLibFile(file, text));
    expect(project.pathDependencies.find((d) => d.name === "mylib")?.compiles).toMatch(reason);
  });

  it("a folder whose build backend compiles is compiled", async () => {
    const pyproject =
      '[project]\nname = "mylib"\nversion = "0.3.0"\n\n[build-system]\nrequires = ["maturin>=1,<2"]\nbuild-backend = "maturin"\n';
    const project = await analyze(await withLibFile("pyproject.toml", pyproject));
    expect(project.pathDependencies.find((d) => d.name === "mylib")?.compiles).toBe(
      "its build backend maturin compiles",
    );
  });

  it("a folder outside the project is marked outside the build context", async () => {
    const project = await analyze(join(fixtures, "path-outside/app"));
    expect(project.pathDependencies).toMatchObject([{ name: "shared", path: "../shared", inContext: false }]);
  });
});
