// Values from pyproject.toml never become Dockerfile syntax: the probe's reproducers, each refused or rendered safely.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DockerfileParser } from "dockerfile-ast";
import { describe, expect, it } from "vitest";
import {
  copyProject,
  editPyproject,
  initOutcome,
  instructions,
  type Outcome,
} from "../../test/support/project-variants.js";
import { plan } from "../plan/plan.js";
import { analyze } from "../project/analyze.js";
import { render } from "./render.js";

const EXAMPLE = "examples/flask-uwsgi";

async function variant(change: (text: string) => string, setup?: (dir: string) => void): Promise<Outcome> {
  const dir = copyProject(EXAMPLE);
  editPyproject(dir, (t) => {
    const after = change(t);
    expect(after).not.toBe(t);
    return after;
  });
  setup?.(dir);
  return initOutcome(dir);
}

function refused(outcome: Outcome): string {
  expect(outcome).toHaveProperty("refused");
  const line = (outcome as { refused: string }).refused;
  expect(line).not.toContain("\n");
  return line;
}

function rendered(outcome: Outcome): string {
  expect(outcome).toHaveProperty("dockerfile");
  return (outcome as { dockerfile: string }).dockerfile;
}

describe("pyproject values that would inject Dockerfile syntax", () => {
  it("a newline in the project name is refused with its line and the rule", async () => {
    const line = refused(
      await variant((t) => t.replace('name = "hello-uwsgi"', 'name = "hello\\nRUN echo injected"')),
    );
    expect(line).toMatch(
      /pyproject\.toml:2:1: tool\.poetry\.name "hello\\nRUN echo injected" is not a valid name \(.*PEP 508/,
    );
  });

  it("a newline in a group name is refused", async () => {
    const line = refused(
      await variant(
        (t) => `${t}\n[tool.poetry.group."dev\\nRUN echo injected".dependencies]\npytest = "8.3.4"\n`,
      ),
    );
    expect(line).toMatch(
      /pyproject\.toml:\d+:1: the group name "dev\\nRUN echo injected" is not a valid name/,
    );
  });

  it("a newline in a [tool.couplet.native] entry is refused as not a Debian package name", async () => {
    const line = refused(
      await variant((t) =>
        t.replace(
          "[tool.couplet]",
          '[tool.couplet.native.psycopg2]\nruntime = ["libpq5\\nRUN echo injected"]\nbuild = ["libpq-dev"]\n\n[tool.couplet]',
        ),
      ),
    );
    expect(line).toMatch(
      /pyproject\.toml:\d+:1: the package "libpq5\\nRUN echo injected" is not a Debian package name/,
    );
  });

  it('a newline in the python constraint stays inside its comment (probe: python = """>=3.8\\n""")', async () => {
    // Changing the constraint would make the example's lock stale, so the plan's reason carries it instead.
    const p = plan(await analyze(copyProject(EXAMPLE)), {});
    const before = instructions(render(p).dockerfile);
    p.python.reason = 'CPython 3.13 is the newest release allowed by ">=3.8\nRUN echo injected"';
    const dockerfile = render(p).dockerfile;
    expect(dockerfile).toContain(
      '# CPython 3.13 is the newest release allowed by ">=3.8\\nRUN echo injected".',
    );
    expect(instructions(dockerfile)).toEqual(before);
  });

  it("a readme with a space is copied with the JSON form of COPY", async () => {
    const dockerfile = rendered(
      await variant(
        (t) => t.replace('readme = "README.md"', 'readme = "READ ME.md"'),
        (dir) => writeFileSync(join(dir, "READ ME.md"), "hello\n"),
      ),
    );
    expect(dockerfile).toContain('COPY ["READ ME.md", "./READ ME.md"]');
    const copies = DockerfileParser.parse(dockerfile)
      .getCOPYs()
      .map((c) => c.getArguments().map((a) => a.getValue()));
    expect(copies).toContainEqual(['["READ', 'ME.md",', '"./READ', 'ME.md"]']);
  });

  it("a glob in packages.include is refused: the paths must be spelled out", async () => {
    const line = refused(
      await variant((t) =>
        t.replace('packages = [{ include = "hello_uwsgi" }]', 'packages = [{ include = "hello_*" }]'),
      ),
    );
    expect(line).toMatch(
      /pyproject\.toml:\d+:1: the package include "hello_\*" is a glob pattern \(list the matching paths one by one\)/,
    );
  });

  it("packages.from and [tool.couplet] copy outside the project are refused", async () => {
    const from = refused(
      await variant((t) =>
        t.replace(
          'packages = [{ include = "hello_uwsgi" }]',
          'packages = [{ include = "hello_uwsgi", from = "../x" }]',
        ),
      ),
    );
    expect(from).toContain('the package folder (from) "../x" points outside the project folder');
    const copy = refused(
      await variant((t) => t.replace("[tool.couplet]", '[tool.couplet]\ncopy = ["../x"]')),
    );
    expect(copy).toContain('the path "../x" points outside the project folder');
  });

  it('[tool.couplet] extras = ["constructor"] is an undeclared extra, not a property of Object.prototype', async () => {
    const line = refused(
      await variant((t) => t.replace("[tool.couplet]", '[tool.couplet]\nextras = ["constructor"]')),
    );
    expect(line).toContain(
      '[tool.couplet] extras names "constructor", which pyproject.toml does not declare',
    );
  });

  it("a description with quotes, $ and newlines stays one LABEL value", async () => {
    const dockerfile = rendered(
      await variant((t) =>
        t.replace(/^description = .*$/m, 'description = "a \\"b\\" $HOME \\\\ c\\nRUN echo injected"'),
      ),
    );
    expect(instructions(dockerfile)).not.toContain("RUN echo");
    expect(dockerfile).toContain(
      'org.opencontainers.image.description="a \\"b\\" \\$HOME \\\\ c\\\\nRUN echo injected"',
    );
  });

  it("the same project with a plain readme renders the same instructions as with a spaced one", async () => {
    const plain = rendered(await variant((t) => t.replace('readme = "README.md"', 'readme = "READ_ME.md"')));
    const spaced = rendered(
      await variant(
        (t) => t.replace('readme = "README.md"', 'readme = "READ ME.md"'),
        (dir) => mkdirSync(join(dir, "unused")),
      ),
    );
    expect(instructions(spaced)).toEqual(instructions(plain));
  });

  it("a path dependency outside the project folder is refused (probe: pathdep-outside)", async () => {
    const dir = copyProject(EXAMPLE);
    const lock = join(dir, "poetry.lock");
    const text = readFileSync(lock, "utf8");
    // As Poetry records `blinker = {path = "../outside/blinker"}`: a [package.source] of type directory.
    const edited = text.replace(
      /(name = "blinker"[\s\S]*?\n\])\n/,
      '$1\n\n[package.source]\ntype = "directory"\nurl = "../outside/blinker"\n',
    );
    expect(edited).not.toBe(text);
    writeFileSync(lock, edited);
    const line = refused(await initOutcome(dir));
    expect(line).toMatch(
      /poetry\.lock: blinker is a path dependency at "\.\.\/outside\/blinker", outside the project folder, so no image build can see it \(move it inside/,
    );
  });

  it('packages include = "." is refused: it would copy the project folder as the package (fuzz seed 20261133)', async () => {
    const line = refused(
      await variant((t) =>
        t.replace('packages = [{ include = "hello_uwsgi" }]', 'packages = [{ include = "./" }]'),
      ),
    );
    expect(line).toMatch(/pyproject\.toml:\d+:1: the package include "\.\/" is the project folder itself/);
  });
});
