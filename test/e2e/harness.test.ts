// Checks the e2e harness itself and the engine behaviour couplet's plans rely on, with a hand-written Dockerfile.
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBaseImage } from "../support/base-image.js";
import {
  build,
  freePort,
  httpGet,
  parseSteps,
  removeImages,
  runInImage,
  startServer,
} from "../support/buildah.js";

const harnessDir = fileURLToPath(new URL("../support/harness/", import.meta.url));

describe("parseSteps", () => {
  it("marks the steps buildah took from its layer cache", () => {
    // Lines as buildah 1.28 prints them for a two-stage build.
    const log = [
      "[1/2] STEP 1/2: FROM base AS keyer",
      "[1/2] STEP 2/2: RUN make key",
      "--> 6eec42c05eb",
      "[2/2] STEP 1/2: FROM base AS production",
      "[2/2] STEP 2/2: COPY --from=keyer /k/key.txt ./",
      "--> Using cache b04c13be52d67aea04fde58be37dcc6e72964b7fc41d15655cfafbb001dbbda4",
      "--> b04c13be52d",
    ].join("\n");
    expect(parseSteps(log).map((s) => [s.instruction, s.cached])).toEqual([
      ["FROM base AS keyer", false],
      ["RUN make key", false],
      ["FROM base AS production", false],
      ["COPY --from=keyer /k/key.txt ./", true],
    ]);
  });
});

describe("test base image (bookworm slim)", () => {
  let base: string;
  beforeAll(async () => {
    base = await ensureBaseImage({ debian: "bookworm", flavor: "slim" });
  });

  it("behaves like python:3.11-slim where Dockerfiles notice", async () => {
    const script = [
      "python --version",
      "pip --version >/dev/null && echo pip-ok",
      "command -v useradd >/dev/null && echo useradd-ok",
      "test -f /usr/include/python3.11/Python.h && echo headers-ok",
      "ls /usr/lib/python3*/EXTERNALLY-MANAGED 2>/dev/null || echo no-pep668-marker",
      "command -v gcc || echo no-compiler",
    ].join("; ");
    const result = await runInImage(base, ["sh", "-c", script]);
    expect(result.stdout).toMatch(/^Python 3\.11\./);
    for (const word of ["pip-ok", "useradd-ok", "headers-ok", "no-pep668-marker", "no-compiler"]) {
      expect(result.stdout).toContain(word);
    }
  });
});

describe("harness Dockerfile on buildah", () => {
  let base: string;
  let dir: string;
  // Per-run names: a concurrent run of this file must not retag our images.
  const tags = [1, 2, 3].map((n) => `couplet-e2e-harness-${process.pid}-${n}`);

  beforeAll(async () => {
    base = await ensureBaseImage({ debian: "bookworm", flavor: "slim" });
    dir = await mkdtemp(join(tmpdir(), "couplet-harness-"));
    await cp(harnessDir, dir, { recursive: true });
  });
  afterAll(async () => {
    await removeImages(...tags);
    await rm(dir, { recursive: true, force: true });
  });

  const buildTag = (tag: string) => build({ context: dir, tag, buildArgs: { PYTHON_IMAGE: base } });

  it("installs from PyPI inside a RUN step (TLS through the base image's CA bundle) and serves on loopback", async () => {
    const first = await buildTag(tags[0] ?? "");
    expect(first.code, first.log).toBe(0);
    const port = await freePort();
    const server = await startServer(tags[0] ?? "", ["/app/.venv/bin/python", "app.py", String(port)]);
    try {
      const response = await httpGet(port);
      expect(response, server.output()).toEqual({ status: 200, body: "six 1.16.0\n" });
    } finally {
      await server.stop();
    }
    const user = await runInImage(tags[0] ?? "", ["id", "-u"]);
    expect(user.stdout.trim()).toBe("1000");
  });

  it("reuses COPY --from when the file it copies keeps its bytes though the stage that made it re-ran", async () => {
    const input = join(dir, "input.txt");
    const original = await readFile(input, "utf8");
    // Unique per run: the layer cache outlives the test, and a step seen before would hit it anyway.
    const run = `${process.pid}-${Date.now()}`;
    await writeFile(input, original.replace(/^#.*$/m, `# only this comment changed (${run})`));
    const second = await buildTag(tags[1] ?? "");
    expect(second.code, second.log).toBe(0);
    const step = (prefix: string) => second.steps.find((s) => s.instruction.startsWith(prefix));
    expect(step("RUN grep")?.cached, second.log).toBe(false);
    expect(step("COPY --from=keyer")?.cached, second.log).toBe(true);
    expect(step("RUN --mount=type=cache")?.cached, second.log).toBe(true);

    // The control: a change that reaches the copied file does rebuild.
    await writeFile(input, original.replace("six==1.16.0", `six==1.17.0 ; platform_machine != "${run}"`));
    const third = await buildTag(tags[2] ?? "");
    expect(third.code, third.log).toBe(0);
    expect(third.steps.find((s) => s.instruction.startsWith("COPY --from=keyer"))?.cached, third.log).toBe(
      false,
    );
  });
});
