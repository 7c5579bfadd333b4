// End to end on Docker: `couplet build --engine docker` through the daemon's own BuildKit (Debian's 20.10 client,
// DOCKER_BUILDKIT=1) on overlay2, the seed's flask-uwsgi case; one small legacy-builder check with a 23+ client.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { appendFile, cp, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBaseTarball } from "../support/base-image.js";
import { freePort, httpGet } from "../support/buildah.js";
import { type CliResult, cli, couplet as runCouplet } from "../support/cli.js";
import { importImage, type PrivateDockerd, startDockerd } from "../support/dockerd.js";

const exec = promisify(execFile);
const repo = new URL("../..", import.meta.url).pathname;
// Debian's docker.io: a client before 23.0, which drives the daemon's BuildKit with DOCKER_BUILDKIT=1.
const CLASSIC_CLIENT = "/usr/bin/docker";
// A newer client without buildx, earlier on PATH on these machines: it refuses DOCKER_BUILDKIT=1.
const NEW_CLIENT = "/usr/local/bin/docker";
const runId = `${process.pid}-${Date.now()}`;
const tag = (name: string) => `couplet-e2e-docker/${name}:${runId}`;

describe.sequential("couplet build on Docker BuildKit (flask-uwsgi: uWSGI and psycopg2 compiled)", () => {
  let dockerd: PrivateDockerd;
  let base: string;
  let work: string;
  let logs: string;

  const couplet = (args: string[]) => runCouplet(args, { env: dockerd.env });
  const docker = (args: string[]) =>
    exec(CLASSIC_CLIENT, args, { env: dockerd.env, maxBuffer: 16 << 20 }).then((r) => r.stdout);
  const build = (name: string, extra: string[] = []) =>
    couplet([
      "build",
      work,
      "--docker",
      CLASSIC_CLIENT,
      "--network",
      "host",
      "--build-arg",
      `PYTHON_IMAGE=${base}`,
      "--tag",
      tag(name),
      "--log",
      join(logs, `${name}.log`),
      ...extra,
    ]);
  /** The live display's line for the step whose instruction matches, e.g. "↺ [builder] 3/6 RUN ... cached". */
  const stepLine = (stderr: string, instruction: RegExp) =>
    stderr.split("\n").find((line) => /^ {2}[✓↺✗] \[/.test(line) && instruction.test(line)) ?? "";
  const INSTALL_DEPS = /poetry install --only main --no-root/;

  /**
   * What Poetry's cache mount holds of downloaded and built packages (artifacts/; its HTTP metadata cache is revalidated on every run), listed by a build that mounts the same cache (a fresh RUN text each time,
   * not --no-cache: BuildKit gives a --no-cache build empty cache mounts). Path → modification time.
   */
  async function poetryCache(nonce: string): Promise<Map<string, string>> {
    const dir = await mkdtemp(join(tmpdir(), "couplet-e2e-probe-"));
    try {
      await writeFile(
        join(dir, "Dockerfile"),
        `FROM ${base}\nRUN --mount=type=cache,target=/root/.cache/pypoetry ` +
          `find /root/.cache/pypoetry/artifacts -type f -printf 'cached %P %T@\\n' # ${nonce}\n`,
      );
      const { stderr } = await exec(
        CLASSIC_CLIENT,
        ["build", "--progress", "plain", "--network", "host", dir],
        {
          env: { ...dockerd.env, DOCKER_BUILDKIT: "1" },
          maxBuffer: 16 << 20,
        },
      );
      const files = new Map<string, string>();
      for (const m of stderr.matchAll(/^#\d+ [\d.]+ cached (\S+) (\S+)$/gm))
        files.set(m[1] as string, m[2] as string);
      return files;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  beforeAll(async () => {
    await exec("npm", ["run", "build"], { cwd: repo });
    dockerd = await startDockerd();
    base = await importImage(
      dockerd,
      await ensureBaseTarball({ debian: "bookworm", flavor: "slim" }),
      "couplet-e2e-docker/python:3.11-slim-bookworm",
    );
    work = await mkdtemp(join(tmpdir(), "couplet-e2e-docker-"));
    logs = await mkdtemp(join(tmpdir(), "couplet-e2e-docker-logs-"));
    await cp(join(repo, "examples/flask-uwsgi"), work, {
      recursive: true,
      filter: (src) => !src.includes(".venv"),
    });
  });

  afterAll(async () => {
    await dockerd?.stop();
    for (const dir of [work, logs]) if (dir) await rm(dir, { recursive: true, force: true });
  });

  let cold: CliResult;
  let cacheAfterCold: Map<string, string>;

  it("builds through the daemon's BuildKit with the named client, without a `# syntax=` line, and says so", async () => {
    cold = await build("cold");
    expect(cold.code, cold.stderr).toBe(0);
    expect(cold.stderr).toContain(`with docker (the daemon's BuildKit, DOCKER_BUILDKIT=1)`);
    expect(cold.stderr).not.toMatch(/warning/);
    expect(cold.stderr).toMatch(
      /# syntax= line: left out of this build: the engine reads RUN --mount with its built-in frontend/,
    );
    // BuildKit's steps, by stage, as the live display shows them; nothing came from a cache.
    expect(stepLine(cold.stderr, INSTALL_DEPS)).toMatch(/^ {2}✓ \[builder\] \d+\/\d+ RUN .* done$/);
    expect(cold.stdout).toMatch(/\(0 of \d+ steps from cache\)/);
    // uWSGI and psycopg2 have no wheel for this platform in the lock: Poetry built them from their sdists.
    const log = await readFile(join(logs, "cold.log"), "utf8");
    expect(log).toMatch(/Installing uwsgi \(2\.0\.28\)/);
    expect(log).toMatch(/BuildBackendWarning/);
    cacheAfterCold = await poetryCache(`cold-${runId}`);
    expect([...cacheAfterCold.keys()].some((p) => /uwsgi-2\.0\.28.*\.whl$/.test(p))).toBe(true);
  });

  it("answers HTTP from uWSGI, with psycopg2 loading libpq, as a non-root user", async () => {
    const port = await freePort();
    const config = JSON.parse(
      await docker(["image", "inspect", "--format", "{{json .Config}}", tag("cold")]),
    ) as {
      Cmd: string[];
      User: string;
    };
    expect(config.User).toBe("10001:10001");
    const cmd = config.Cmd.map((arg) => arg.replace(/:8000$/, `:${port}`));
    const container = (await docker(["run", "-d", "--network", "host", tag("cold"), ...cmd])).trim();
    try {
      const response = await httpGet(port, "/", 90_000);
      expect(response.status).toBe(200);
      const body = JSON.parse(response.body) as Record<string, unknown>;
      expect(body).toMatchObject({ app: "hello-uwsgi", psycopg2: "2.9.10" });
      expect(String(body.python)).toMatch(/^3\.11\./);
      expect(Number(body.libpq)).toBeGreaterThan(150000);
    } finally {
      await docker(["rm", "--force", container]);
    }
  });

  it("reuses the dependency layer after a source edit", async () => {
    await appendFile(join(work, "hello_uwsgi/app.py"), `\n# edited ${runId}\n`);
    const edit = await build("source-edit");
    expect(edit.code, edit.stderr).toBe(0);
    expect(stepLine(edit.stderr, INSTALL_DEPS)).toMatch(/^ {2}↺ \[builder\] .* cached$/);
    expect(stepLine(edit.stderr, /COPY hello_uwsgi/)).toMatch(/^ {2}✓ .* done$/);
  });

  it("reuses the dependency layer after the seed's cache-busting comment in pyproject.toml", async () => {
    await appendFile(join(work, "pyproject.toml"), `\n# cache-bust ${runId}\n`);
    const bust = await build("cache-bust");
    expect(bust.code, bust.stderr).toBe(0);
    // The normalized pyproject is made again, comes out the same, and the install keyed on it stays cached.
    expect(stepLine(bust.stderr, /^ {2}. \[lock\] \d+\/\d+ RUN/)).toMatch(/done$/);
    expect(stepLine(bust.stderr, INSTALL_DEPS)).toMatch(/^ {2}↺ .* cached$/);
  });

  it("after a dependency change, downloads and builds nothing the cache mount already holds", async () => {
    // The same project with six added, locked by Poetry 1.8.5 (test/fixtures/dependency-change).
    const variant = join(repo, "test/fixtures/dependency-change/flask-uwsgi-plus-six");
    for (const file of ["pyproject.toml", "poetry.lock"]) await cp(join(variant, file), join(work, file));
    const change = await build("dependency-change");
    expect(change.code, change.stderr).toBe(0);
    expect(stepLine(change.stderr, INSTALL_DEPS)).toMatch(/^ {2}✓ .* done$/);
    const log = await readFile(join(logs, "dependency-change.log"), "utf8");
    expect(log).toMatch(/Installing six \(1\.17\.0\)/);
    expect(log).toMatch(/Installing uwsgi \(2\.0\.28\)/);
    // No sdist was built this time: uWSGI and psycopg2 came as the wheels built by the first build.
    expect(log).not.toMatch(/BuildBackendWarning/);
    const after = await poetryCache(`after-${runId}`);
    // Every file the cold build left is still there, untouched (a download or rebuild would rewrite it) ...
    for (const [path, mtime] of cacheAfterCold) expect(after.get(path), path).toBe(mtime);
    // ... and the only new files are six's.
    const added = [...after.keys()].filter((p) => !cacheAfterCold.has(p));
    expect(added.length).toBeGreaterThan(0);
    for (const path of added) expect(path).toMatch(/six-1\.17\.0/);
  });

  it("builds the development target, with the dev and test groups", async () => {
    const dev = await build("development", ["--target", "development"]);
    expect(dev.code, dev.stderr).toBe(0);
    const out = await docker([
      "run",
      "--rm",
      "--network",
      "host",
      "--entrypoint",
      "sh",
      tag("development"),
      "-c",
      "ruff --version && pytest --version && mypy --version",
    ]);
    expect(out).toMatch(/ruff 0\.8\.4/);
    expect(out).toMatch(/mypy 1\.14\.1/);
  });

  it("stops on a `# syntax=` frontend it cannot fetch, saying what to do", async () => {
    const dir = await mkdtemp(join(tmpdir(), "couplet-e2e-syntax-"));
    try {
      await writeFile(join(dir, "Dockerfile"), `# syntax=docker/dockerfile:1\nFROM ${base}\nRUN true\n`);
      const result = await couplet([
        "build",
        dir,
        "--dockerfile",
        join(dir, "Dockerfile"),
        "--docker",
        CLASSIC_CLIENT,
      ]);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/cannot fetch the Dockerfile frontend docker\.io\/docker\/dockerfile:1/);
      expect(result.stderr).toMatch(/--no-syntax/);
      expect(result.stderr).not.toMatch(/internal error|at .*\.js:\d+/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("Ctrl-C stops the build and leaves nothing running in the daemon", async () => {
    const dir = await mkdtemp(join(tmpdir(), "couplet-e2e-stop-"));
    // A duration no other process on the machine uses, to find the step's process by its command line.
    const seconds = 3000 + (process.pid % 900);
    const log = join(dir, "build.log");
    let child: ChildProcess | undefined;
    try {
      await writeFile(
        join(dir, "Dockerfile"),
        `FROM ${base}\nRUN echo started-${runId} && sleep ${seconds}\n`,
      );
      child = spawn(
        process.execPath,
        [
          cli,
          "build",
          dir,
          "--dockerfile",
          join(dir, "Dockerfile"),
          "--docker",
          CLASSIC_CLIENT,
          "--network",
          "host",
          "--log",
          log,
        ],
        { env: dockerd.env, stdio: "ignore" },
      );
      const exited = new Promise<number | null>((resolve) => child?.on("exit", (code) => resolve(code)));
      // The step runs once its `sleep` runs (inside the daemon, so visible in the machine's process table).
      await waitFor(() => sleeping(seconds), 120_000);
      child.kill("SIGINT");
      expect(await exited).toBe(130);
      await waitFor(async () => !(await sleeping(seconds)));
      expect(await docker(["ps", "--all", "--quiet"])).toBe("");
    } finally {
      child?.kill("SIGKILL");
      await rm(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!existsSync(NEW_CLIENT))(
    "a 23+ client without buildx gets the legacy builder, with a warning naming the client that has BuildKit",
    async () => {
      const dir = await mkdtemp(join(tmpdir(), "couplet-e2e-legacy-"));
      try {
        await writeFile(join(dir, "Dockerfile"), `FROM ${base}\nRUN echo legacy > /built-by\n`);
        const result = await couplet([
          "build",
          dir,
          "--dockerfile",
          join(dir, "Dockerfile"),
          "--docker",
          NEW_CLIENT,
        ]);
        expect(result.code, result.stderr).toBe(0);
        expect(result.stderr).toMatch(/warning: docker has no buildx plugin: using the legacy builder/);
        expect(result.stderr).toMatch(/\(28\.|is 23\.0 or newer/);
        expect(result.stderr).toMatch(/--docker \/(usr\/)?bin\/docker/);
        expect(result.stderr).toMatch(/✓ 2\/2 RUN echo legacy/);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );

  it("never writes into the project folder", async () => {
    expect((await readdir(work)).filter((f) => /Dockerfile|dockerignore/.test(f))).toEqual([]);
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Whether a `sleep <seconds>` process runs anywhere on the machine (the build step's, inside the daemon). */
async function sleeping(seconds: number): Promise<boolean> {
  for (const pid of await readdir("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
    if (cmdline === `sleep\0${seconds}\0`) return true;
  }
  return false;
}
