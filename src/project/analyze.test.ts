import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { UserError } from "../errors.js";
import { generateFor } from "../pipeline.js";
import { analyze } from "./analyze.js";
import type { Project } from "./types.js";

const FIXTURES = fileURLToPath(new URL("../../test/fixtures/projects/", import.meta.url));
const fixture = (name: string) => join(FIXTURES, name);
const groupsOf = (project: Project, name: string) =>
  project.lock.packages.find((p) => p.name === name)?.groups;

const scratch: string[] = [];
afterAll(async () => {
  await Promise.all(scratch.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A copy of a fixture whose pyproject.toml (or lock) the test may edit. */
async function copyOf(name: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `couplet-${name}-`));
  scratch.push(dir);
  await cp(fixture(name), dir, { recursive: true });
  return dir;
}

async function edit(dir: string, file: string, change: (text: string) => string): Promise<void> {
  const path = join(dir, file);
  const before = await readFile(path, "utf8");
  const after = change(before);
  expect(after).not.toBe(before);
  await writeFile(path, after);
}

async function userError(promise: Promise<unknown>): Promise<UserError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UserError);
  return error as UserError;
}

describe("analyze on real Poetry projects", () => {
  it("reads a Poetry 1.x project locked by Poetry 1.8 (lock 2.0): legacy dev group, groups derived from the graph", async () => {
    const p = await analyze(fixture("poetry1-groups"));
    expect(p.metadataFormat).toBe("tool.poetry");
    expect(p.lock).toMatchObject({ lockVersion: "2.0", generatedBy: "1.8.5" });
    expect(p.lockFresh).toBe(true);
    expect(p.python).toEqual({
      constraint: "^3.11",
      source: "tool.poetry.dependencies.python",
      location: { file: p.pyprojectPath, line: 11, column: 1 },
    });
    expect(p.groups.map((g) => [g.name, g.optional, g.declaredIn])).toEqual([
      ["main", false, ["tool.poetry.dependencies"]],
      ["dev", false, ["tool.poetry.dev-dependencies"]],
      ["test", false, ["tool.poetry.group"]],
      ["docs", true, ["tool.poetry.group"]],
    ]);
    expect(groupsOf(p, "uwsgi")).toEqual(["main"]);
    expect(groupsOf(p, "black")).toEqual(["dev"]);
    expect(groupsOf(p, "pytest")).toEqual(["test"]);
    expect(groupsOf(p, "mkdocs")).toEqual(["docs"]);
    // click is both Flask's (main) and black's (dev) dependency.
    expect(groupsOf(p, "click")).toEqual(expect.arrayContaining(["main", "dev"]));
    // uWSGI is published as an sdist only, and the lock says so.
    expect(
      p.lock.packages.find((x) => x.name === "uwsgi")?.files.every((f) => f.file.endsWith(".tar.gz")),
    ).toBe(true);
    expect(p.sourcePaths).toEqual(["poetry1_groups"]);
    expect(p.readme).toEqual(["README.md"]);
    expect(p.scripts).toEqual({ serve: { target: "poetry1_groups.app:main", table: "tool.poetry.scripts" } });
    expect(p.authors).toEqual(["Ada Lovelace <ada@example.org>"]);
    expect(p.urls.homepage).toBe("https://example.org/poetry1-groups");
  });

  it("reads a lock-version 1.1 lock by Poetry 1.1 (categories, [metadata.files], no header)", async () => {
    const p = await analyze(fixture("poetry11"));
    expect(p.lock.lockVersion).toBe("1.1");
    expect(p.lock.generatedBy).toBeUndefined();
    expect(p.lockFresh).toBe(true);
    expect(groupsOf(p, "requests")).toEqual(["main"]);
    expect(groupsOf(p, "pytest")).toEqual(["dev"]);
    const pyyaml = p.lock.packages.find((x) => x.name === "pyyaml");
    expect(pyyaml?.files.some((f) => f.file.endsWith(".whl"))).toBe(true);
    expect(pyyaml?.source).toMatchObject({ type: "legacy", reference: "pypi-simple" });
  });

  it('reads a headerless lock-version 1.1 by Poetry 1.2, whose `category = "dev"` covers every non-main group', async () => {
    const p = await analyze(fixture("poetry12-groups"));
    expect(p.lock).toMatchObject({ lockVersion: "1.1", generatedBy: undefined });
    expect(p.lockFresh).toBe(true);
    expect(groupsOf(p, "click")).toEqual(["main"]);
    expect(groupsOf(p, "pytest")).toEqual(["test"]);
    expect(groupsOf(p, "markdown")).toEqual(["docs"]);
    expect(p.groups.find((g) => g.name === "docs")?.optional).toBe(true);
  });

  it("reads a Poetry 2 PEP 621 project: requires-python, optional dependencies as extras, scripts and entry points", async () => {
    const p = await analyze(fixture("pep621"));
    expect(p.metadataFormat).toBe("project");
    expect(p.lock).toMatchObject({ lockVersion: "2.1", generatedBy: "2.2.1" });
    expect(p.lockFresh).toBe(true);
    expect(p.name).toBe("pep621-app");
    expect(p.version).toBe("1.2.3");
    expect(p.license).toBe("Apache-2.0");
    expect(p.authors).toEqual(["Grace Hopper <grace@example.org>"]);
    expect(p.python).toEqual({
      constraint: ">=3.11,<3.14",
      source: "project.requires-python",
      location: { file: p.pyprojectPath, line: 8, column: 1 },
    });
    expect(p.extras).toEqual({ yaml: ["pyyaml"] });
    expect(p.lock.packages.find((x) => x.name === "pyyaml")?.optional).toBe(true);
    expect(p.scripts).toEqual({ "pep621-app": { target: "pep621_app.cli:main", table: "project.scripts" } });
    expect(p.groups.find((g) => g.name === "main")?.declaredIn).toEqual([
      "project.dependencies",
      "project.optional-dependencies",
    ]);
    expect(p.plugins).toEqual({ "pep621_app.plugins": { builtin: "pep621_app.plugins:builtin" } });
    expect(p.urls).toEqual({
      homepage: "https://example.org/pep621",
      repository: "https://example.org/pep621.git",
    });
    expect(p.groups.find((g) => g.name === "main")?.dependencies).toEqual([
      "httpx",
      "pydantic",
      "lxml",
      "pyyaml",
    ]);
  });

  it("reads PEP 735 [dependency-groups] with include-group, optional from [tool.poetry.group]", async () => {
    const p = await analyze(fixture("pep735-groups"));
    expect(p.groups).toEqual([
      { name: "main", optional: false, declaredIn: ["project.dependencies"], dependencies: ["idna"] },
      // `optional` for a PEP 735 group lives in [tool.poetry.group.lint]: both tables declare it.
      {
        name: "lint",
        optional: true,
        declaredIn: ["tool.poetry.group", "dependency-groups"],
        dependencies: ["ruff"],
      },
      { name: "test", optional: false, declaredIn: ["dependency-groups"], dependencies: ["pytest"] },
      {
        name: "dev",
        optional: false,
        declaredIn: ["dependency-groups"],
        dependencies: ["pytest", "ruff", "coverage"],
      },
    ]);
    expect(p.lockFresh).toBe(true);
  });

  it("refuses a PEP 735 include cycle", async () => {
    const dir = await copyOf("pep735-groups");
    await edit(dir, "pyproject.toml", (t) =>
      t.replace('test = ["pytest>=8"]', 'test = ["pytest>=8", { include-group = "dev" }]'),
    );
    const e = await userError(analyze(dir));
    expect(e.message).toMatch(/includes itself/);
  });

  it("expands include-group once per group: 24 levels that each include the next twice stay fast", async () => {
    const dir = await copyOf("pep735-groups");
    const levels = Array.from(
      { length: 24 },
      (_, k) => `d${k} = [{ include-group = "d${k + 1}" }, { include-group = "d${k + 1}" }]`,
    );
    await edit(dir, "pyproject.toml", (t) =>
      t.replace("[dependency-groups]\n", `[dependency-groups]\n${levels.join("\n")}\nd24 = ["idna"]\n`),
    );
    // Without memoization this is 2^24 expansions (over 25 s); the test would time out.
    const p = await analyze(dir);
    expect(p.groups.find((g) => g.name === "d0")?.dependencies).toEqual(["idna"]);
  });

  it("follows a 3,000-long include-group chain without overflowing the stack, and names a cycle at its end", async () => {
    const dir = await copyOf("pep735-groups");
    const chain = Array.from({ length: 3000 }, (_, k) => `c${k} = [{ include-group = "c${k + 1}" }]`);
    await edit(dir, "pyproject.toml", (t) =>
      t.replace("[dependency-groups]\n", `[dependency-groups]\n${chain.join("\n")}\nc3000 = ["idna"]\n`),
    );
    const p = await analyze(dir);
    expect(p.groups.find((g) => g.name === "c0")?.dependencies).toEqual(["idna"]);
    await edit(dir, "pyproject.toml", (t) =>
      t.replace('c3000 = ["idna"]', 'c3000 = [{ include-group = "c2999" }]'),
    );
    const e = await userError(analyze(dir));
    expect(e.message).toBe('dependency-groups.c2999 includes itself ("c2999" -> "c3000" -> "c2999")');
  });

  it("a lock marker nested 5,000 parentheses deep is evaluated, not a stack overflow", async () => {
    const dir = await copyOf("pep735-groups");
    const deep = `${"(".repeat(5000)}sys_platform == \\"win32\\"${")".repeat(5000)}`;
    await edit(dir, "poetry.lock", (t) =>
      t.replace('markers = "sys_platform == \\"win32\\""', `markers = "${deep}"`),
    );
    const p = await analyze(dir);
    const { packageApplies, linuxCPython } = await import("./markers.js");
    const pkg = p.lock.packages.find((x) => x.markers === deep.replace(/\\"/g, '"'));
    expect(pkg).toBeDefined();
    expect(packageApplies(pkg as NonNullable<typeof pkg>, linuxCPython("3.12"))).toBe(false);
  });

  it("reads package-mode = false: no root package, name from the folder when absent, [tool.couplet] settings", async () => {
    const p = await analyze(fixture("package-mode-false"));
    expect(p.packageMode).toBe(false);
    expect(p.sourcePaths).toEqual([]);
    expect(p.name).toBe("fastapi-service");
    expect(p.version).toBeUndefined();
    expect(p.couplet.cmd).toEqual(["uvicorn", "main:app", "--host", "0.0.0.0", "--port", "8000"]);
    expect(p.couplet.expose).toEqual([8000]);
    expect(p.lockFresh).toBe(true);
  });

  it("reads a src layout from `packages`, a readme list, scripts and plugins", async () => {
    const p = await analyze(fixture("src-layout"));
    expect(p.sourcePaths).toEqual(["src/srccli"]);
    expect(p.readme).toEqual(["README.md", "CHANGELOG.md"]);
    expect(p.scripts).toEqual({ srccli: { target: "srccli.main:cli", table: "tool.poetry.scripts" } });
    expect(p.plugins).toEqual({ "srccli.formats": { json: "srccli.formats:json_format" } });
    expect(p.lockFresh).toBe(true);
  });

  it("copies a `packages` entry inside another one (lnbits: `pkg` and `pkg/py.typed`) once, not twice", async () => {
    const dir = await copyOf("src-layout");
    await writeFile(join(dir, "src", "srccli", "py.typed"), "");
    await edit(dir, "pyproject.toml", (t) =>
      t.replace(
        'packages = [{ include = "srccli", from = "src" }]',
        'packages = [{ include = "srccli", from = "src" }, { include = "srccli/py.typed", from = "src" }, ' +
          '{ include = "srccli", from = "src/", format = "sdist" }]',
      ),
    );
    const p = await analyze(dir);
    expect(p.sourcePaths).toEqual(["src/srccli"]);
    expect(p.lockFresh).toBe(true);
    const { files } = generateFor(p);
    expect(files.dockerfile.match(/^COPY .*srccli.*$/gm)).toEqual([
      "COPY src/srccli ./src/srccli",
      "COPY --from=builder /app/src/srccli /app/src/srccli",
    ]);
  });

  it("reads dynamic dependencies kept in [tool.poetry.dependencies], Poetry extras, an optional group and native overrides", async () => {
    const p = await analyze(fixture("extras-dynamic"));
    expect(p.groups.find((g) => g.name === "main")?.dependencies).toEqual(["requests", "pillow", "numpy"]);
    expect(p.groups.find((g) => g.name === "lint")).toMatchObject({ optional: true, dependencies: ["mypy"] });
    expect(p.extras).toEqual({ images: ["pillow"], science: ["numpy"] });
    expect(p.couplet.extras).toEqual(["images"]);
    expect(p.couplet.copy).toEqual(["data/"]);
    expect(p.couplet.native.pillow).toEqual({
      build: ["libwebp-dev"],
      runtime: ["libwebp7"],
      note: "we rebuild pillow against the system libwebp",
      declaredAt: 29,
    });
    expect(p.python.source).toBe("project.requires-python");
    expect(p.lockFresh).toBe(true);
  });
});

describe("lock freshness (Poetry's content-hash)", () => {
  const cases: [string, (t: string) => string][] = [
    ["poetry1-groups", (t) => t.replace('flask = "^3.0"', 'flask = "^3.1"')],
    ["poetry11", (t) => t.replace('requests = "^2.31"', 'requests = "^2.32"')],
    ["pep621", (t) => t.replace('"lxml>=5"', '"lxml>=5.3"')],
    ["package-mode-false", (t) => t.replace('pytest = "^8.0"', 'pytest = "^8.1"')],
    ["src-layout", (t) => t.replace('rich = "^13.7"', 'rich = "^13.8"')],
    ["poetry12-groups", (t) => t.replace('markdown = "^3.6"', 'markdown = "^3.7"')],
    ["extras-dynamic", (t) => t.replace('science = ["numpy"]', 'science = ["numpy", "pillow"]')],
  ];
  for (const [name, change] of cases) {
    it(`${name}: a dependency edit makes the lock stale`, async () => {
      const dir = await copyOf(name);
      await edit(dir, "pyproject.toml", change);
      expect((await analyze(dir)).lockFresh).toBe(false);
    });
    it(`${name}: a description edit or a comment keeps it fresh`, async () => {
      const dir = await copyOf(name);
      await edit(
        dir,
        "pyproject.toml",
        (t) => `# cosmetic\n${t.replace(/description = "[^"]*"/, 'description = "Ünïcode"')}`,
      );
      expect((await analyze(dir)).lockFresh).toBe(true);
    });
  }

  it("a non-ASCII dependency value changes the hash the way Python's ensure_ascii does (stays stale, no crash)", async () => {
    const dir = await copyOf("pep621");
    await edit(dir, "pyproject.toml", (t) =>
      t.replace('"lxml>=5"', '"lxml>=5; platform_machine != \\"ü\\""'),
    );
    expect((await analyze(dir)).lockFresh).toBe(false);
  });
});

describe("bad input is a UserError naming the file", () => {
  it("missing folder", async () => {
    const e = await userError(analyze(join(FIXTURES, "does-not-exist")));
    expect(e.message).toMatch(/no such project folder/);
  });

  it("missing pyproject.toml", async () => {
    const dir = await mkdtemp(join(tmpdir(), "couplet-empty-"));
    scratch.push(dir);
    const e = await userError(analyze(dir));
    expect(e.location?.file).toBe(join(dir, "pyproject.toml"));
  });

  it("not a Poetry project", async () => {
    const dir = await copyOf("pep621");
    await writeFile(
      join(dir, "pyproject.toml"),
      '[project]\nname = "x"\n[build-system]\nbuild-backend = "hatchling.build"\n',
    );
    const e = await userError(analyze(dir));
    expect(e.message).toMatch(/not a Poetry project/);
  });

  it("missing poetry.lock says how to make one", async () => {
    const dir = await copyOf("src-layout");
    await rm(join(dir, "poetry.lock"));
    const e = await userError(analyze(dir));
    expect(e.location?.file).toBe(join(dir, "poetry.lock"));
    expect(e.hint).toMatch(/poetry lock/);
  });

  it("invalid TOML gives line and column", async () => {
    const dir = await copyOf("src-layout");
    await edit(dir, "pyproject.toml", (t) => t.replace('click = "^8.1"', 'click = "^8.1'));
    const e = await userError(analyze(dir));
    const line =
      (await readFile(join(dir, "pyproject.toml"), "utf8"))
        .split("\n")
        .findIndex((l) => l.startsWith("click")) + 1;
    expect(e.location).toMatchObject({ file: join(dir, "pyproject.toml"), line });
    expect(e.location?.column).toBeGreaterThan(0);
    expect(e.message).not.toContain("\n");
  });

  it("an unknown lock-version names the supported ones", async () => {
    const dir = await copyOf("pep621");
    await edit(dir, "poetry.lock", (t) => t.replace('lock-version = "2.1"', 'lock-version = "3.0"'));
    const e = await userError(analyze(dir));
    expect(e.message).toMatch(/unsupported lock-version "3.0".*1\.1, 2\.0, 2\.1/);
    expect(e.location?.line).toBeGreaterThan(1);
  });

  it("a malformed [[package]] names the package and points at its `name =` line", async () => {
    const dir = await copyOf("pep621");
    await edit(dir, "poetry.lock", (t) =>
      t.replace(/(name = "httpx"\n(?:.*\n)*?)groups = \[[^\]]*\]/, '$1groups = "main"'),
    );
    const e = await userError(analyze(dir));
    const lockText = await readFile(join(dir, "poetry.lock"), "utf8");
    expect(e.message).toMatch(/^package httpx: `groups` must be an array/);
    expect(e.location).toEqual({
      file: join(dir, "poetry.lock"),
      line: lockText.split("\n").indexOf('name = "httpx"') + 1,
      column: 1,
    });
  });

  it("accepts the path of pyproject.toml itself", async () => {
    const p = await analyze(join(fixture("src-layout"), "pyproject.toml"));
    expect(p.dir).toBe(fixture("src-layout").replace(/\/$/, ""));
  });

  it("a lock without lock-version (pre-1.0 shape) is read, its freshness checked with the 1.x schemes", async () => {
    const dir = await copyOf("poetry11");
    await edit(dir, "poetry.lock", (t) => t.replace('lock-version = "1.1"\n', ""));
    const p = await analyze(dir);
    expect(p.lock.lockVersion).toBeUndefined();
    expect(p.lockFresh).toBe(true);
  });

  it("[tool.couplet.lint] is handed on as plain JSON data (integers as numbers, not bigint)", async () => {
    const dir = await copyOf("package-mode-false");
    await edit(
      dir,
      "pyproject.toml",
      (t) => `${t}\n[tool.couplet.lint]\nignore = ["CPL001"]\nlevels = { CPL002 = 3 }\n`,
    );
    const p = await analyze(dir);
    expect(p.couplet.lint?.table).toEqual({ ignore: ["CPL001"], levels: { CPL002: 3 } });
    expect(JSON.stringify(p.couplet.lint?.table)).toBe('{"ignore":["CPL001"],"levels":{"CPL002":3}}');
    // Each key and rule id with the line it is written on, after the table's header.
    const header =
      (await readFile(join(dir, "pyproject.toml"), "utf8")).split("\n").indexOf("[tool.couplet.lint]") + 1;
    expect(p.couplet.lint?.lines).toEqual({
      ignore: header + 1,
      CPL001: header + 1,
      levels: header + 2,
      CPL002: header + 2,
    });
  });

  it("[tool.couplet] writable: folders under /app, relative; anything else points at its line", async () => {
    const dir = await copyOf("package-mode-false");
    await edit(dir, "pyproject.toml", (t) =>
      t.replace("expose = 8000", 'expose = 8000\nwritable = ["/app/cache", "uploads/"]'),
    );
    expect((await analyze(dir)).couplet.writable).toEqual(["cache", "uploads"]);
    for (const bad of ["../etc", "/var/lib/x", "a/./b"]) {
      await edit(dir, "pyproject.toml", (t) => t.replace(/writable = .*/, `writable = ["${bad}"]`));
      const e = await userError(analyze(dir));
      expect(e.message).toBe(`tool.couplet.writable names "${bad}", which is not a folder inside /app`);
      expect(e.location?.file).toBe(join(dir, "pyproject.toml"));
      expect(e.location?.line).toBeGreaterThan(1);
    }
  });

  it("[tool.couplet] with a wrong type or an unknown key points at it", async () => {
    const dir = await copyOf("package-mode-false");
    await edit(dir, "pyproject.toml", (t) => t.replace("expose = 8000", 'expose = "8000"'));
    const e = await userError(analyze(dir));
    expect(e.message).toMatch(/tool.couplet.expose/);
    await edit(dir, "pyproject.toml", (t) => t.replace('expose = "8000"', "exposed = 8000"));
    const e2 = await userError(analyze(dir));
    expect(e2.message).toMatch(/unknown setting tool.couplet.exposed/);
    expect(e2.location?.line).toBeGreaterThan(1);
  });
});
