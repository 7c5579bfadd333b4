// End to end: `couplet build` on a real engine (buildah), asserting measured facts.
import { execFile, spawn } from "node:child_process";
import { appendFile, cp, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildahDefaults, buildahEngine } from "../../src/engine/buildah.js";
import { capture } from "../../src/engine/exec.js";
import { ensureBaseImage } from "../support/base-image.js";
import { removeImages } from "../support/buildah.js";
import { buildOnBuildah, cli, couplet as runCouplet } from "../support/cli.js";

const exec = promisify(execFile);
const repo = fileURLToPath(new URL("../../", import.meta.url));
const example = join(repo, "examples/flask-uwsgi");
// Edits carry this run's id so buildah's layer cache, which outlives the test, has never seen them.
const runId = `${process.pid}${Date.now() % 100_000}`;
const buildah = buildahEngine(buildahDefaults(process.getuid?.() ?? 0));

async function listing(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).map(String).sort();
}

const sizeOf = (ref: string) => buildah.imageSize(ref, (command) => capture(command));

const couplet = (args: string[], env: NodeJS.ProcessEnv = process.env) => runCouplet(args, { env });

describe("couplet build with buildah", () => {
  let slim: string;
  let full: string;
  let work: string;
  let before: string[];
  const tags = [
    `couplet-e2e-build/optimal:${runId}`,
    `couplet-e2e-build/optimal:${runId}-edit`,
    `couplet-e2e-build/full:${runId}`,
  ];

  beforeAll(async () => {
    slim = await ensureBaseImage({ debian: "bookworm", flavor: "slim" });
    full = await ensureBaseImage({ debian: "bookworm", flavor: "full" });
    work = await mkdtemp(join(tmpdir(), "couplet-e2e-build-"));
    await cp(example, work, { recursive: true, filter: (src) => !src.includes(".venv") });
    before = await listing(work);
  });

  afterAll(async () => {
    await removeImages(...tags);
    await rm(work, { recursive: true, force: true });
  });

  const build = (tag: string, extra: string[] = [], base = slim) => buildOnBuildah(work, base, tag, extra);

  it("builds the optimal image smaller than the seed's full one, printing reference, size and time", async () => {
    const optimal = await build(tags[0] as string);
    expect(optimal.code, optimal.stderr).toBe(0);
    expect(optimal.stdout).toMatch(
      new RegExp(
        `^${tags[0]} [0-9a-f]{12} [\\d.]+ MB, built in [\\d.]+s \\(\\d+ of \\d+ steps from cache\\)\\n$`,
      ),
    );
    // Every step shows up as it ends, with its time.
    expect(optimal.stderr).toMatch(/^ {2}[✓↺] \[\d\/\d\] \d+\/\d+ FROM .* (?:\d+m)?[\d.]+s (done|cached)$/m);
    const fullBuild = await build(tags[2] as string, ["--strategy", "full"], full);
    expect(fullBuild.code, fullBuild.stderr).toBe(0);
    const [optimalBytes, fullBytes] = [await sizeOf(tags[0] as string), await sizeOf(tags[2] as string)];
    expect(optimalBytes).toBeLessThan(fullBytes);
    // The size printed is the one the engine reports.
    expect(optimal.stdout).toContain(` ${(optimalBytes / 1e6).toFixed(1)} MB,`);
  });

  it("reuses the dependency layer after a source-only edit", async () => {
    await appendFile(join(work, "hello_uwsgi", "app.py"), `# edit ${runId}\n`);
    const edited = await build(tags[1] as string);
    expect(edited.code, edited.stderr).toBe(0);
    // The dependencies install without the root package (--no-root); that step must come from the cache,
    // and the step that copies the sources must not.
    expect(edited.stderr).toMatch(/^ {2}↺ .*poetry install .*--no-root.* cached$/m);
    expect(edited.stderr).toMatch(/^ {2}✓ .*COPY hello_uwsgi .* done$/m);
  });

  it("names the failing step and shows the log tail, exit 1", async () => {
    const dir = await mkdtemp(join(tmpdir(), "couplet-e2e-fail-"));
    const dockerfile = join(dir, "Dockerfile");
    await writeFile(
      dockerfile,
      `ARG PYTHON_IMAGE\nFROM \${PYTHON_IMAGE}\nRUN python -c "import missing_module_${runId}"\n`,
    );
    const failed = await build(`couplet-e2e-build/fail:${runId}`, ["--dockerfile", dockerfile]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(
      `build failed at step 2/2 (RUN python -c "import missing_module_${runId}")`,
    );
    expect(failed.stderr).toContain(`  | ModuleNotFoundError: No module named 'missing_module_${runId}'`);
    expect(failed.stderr).toMatch(/full log: \S+\.log/);
    await rm(dir, { recursive: true, force: true });
  });

  it("never writes into the project folder", async () => {
    const after = await listing(work);
    expect(after).toEqual(before);
  });

  it("stops the engine's whole process group on Ctrl-C, exit 130", async () => {
    const dir = await mkdtemp(join(tmpdir(), "couplet-e2e-sigint-"));
    const marker = `9${runId}`;
    await writeFile(
      join(dir, "Dockerfile"),
      `ARG PYTHON_IMAGE\nFROM \${PYTHON_IMAGE}\nRUN sleep ${marker}\n`,
    );
    const child = spawn(process.execPath, [
      cli,
      "build",
      dir,
      "--dockerfile",
      join(dir, "Dockerfile"),
      "--engine",
      "buildah",
      "--build-arg",
      `PYTHON_IMAGE=${slim}`,
      "--tag",
      `couplet-e2e-build/sigint:${runId}`,
    ]);
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    const sleeping = async () =>
      (await exec("ps", ["-eo", "args"])).stdout.split("\n").some((l) => l.startsWith(`sleep ${marker}`));
    const deadline = Date.now() + 120_000;
    while (!(await sleeping())) {
      if (Date.now() > deadline) throw new Error(`the RUN step never started:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    child.kill("SIGINT");
    expect(await exited).toBe(130);
    expect(stderr).toContain("couplet: build stopped");
    expect(await sleeping()).toBe(false);
    const engines = (await exec("ps", ["-eo", "args"])).stdout
      .split("\n")
      .filter((l) => l.includes(`sigint:${runId}`));
    expect(engines).toEqual([]);
    await rm(dir, { recursive: true, force: true });
  });

  it("says which engines it looked for and how to install one when none is on PATH", async () => {
    const empty = await mkdtemp(join(tmpdir(), "couplet-e2e-nopath-"));
    const result = await couplet(["build", work], { ...process.env, PATH: empty });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /^couplet: no container engine found \(looked for docker, podman, buildah: .*\) \(install one: /,
    );
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
  });
});
