// End to end on podman: `couplet build --engine podman` on a machine with an empty storage (cli-tool
// example), a rebuild after a source edit, and `couplet inspect` of the result through `podman save`.
import { execFile } from "node:child_process";
import { appendFile, cp, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBaseImage } from "../support/base-image.js";
import { parseSteps } from "../support/buildah.js";
import { type CliResult, couplet as runCouplet } from "../support/cli.js";
import { freshMachine, type Machine } from "../support/registry.js";

const run = promisify(execFile);
const repo = new URL("../..", import.meta.url).pathname;
const runId = `${process.pid}-${Date.now()}`;
const tag = `couplet-e2e-podman/cli-tool:${runId}`;

describe("couplet build with podman (cli-tool example)", () => {
  let machine: Machine;
  let parent: string;
  let work: string;
  let base: string;
  let cold: CliResult & { log: string };

  const couplet = (args: string[]) => runCouplet(args, { env: machine.env });

  const build = async (name: string): Promise<CliResult & { log: string }> => {
    const logFile = join(parent, `${name}.log`);
    const result = await couplet([
      "build",
      work,
      "--engine",
      "podman",
      "--network",
      "host",
      "--build-arg",
      `PYTHON_IMAGE=${base}`,
      "--tag",
      tag,
      "--log",
      logFile,
    ]);
    return { ...result, log: await readFile(logFile, "utf8").catch(() => "") };
  };

  beforeAll(async () => {
    await run("npm", ["run", "build"], { cwd: repo });
    base = await ensureBaseImage({ debian: "trixie", flavor: "slim" });
    // Its own storage: nothing cached from the buildah tests, which share the default one with podman.
    machine = await freshMachine([base]);
    parent = await mkdtemp(join(tmpdir(), "couplet-e2e-podman-"));
    work = join(parent, "cli-tool");
    await cp(join(repo, "examples/cli-tool"), work, {
      recursive: true,
      filter: (src) => !src.includes(".venv"),
    });
    cold = await build("cold");
  });

  afterAll(async () => {
    await machine?.dispose();
    if (parent) await rm(parent, { recursive: true, force: true });
  });

  it("builds with podman, every step run, and reports the size podman gives", async () => {
    expect(cold.code, cold.stderr).toBe(0);
    expect(cold.log.split("\n")[0]).toMatch(
      /^\$ \S*podman --storage-driver overlay build --layers --isolation chroot /,
    );
    expect(parseSteps(cold.log).filter((s) => s.cached)).toEqual([]);
    const size = Number(
      (
        await run(
          "podman",
          ["--storage-driver", "overlay", "image", "inspect", "--format", "{{.Size}}", tag],
          {
            env: machine.env,
          },
        )
      ).stdout.trim(),
    );
    expect(size).toBeGreaterThan(100e6);
    expect(cold.stdout).toContain(`${(size / 1e6).toFixed(1)} MB`);
  });

  it("the image runs: the console script answers as uid 10001", async () => {
    // podman's runtime (crun) cannot start containers in this sandbox; podman's images live in
    // containers-storage, so buildah runs the very same image with chroot isolation.
    const container = (await machine.buildah(["from", "--pull=never", tag])).stdout.trim();
    try {
      const { stdout } = await machine.buildah(["run", "--isolation", "chroot", container, "--", "yamlstat"]);
      expect(stdout).toContain("yamlstat: document 0 has 4 nodes (pyyaml 6.0.2, libyaml)");
      const id = await machine.buildah(["run", "--isolation", "chroot", container, "--", "id", "-u"]);
      expect(Number(id.stdout.trim())).toBe(10001);
    } finally {
      await machine.buildah(["rm", container]);
    }
  });

  it("after a source edit, podman reuses the dependency layers and reruns only the project install and its bytecode", async () => {
    await appendFile(join(work, "src/yamlstat/cli.py"), `\n# edited by the podman e2e test ${runId}\n`);
    const edit = await build("edit");
    expect(edit.code, edit.stderr).toBe(0);
    const runs = parseSteps(edit.log).filter((s) => s.instruction.startsWith("RUN"));
    const rerun = runs.filter((s) => !s.cached).map((s) => s.instruction);
    expect(runs.find((s) => /poetry install .*--no-root/.test(s.instruction))?.cached).toBe(true);
    // The venv's bytecode step follows the dependency install and stays cached; the code's is compiled again.
    expect(rerun).toHaveLength(2);
    expect(rerun[0]).toMatch(/poetry install --only main$/);
    expect(rerun[1]).toMatch(/^RUN python -m compileall .* src\/yamlstat$/);
  });

  it("couplet inspect reads the podman image: no caches, no missing library, no toolchain above the base", async () => {
    const result = await couplet([
      "inspect",
      tag,
      "--engine",
      "podman",
      "--format",
      "json",
      "--fail-on",
      "missing-libraries,caches,dev-deps",
    ]);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as {
      image: { source: string };
      layers: { createdBy: string }[];
      missingLibraries: unknown[];
      findings: { kind: string; path: string; layer?: number }[];
    };
    expect(report.image.source).toContain("(podman)");
    expect(report.missingLibraries).toEqual([]);
    // The stand-in base carries Python's headers (as the official slim image does); nothing above it adds any.
    const toolchain = report.findings.filter((f) => f.kind === "toolchain");
    expect(toolchain.filter((f) => (f.layer ?? 0) > 0)).toEqual([]);
    // Base, user, venv, source: the builder's layers (Poetry, its install) stayed in their stage.
    expect(report.layers).toHaveLength(4);
    expect(report.layers.some((l) => l.createdBy.includes("poetry"))).toBe(false);
    expect(report.layers[2]?.createdBy).toMatch(/COPY dir:[0-9a-f]+ in \/app\/\.venv/);
  });
});
