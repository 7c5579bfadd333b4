// End to end: projects whose dependencies once broke the generated Dockerfile, built with buildah and run.
import { execFile } from "node:child_process";
import { cp, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Plan } from "../../src/plan/types.js";
import { type Debian, ensureBaseImage } from "../support/base-image.js";
import { type BuildResult, build, imageConfig, removeImages, runInImage } from "../support/buildah.js";
import { coupletOutput as couplet } from "../support/cli.js";

const run = promisify(execFile);
const runId = `${process.pid}${Date.now() % 100_000}`;
const repo = fileURLToPath(new URL("../../", import.meta.url));

/** `couplet init` on a copy of the fixture, then one production build; shared by the file's assertions. */
async function initAndBuild(fixture: string, tag: string) {
  const dir = await mkdtemp(join(tmpdir(), `couplet-e2e-${fixture}-`));
  await cp(join(repo, "test/fixtures/projects", fixture), dir, {
    recursive: true,
    filter: (src) => !/[/\\](\.venv|__pycache__)$/.test(src),
  });
  await couplet(["init", dir]);
  const plan = JSON.parse(await couplet(["plan", dir, "--json"])) as Plan;
  const base = await ensureBaseImage({ debian: plan.python.debian as Debian, flavor: "slim" });
  const result: BuildResult = await build({ context: dir, tag, buildArgs: { PYTHON_IMAGE: base } });
  return { dir, plan, result, dockerfile: await readFile(join(dir, "Dockerfile"), "utf8") };
}

beforeAll(async () => {
  await run("npm", ["run", "build"], { cwd: repo });
}, 5 * 60_000);

describe.sequential("monorepo: path dependencies, a plugin that requires its host, a TOML date", () => {
  const tag = `couplet-e2e-monorepo-${runId}:production`;
  let built: Awaited<ReturnType<typeof initAndBuild>>;

  beforeAll(async () => {
    built = await initAndBuild("monorepo", tag);
  });
  afterAll(async () => {
    await removeImages(tag);
    if (built?.dir) await rm(built.dir, { recursive: true, force: true });
  });

  it("builds: the plugin's `myapp >=1.7,<3` solves against the kept root version, dates and all", () => {
    expect(built.plan.install.rootRequiredBy).toEqual(["myapp-plugin-hello"]);
    expect(built.result.code, `${built.dockerfile}\n${built.result.log}`).toBe(0);
    // The path folders reach the builder before the install that needs them.
    const install = built.result.steps.findIndex((s) => s.instruction.includes("--no-root"));
    const copyLib = built.result.steps.findIndex((s) => s.instruction.startsWith("COPY libs/mylib"));
    expect(copyLib).toBeGreaterThanOrEqual(0);
    expect(copyLib).toBeLessThan(install);
  });

  it("runs the CLI with its local library imported and its plugin loaded", async () => {
    const config = await imageConfig(tag);
    const result = await runInImage(tag, [...config.entrypoint, ...config.cmd]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe(
      "myapp 2.1.0; mylib 0.3.0 greets container; plugins: hello=hello from the plugin",
    );
  });

  it("production has the library installed non-editable, no libs/ folder and no compiler", async () => {
    expect(built.plan.native.buildPackages).toEqual([]);
    const probe = [
      "test -e /app/libs && echo present:/app/libs",
      "test -e /app/plugins && echo present:/app/plugins",
      "for c in gcc cc; do command -v $c >/dev/null && echo present:$c; done",
      "python -c 'import mylib; print(\"mylib:\" + mylib.__file__)'",
    ].join("; ");
    const result = await runInImage(tag, ["sh", "-c", probe]);
    expect(result.stdout.split("\n").filter((l) => l.startsWith("present:"))).toEqual([]);
    expect(result.stdout, result.stderr).toMatch(
      /^mylib:\/app\/\.venv\/lib\/python3\.\d+\/site-packages\/mylib\//m,
    );
  });
});

describe.sequential("poetry11: a headerless lock-version 1.1 lock", () => {
  const tag = `couplet-e2e-poetry11-${runId}:production`;
  let built: Awaited<ReturnType<typeof initAndBuild>>;

  beforeAll(async () => {
    built = await initAndBuild("poetry11", tag);
  });
  afterAll(async () => {
    await removeImages(tag);
    if (built?.dir) await rm(built.dir, { recursive: true, force: true });
  });

  it("is installed with the last Poetry 1.x, which reads the lock as Poetry 1.1 wrote it", () => {
    expect(built.plan.poetry.version).toBe("1.8.5");
    expect(built.dockerfile).toContain("POETRY_VERSION=1.8.5");
    expect(built.result.code, `${built.dockerfile}\n${built.result.log}`).toBe(0);
  });

  it("runs the locked production packages, without the dev category", async () => {
    const code = [
      "import importlib.metadata as m, poetry11, requests, yaml",
      "print(m.version('requests'), m.version('pyyaml'))",
      "import pytest",
    ].join("; ");
    const result = await runInImage(tag, ["python", "-c", code]);
    const lock = await readFile(join(built.dir, "poetry.lock"), "utf8");
    const locked = (name: string) =>
      new RegExp(`name = "${name}"\\nversion = "([^"]+)"`, "i").exec(lock)?.[1];
    expect(result.stdout.trim(), result.stderr).toBe(`${locked("requests")} ${locked("pyyaml")}`);
    // pytest is in the lock's dev category: production leaves it out.
    expect(result.stderr).toMatch(/No module named 'pytest'/);
  });
});
