// End to end: a Celery worker with no command of its own (openrelik-worker-hasher's layout) gets `celery --app ...
// worker` from `couplet build` and from `couplet assemble`, and the worker starts in both images as the app user.
import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBaseImage } from "../support/base-image.js";
import { buildah, imageConfig, removeImages, type Server, startServer } from "../support/buildah.js";
import { buildOnBuildah, type CliResult, couplet, repo } from "../support/cli.js";

const runId = `${process.pid}${Date.now() % 100_000}`;
const builtTag = `localhost/couplet-e2e-worker/built:${runId}`;
const assembledTag = `localhost/couplet-e2e-worker/assembled:${runId}`;
const WORKER = ["celery", "--app", "src.app:celery", "worker", "--loglevel", "INFO"];

/** Start the image's own command and wait for the worker's "celery@HOST ready." line; the worker is stopped after. */
async function workerReady(tag: string): Promise<string> {
  const server: Server = await startServer(tag);
  try {
    const deadline = Date.now() + 90_000;
    while (!/celery@\S+ ready\./.test(server.output())) {
      if (Date.now() > deadline) throw new Error(`the worker never said it was ready:\n${server.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    return server.output();
  } finally {
    await server.stop();
  }
}

describe("a Celery worker without a command of its own", () => {
  let work: string;
  let built: CliResult;
  let assembled: CliResult;

  beforeAll(async () => {
    const base = await ensureBaseImage({ debian: "trixie", flavor: "slim" });
    work = await mkdtemp(join(tmpdir(), "couplet-e2e-worker-"));
    const dir = join(work, "celery-worker");
    await cp(join(repo, "test/fixtures/projects/celery-worker"), dir, { recursive: true });
    built = await buildOnBuildah(dir, base, builtTag);
    // The same base as a docker-archive, for assemble (which reads no engine's storage).
    const archive = join(work, "base.tar");
    const pushed = await buildah(["push", base, `docker-archive:${archive}`]);
    if (pushed.code !== 0) throw new Error(`buildah push failed: ${pushed.stderr}`);
    const output = join(work, "assembled.tar");
    assembled = await couplet(
      ["assemble", dir, "--base", archive, "--tag", assembledTag, "--output", output],
      { env: { ...process.env, COUPLET_CACHE: join(work, "cache") } },
    );
    if (assembled.code === 0) {
      const pulled = await buildah(["pull", `docker-archive:${output}`]);
      if (pulled.code !== 0) throw new Error(`buildah pull failed: ${pulled.stderr}`);
    }
  }, 20 * 60_000);

  afterAll(async () => {
    await removeImages(builtTag, assembledTag);
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("couplet build: the image's command is the worker, and it starts as uid 10001 with its task registered", async () => {
    expect(built.code, built.stdout + built.stderr).toBe(0);
    const config = await imageConfig(builtTag);
    expect(config.cmd).toEqual(WORKER);
    expect(config.entrypoint).toEqual([]);
    expect(config.user).toBe("10001:10001");
    expect(config.exposedPorts).toEqual([]);
    const output = await workerReady(builtTag);
    // Loaded through the include= of the app, from the working directory: src.tasks was found and imported.
    expect(output).toMatch(/\[tasks\]\s+\. checksum\.sha256/);
    expect(output).toContain("transport:   memory://");
    // Not root: celery would warn about superuser privileges.
    expect(output).not.toMatch(/superuser privileges/);
  });

  it("couplet assemble: the same command from the same plan, and the worker starts", async () => {
    expect(assembled.code, assembled.stderr).toBe(0);
    const config = await imageConfig(assembledTag);
    expect(config.cmd).toEqual(WORKER);
    expect(config.user).toBe("10001:10001");
    expect(await workerReady(assembledTag)).toMatch(/\[tasks\]\s+\. checksum\.sha256/);
  });
});
