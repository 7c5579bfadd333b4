import { execFile } from "node:child_process";
import { chmod, cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UserError } from "../errors.js";
import { generateFor } from "../pipeline.js";
import { analyze } from "../project/analyze.js";
import { BytecodeCompiler, findHostPython, type HostPython, pycPath } from "./bytecode.js";
import { type LayerTree, packLayer } from "./layer.js";
import { compileProject, projectLayer } from "./runtime.js";
import { installWheel, type Venv } from "./wheel.js";

const run = promisify(execFile);
// A real wheel from PyPI whose package ships cookiecutter templates as .py files that are not Python (see
// test/fixtures/wheels/README.md), and the RECORD pip 23.2.1 wrote installing it (with its bytecode).
const fixtures = new URL("../../test/fixtures/wheels/", import.meta.url).pathname;
const WHEEL = "django_tailwind-3.8.0-py3-none-any.whl";
const venv: Venv = {
  root: "/app/.venv",
  sitePackages: "/app/.venv/lib/python3.11/site-packages",
  pythonName: "python3.11",
};
const site = venv.sitePackages;
const files = (tree: LayerTree) => new Map(tree.sorted().map((entry) => [entry.path, entry.data]));

let python: HostPython;
let scratch: string;
beforeAll(async () => {
  // The bookworm base's minor version; scripts/install-test-deps installs it where it is missing.
  const found = await findHostPython(3, 11);
  if (!found) throw new Error("no python3.11 on PATH: run scripts/install-test-deps");
  python = found;
  scratch = await mkdtemp(path.join(tmpdir(), "couplet-bytecode-"));
});
afterAll(() => rm(scratch, { recursive: true, force: true }));

/** What the host's own py_compile writes for `source` compiled as `imagePath`, and facts read back from a .pyc. */
async function reference(source: Buffer, imagePath: string, mode: "UNCHECKED_HASH" | "CHECKED_HASH") {
  const file = path.join(scratch, `ref-${Math.random().toString(36).slice(2)}.py`);
  await writeFile(file, source);
  await run(python.command, [
    "-c",
    `import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[1] + "c", dfile=sys.argv[2], doraise=True, invalidation_mode=py_compile.PycInvalidationMode.${mode})`,
    file,
    imagePath,
  ]);
  return readFile(`${file}c`);
}

async function readPyc(pyc: Buffer, source: Buffer) {
  const file = path.join(scratch, `read-${Math.random().toString(36).slice(2)}`);
  await writeFile(`${file}.pyc`, pyc);
  await writeFile(`${file}.py`, source);
  const { stdout } = await run(python.command, [
    "-c",
    `import importlib.util, json, marshal, sys
data = open(sys.argv[1] + ".pyc", "rb").read()
source = open(sys.argv[1] + ".py", "rb").read()
print(json.dumps({"magic": data[:4] == importlib.util.MAGIC_NUMBER, "flags": int.from_bytes(data[4:8], "little"),
  "hashMatches": data[8:16] == importlib.util.source_hash(source), "filename": marshal.loads(data[16:]).co_filename}))`,
    file,
  ]);
  return JSON.parse(stdout) as { magic: boolean; flags: number; hashMatches: boolean; filename: string };
}

describe("findHostPython", () => {
  it("finds CPython of the asked minor version on PATH and reports its exact version", () => {
    expect(python.version).toMatch(/^3\.11\.\d+$/);
    expect(python.cacheTag).toBe("cpython-311");
  });

  it("runs the compiler with string hashing unsalted (before 3.11 a set constant's bytes follow the hash seed)", async () => {
    expect(python.fixedHashSeed).toBe(true);
    // A file in the working folder named like a module the compiler imports is not what it imports.
    const cwd = process.cwd();
    const dir = path.join(scratch, "shadow");
    await mkdir(dir);
    await writeFile(path.join(dir, "json.py"), "raise SystemExit('shadowed')\n");
    process.chdir(dir);
    try {
      expect((await findHostPython(3, 11))?.version).toBe(python.version);
    } finally {
      process.chdir(cwd);
    }
  });

  it("passes over a pythonX.Y on PATH that is another version, and finds none for a version nobody has", async () => {
    const dir = path.join(scratch, "bin");
    await mkdir(dir);
    // A python3.12 that is really 3.11 must not compile 3.12 bytecode.
    await symlink(python.command, path.join(dir, "python3.12"));
    expect(await findHostPython(3, 12, dir)).toBeUndefined();
    await writeFile(path.join(dir, "python3.13"), "#!/bin/sh\nexit 1\n");
    await chmod(path.join(dir, "python3.13"), 0o755);
    expect(await findHostPython(3, 13, dir)).toBeUndefined();
    expect(await findHostPython(3, 11, `${dir}${path.delimiter}${path.dirname(python.command)}`)).toEqual(
      python,
    );
  });
});

describe("a wheel installed with its bytecode (django-tailwind)", async () => {
  const data = await readFile(path.join(fixtures, WHEEL));
  const install = () => installWheel(data, WHEEL, venv, new BytecodeCompiler(python));

  it("writes py_compile's unchecked-hash .pyc, naming the module by its path in the image", async () => {
    const tree = await install();
    const contents = files(tree);
    const source = contents.get(`${site}/tailwind/utils.py`) as Buffer;
    const pyc = contents.get(`${site}/tailwind/__pycache__/utils.cpython-311.pyc`) as Buffer;
    expect(pyc).toBeInstanceOf(Buffer);
    const facts = await readPyc(pyc, source);
    // PEP 552 flags: bit 0 hash-based, bit 1 check_source; 1 is unchecked-hash.
    expect(facts).toEqual({
      magic: true,
      flags: 1,
      hashMatches: true,
      filename: `${site}/tailwind/utils.py`,
    });
    expect(pyc.equals(await reference(source, `${site}/tailwind/utils.py`, "UNCHECKED_HASH"))).toBe(true);
  });

  it("skips the template that is not Python and lists in RECORD exactly the .pyc pip lists", async () => {
    const tree = await install();
    const contents = files(tree);
    const template = `${site}/tailwind/app_template/{{cookiecutter.app_name}}`;
    expect(contents.has(`${template}/apps.py`)).toBe(true);
    expect(contents.has(`${template}/__pycache__/apps.cpython-311.pyc`)).toBe(false);
    expect(contents.has(`${template}/__pycache__/__init__.cpython-311.pyc`)).toBe(true);
    // pip writes RECORD with csv's \r\n line ends.
    const rows = (text: string) => text.trim().split(/\r?\n/);
    const ours = rows(contents.get(`${site}/django_tailwind-3.8.0.dist-info/RECORD`)?.toString() ?? "");
    const pips = rows(await readFile(path.join(fixtures, "django_tailwind-3.8.0.pip-RECORD"), "utf8"));
    const bytecode = (lines: string[]) => lines.filter((line) => line.includes("/__pycache__/"));
    expect(bytecode(ours)).toHaveLength(11);
    expect(bytecode(ours)).toEqual(bytecode(pips));
    // pip also writes REQUESTED and direct_url.json (an install the user asked for, from a file); the rest matches.
    const names = (lines: string[]) => lines.map((line) => line.split(",")[0]).sort();
    expect(names(ours)).toEqual(
      names(pips).filter((name) => !/\/(REQUESTED|direct_url\.json)$/.test(name as string)),
    );
  });

  it("gives byte-identical layers from two runs with fresh interpreters", async () => {
    const created = new Date(1_700_000_000_000);
    const first = await packLayer(await install(), created);
    const second = await packLayer(await install(), created);
    expect(second.digest).toBe(first.digest);
    expect(second.tar.equals(first.tar)).toBe(true);
  });
});

describe("BytecodeCompiler", () => {
  it("names the .pyc as the interpreter looks for it", () => {
    expect(pycPath("/app/src/pkg/mod.py", "cpython-311")).toBe(
      "/app/src/pkg/__pycache__/mod.cpython-311.pyc",
    );
  });

  it("compiles a set once and reports what does not compile with its line", async () => {
    const compiler = new BytecodeCompiler(python);
    const set = [
      { path: "/app/a.py", source: Buffer.from("x = 1\n"), checked: true },
      { path: "/app/b.py", source: Buffer.from("x = 1\nclass {{ name }}:\n"), checked: true },
    ];
    const [good, bad] = await compiler.compile(set);
    expect(good && "pyc" in good && good.pyc).toBe("/app/__pycache__/a.cpython-311.pyc");
    expect(bad).toEqual({ error: expect.stringMatching(/^SyntaxError: /), line: 2 });
    await compiler.compile([...set].reverse());
    expect([compiler.compiled, compiler.skipped]).toEqual([1, 1]);
  });
});

describe("compileProject", async () => {
  const copy = async () => {
    const dir = path.join(await mkdtemp(path.join(tmpdir(), "couplet-bytecode-project-")), "cli-tool");
    await cp(new URL(`../../examples/cli-tool`, import.meta.url).pathname, dir, { recursive: true });
    afterAll(() => rm(path.dirname(dir), { recursive: true, force: true }));
    return dir;
  };
  const layerOf = async (dir: string) => {
    const project = await analyze(dir);
    const { plan, files: generated } = generateFor(project, { python: "3.11" });
    const tree = await projectLayer(project, plan, venv, generated.dockerignore);
    return { project, plan, tree };
  };

  it("compiles the app's modules checked-hash, so an edited source mounted over them still wins", async () => {
    const { project, plan, tree } = await layerOf(await copy());
    await compileProject(tree, new BytecodeCompiler(python), project, plan, venv);
    const contents = files(tree);
    const pyc = contents.get("/app/src/yamlstat/__pycache__/cli.cpython-311.pyc") as Buffer;
    const source = contents.get("/app/src/yamlstat/cli.py") as Buffer;
    expect(await readPyc(pyc, source)).toMatchObject({
      flags: 3,
      hashMatches: true,
      filename: "/app/src/yamlstat/cli.py",
    });
    expect(pyc.equals(await reference(source, "/app/src/yamlstat/cli.py", "CHECKED_HASH"))).toBe(true);
    // Nothing in the venv part of the layer is a module.
    expect(
      [...contents.keys()].filter((file) => file.endsWith(".pyc") && file.startsWith("/app/.venv/")),
    ).toEqual([]);
  });

  it("refuses a module of the app with a syntax error in one line naming its file and line", async () => {
    const dir = await copy();
    await writeFile(path.join(dir, "src/yamlstat/broken.py"), "def ok():\n    return (\n");
    const { project, plan, tree } = await layerOf(dir);
    const error = await compileProject(tree, new BytecodeCompiler(python), project, plan, venv).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).location).toEqual({
      file: path.join(dir, "src/yamlstat/broken.py"),
      line: 2,
    });
    expect((error as UserError).message).toMatch(/^the project's code does not compile: SyntaxError: /);
  });
});
