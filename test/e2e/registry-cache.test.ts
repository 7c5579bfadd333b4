// End to end: a registry-backed layer cache shared by two machines. Machine A builds with --cache-to,
// machine B (an empty storage, nothing cached) builds the same project with --cache-from and must take
// every step from the registry instead of running it. buildah here; a private docker-registry on loopback.
import { execFile } from "node:child_process";
import { cp, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBaseImage } from "../support/base-image.js";
import { parseSteps } from "../support/buildah.js";
import { freshMachine, type Machine, type Registry, startRegistry } from "../support/registry.js";

const run = promisify(execFile);
const repo = new URL("../..", import.meta.url).pathname;
const cli = join(repo, "dist/cli/main.js");
const runId = `${process.pid}-${Date.now()}`;
const tag = `couplet-e2e-cache/cli-tool:${runId}`;

interface Build {
  code: number;
  stdout: string;
  stderr: string;
  /** The engine's own log (couplet --log) */
  log: string;
}

describe("registry cache shared between two machines (buildah, cli-tool example)", () => {
  let registry: Registry;
  let machineA: Machine;
  let machineB: Machine;
  let work: string;
  let base: string;
  let cacheRepo: string;
  let first: Build;
  let second: Build;

  const build = async (machine: Machine, flags: string[], name: string): Promise<Build> => {
    const logFile = join(work, "..", `${name}.log`);
    const args = [cli, "build", work, "--engine", "buildah", "--network", "host", "--tag", tag];
    args.push("--build-arg", `PYTHON_IMAGE=${base}`, "--log", logFile, ...flags);
    let result: Omit<Build, "log">;
    try {
      const { stdout, stderr } = await run(process.execPath, args, { env: machine.env, maxBuffer: 64 << 20 });
      result = { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      result = { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
    return { ...result, log: await readFile(logFile, "utf8").catch(() => "") };
  };

  beforeAll(async () => {
    await run("npm", ["run", "build"], { cwd: repo });
    base = await ensureBaseImage({ debian: "trixie", flavor: "slim" });
    registry = await startRegistry();
    cacheRepo = `${registry.address}/couplet-cache/cli-tool`;
    const insecure = { CONTAINERS_REGISTRIES_CONF: registry.registriesConf };
    machineA = await freshMachine([base], insecure);
    machineB = await freshMachine([base], insecure);
    const parent = await mkdtemp(join(tmpdir(), "couplet-e2e-cache-"));
    work = join(parent, "cli-tool");
    await cp(join(repo, "examples/cli-tool"), work, {
      recursive: true,
      filter: (src) => !src.includes(".venv"),
    });
    first = await build(machineA, ["--cache-to", cacheRepo], "machine-a");
    second = await build(machineB, ["--cache-from", cacheRepo], "machine-b");
  });

  afterAll(async () => {
    await machineA?.dispose();
    await machineB?.dispose();
    await registry?.stop();
    if (work) await rm(join(work, ".."), { recursive: true, force: true });
  });

  it("machine A builds every step itself and pushes each to the registry", async () => {
    expect(first.code, first.stderr).toBe(0);
    const steps = parseSteps(first.log);
    expect(steps.filter((s) => s.cached)).toEqual([]);
    const pushed = first.log.match(/^--> Pushing cache /gm) ?? [];
    expect(pushed.length).toBeGreaterThanOrEqual(steps.filter((s) => s.instruction.startsWith("RUN")).length);
    // Steps whose cache keys coincide share a tag, so the registry may hold fewer tags than pushes.
    const tags = await registry.tags("couplet-cache/cli-tool");
    expect(tags.length).toBeGreaterThan(0);
    expect(tags.length).toBeLessThanOrEqual(pushed.length);
  });

  it("machine B, with an empty cache, takes every RUN step from the registry", () => {
    expect(second.code, second.stderr).toBe(0);
    const runSteps = parseSteps(second.log).filter((s) => s.instruction.startsWith("RUN"));
    // Poetry's install, the lock reduction, both `poetry install`s and the user's creation.
    expect(runSteps.length).toBeGreaterThanOrEqual(5);
    const missed = runSteps.filter((s) => !s.cached).map((s) => s.instruction);
    expect(missed, second.log).toEqual([]);
    expect(second.log).toMatch(/^--> Cache pulled from remote /m);
    // Nothing was installed on machine B: no pip or Poetry output in its log.
    expect(second.log).not.toMatch(/Installing dependencies from lock file|Successfully installed .*poetry-/);
  });

  it("machine B's image works: the console script answers as the non-root user", async () => {
    const container = (await machineB.buildah(["from", "--pull=never", tag])).stdout.trim();
    try {
      const { stdout } = await machineB.buildah([
        "run",
        "--isolation",
        "chroot",
        container,
        "--",
        "yamlstat",
      ]);
      expect(stdout).toContain("yamlstat: document 0 has 4 nodes (pyyaml 6.0.2, libyaml)");
      const id = await machineB.buildah(["run", "--isolation", "chroot", container, "--", "id", "-u"]);
      expect(Number(id.stdout.trim())).toBe(10001);
    } finally {
      await machineB.buildah(["rm", container]);
    }
  });
});
