// End to end on Docker: `couplet build --engine docker` with the legacy builder (no BuildKit here), then run it.
import { execFile } from "node:child_process";
import { cp, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBaseTarball } from "../support/base-image.js";
import { importImage, type PrivateDockerd, startDockerd } from "../support/dockerd.js";

const run = promisify(execFile);
const repo = new URL("../..", import.meta.url).pathname;
const cli = join(repo, "dist/cli/main.js");
const runId = `${process.pid}-${Date.now()}`;
const tag = `couplet-e2e-docker/cli-tool:${runId}`;

describe("couplet build on Docker's legacy builder (cli-tool example)", () => {
  let dockerd: PrivateDockerd;
  let work: string;
  let result: { code: number; stdout: string; stderr: string };

  beforeAll(async () => {
    await run("npm", ["run", "build"], { cwd: repo });
    dockerd = await startDockerd();
    // cli-tool plans CPython 3.13: the trixie stand-in for python:3.13-slim-trixie.
    const base = await importImage(
      dockerd,
      await ensureBaseTarball({ debian: "trixie", flavor: "slim" }),
      "couplet-e2e-docker/python:3.13-slim-trixie",
    );
    work = await mkdtemp(join(tmpdir(), "couplet-e2e-docker-"));
    await cp(join(repo, "examples/cli-tool"), work, {
      recursive: true,
      filter: (src) => !src.includes(".venv"),
    });
    const args = [cli, "build", work, "--engine", "docker", "--network", "host", "--tag", tag];
    args.push("--build-arg", `PYTHON_IMAGE=${base}`);
    try {
      const { stdout, stderr } = await run(process.execPath, args, { env: dockerd.env, maxBuffer: 64 << 20 });
      result = { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      result = { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
  });

  afterAll(async () => {
    await dockerd?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const docker = (args: string[]) => run("docker", args, { env: dockerd.env, maxBuffer: 16 << 20 });

  it("builds, warning that the legacy builder has no cache mounts", () => {
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/warning: docker has no buildx plugin: using the legacy builder/);
    expect(result.stdout).toContain(tag);
  });

  it("runs: the console script answers, as a non-root user", async () => {
    const { stdout } = await docker(["run", "--rm", "--network", "host", tag]);
    expect(stdout).toContain("yamlstat: document 0 has 4 nodes (pyyaml 6.0.2, libyaml)");
    const id = await docker(["run", "--rm", "--network", "host", "--entrypoint", "id", tag, "-u"]);
    expect(Number(id.stdout.trim())).toBe(10001);
  });

  it("leaves no Poetry or pip cache in the image without cache mounts", async () => {
    const probe = await docker([
      "run",
      "--rm",
      "--user",
      "0",
      "--entrypoint",
      "sh",
      tag,
      "-c",
      "ls -A /root/.cache 2>/dev/null | wc -l; test -e /opt/poetry && echo poetry-present || true",
    ]);
    expect(probe.stdout.trim()).toBe("0");
  });

  it("never writes into the project folder", async () => {
    await expect(readFile(join(work, "Dockerfile"))).rejects.toThrow();
  });
});
