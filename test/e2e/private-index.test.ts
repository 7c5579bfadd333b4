// End to end: a project whose lock takes a package from a password-protected index (pypiserver on loopback),
// built by `couplet build` on buildah and on Docker BuildKit with a canary password that must leave no trace.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { cp, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBaseImage, ensureBaseTarball } from "../support/base-image.js";
import { buildah, removeImages, runInImage } from "../support/buildah.js";
import { type CliResult as Result, couplet as runCouplet } from "../support/cli.js";
import { importImage, type PrivateDockerd, startDockerd } from "../support/dockerd.js";
import { archiveFilesHolding } from "../support/leaks.js";

const exec = promisify(execFile);
const repo = new URL("../..", import.meta.url).pathname;
const fixture = join(repo, "test/fixtures/projects/private-index");
const packages = join(repo, "test/fixtures/private-index/packages");
// The lock's source url names this port (it is part of the content-hash): see test/fixtures/private-index.
const PORT = 38417;
const PYPISERVER = "2.3.2";
const PASSLIB = "1.7.4";
const CLASSIC_CLIENT = "/usr/bin/docker";
const USER = "ci-user";
// A new password each run: finding it anywhere in an image or a log can only mean a leak.
const CANARY = `canary-${randomBytes(16).toString("hex")}`;
const runId = `${process.pid}-${Date.now()}`;
const U = "POETRY_HTTP_BASIC_PRIVATE_USERNAME";
const P = "POETRY_HTTP_BASIC_PRIVATE_PASSWORD";

/** pypiserver and passlib in a venv of their own under the cache folder, made once (its script, last, marks it done). */
async function pypiserverVenv(): Promise<string> {
  const cache = process.env.COUPLET_CACHE ?? join(repo, ".cache");
  const venv = join(cache, `pypiserver-${PYPISERVER}-passlib-${PASSLIB}`);
  if (existsSync(join(venv, "bin", "pypi-server"))) return venv;
  await mkdir(cache, { recursive: true });
  await rm(venv, { recursive: true, force: true });
  try {
    await exec("python3", ["-m", "venv", venv]);
    await exec(join(venv, "bin", "pip"), [
      "install",
      "--quiet",
      "--disable-pip-version-check",
      `pypiserver==${PYPISERVER}`,
      `passlib==${PASSLIB}`,
    ]);
  } catch (error) {
    await rm(venv, { recursive: true, force: true });
    throw error;
  }
  return venv;
}

/** The canary, and the basic-auth header value that would carry it, as bytes to look for. */
const needles = [CANARY, Buffer.from(`${USER}:${CANARY}`).toString("base64")].map((s) => Buffer.from(s));

/** Files of an image archive (layers, config, manifest) that hold the canary in any form. */
const leaksIn = (archive: string) => archiveFilesHolding(archive, needles);

const leaked = (text: string) => needles.some((needle) => text.includes(needle.toString()));

describe.sequential("a private index with basic auth: couplet build on buildah and Docker BuildKit", () => {
  let server: ChildProcess | undefined;
  let serverLog = "";
  let dockerd: PrivateDockerd | undefined;
  let work: string;
  let logs: string;
  let buildahBase: string;
  let dockerBase: string;
  const tag = (engine: string) => `couplet-e2e-private/${engine}:${runId}`;
  const credentials = { [U]: USER, [P]: CANARY };

  const couplet = (args: string[], env: NodeJS.ProcessEnv) => runCouplet(args, { env });
  /** The environment of a shell that has nothing of Poetry's credentials, plus `extra`. */
  const envWith = (extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv => {
    const env = { ...process.env };
    for (const key of Object.keys(env)) if (key.startsWith("POETRY_HTTP_BASIC_")) delete env[key];
    return { ...env, ...extra };
  };

  beforeAll(async () => {
    await exec("npm", ["run", "build"], { cwd: repo });
    const venv = await pypiserverVenv();
    work = await mkdtemp(join(tmpdir(), "couplet-e2e-private-"));
    logs = await mkdtemp(join(tmpdir(), "couplet-e2e-private-logs-"));
    const project = join(work, "project");
    await cp(fixture, project, { recursive: true });
    // passlib writes the htpasswd file (apr1-md5, what htpasswd -m writes) that pypiserver checks.
    const htpasswd = join(work, "htpasswd");
    await exec(join(venv, "bin", "python"), [
      "-c",
      "import sys; from passlib.apache import HtpasswdFile; f = HtpasswdFile(sys.argv[1], new=True); f.set_password(sys.argv[2], sys.argv[3]); f.save()",
      htpasswd,
      USER,
      CANARY,
    ]);
    server = spawn(
      join(venv, "bin", "pypi-server"),
      [
        "run",
        "-v",
        "-i",
        "127.0.0.1",
        "-p",
        String(PORT),
        "-P",
        htpasswd,
        "-a",
        "download,list,update",
        packages,
      ],
      { stdio: ["ignore", "pipe", "pipe"], detached: true },
    );
    server.stdout?.on("data", (d: Buffer) => (serverLog += d.toString()));
    server.stderr?.on("data", (d: Buffer) => (serverLog += d.toString()));
    // Up when it asks for a password; a server already on the port (another run) would answer too, so
    // also check that ours is still alive.
    for (let tries = 0; ; tries++) {
      const status = await fetch(`http://127.0.0.1:${PORT}/simple/`).then(
        (r) => r.status,
        () => 0,
      );
      if (server.exitCode !== null)
        throw new Error(`pypi-server exited (port ${PORT} taken?):\n${serverLog}`);
      if (status === 401) break;
      if (tries > 100) throw new Error(`pypi-server did not answer on ${PORT}:\n${serverLog}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const withAuth = await fetch(`http://127.0.0.1:${PORT}/simple/couplet-private-greeting/`, {
      headers: { authorization: `Basic ${Buffer.from(`${USER}:${CANARY}`).toString("base64")}` },
    });
    expect(withAuth.status).toBe(200);
    buildahBase = await ensureBaseImage({ debian: "bookworm", flavor: "slim" });
    dockerd = await startDockerd();
    dockerBase = await importImage(
      dockerd,
      await ensureBaseTarball({ debian: "bookworm", flavor: "slim" }),
      "couplet-e2e-private/python:3.11-slim-bookworm",
    );
  });

  afterAll(async () => {
    await removeImages(tag("buildah"), tag("buildah-dev"));
    await dockerd?.stop();
    if (server?.pid !== undefined && server.exitCode === null) process.kill(-server.pid, "SIGTERM");
    for (const dir of [work, logs]) if (dir) await rm(dir, { recursive: true, force: true });
  });

  const project = () => join(work, "project");

  it("refuses in one line, before building, when the index's credentials are not set", async () => {
    const result = await couplet(
      ["build", project(), "--engine", "buildah", "--tag", tag("refused")],
      envWith({}),
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      `couplet: the private index private (http://127.0.0.1:${PORT}/simple) needs credentials: ${U} and ${P} are not set (export ${U} and ${P} (a token: the username __token__), or pass --secret id=netrc,src=FILE with a netrc file; \`couplet plan\` prints the flags)\n`,
    );
    expect(result.stdout).toBe("");
  });

  it("prints the secret flags in couplet plan", async () => {
    const result = await couplet(["plan", project()], envWith({}));
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`couplet build --secret id=${U},env=${U} --secret id=${P},env=${P}`);
  });

  let buildahRun: Result;
  it("builds on buildah with the credentials from the environment; the image runs the private package", async () => {
    const logBefore = serverLog.length;
    buildahRun = await couplet(
      [
        "build",
        project(),
        "--engine",
        "buildah",
        "--network",
        "host",
        "--build-arg",
        `PYTHON_IMAGE=${buildahBase}`,
        "--tag",
        tag("buildah"),
        "--log",
        join(logs, "buildah.log"),
        // A secret is no part of a step's cache key: a layer from an earlier run would hide this run's install.
        "--no-cache",
      ],
      envWith(credentials),
    );
    expect(buildahRun.code, buildahRun.stderr).toBe(0);
    const log = await readFile(join(logs, "buildah.log"), "utf8");
    expect(log).toMatch(/Installing couplet-private-greeting \(0\.1\.0\)/);
    const ran = await runInImage(tag("buildah"), ["private-app"]);
    expect(ran.stdout.trim(), ran.stderr).toBe("hello container, from the private index");
    // The index answered this build's authenticated requests (-v logs each one with its status).
    expect(serverLog.slice(logBefore)).toMatch(
      /"GET \/(simple|packages)\/couplet[-_]private[-_]greeting[^"]*" 200 /,
    );
  });

  it("leaves the password in no layer, config or history of the buildah images (production, and development: the builder's layers), nor in couplet's output", async () => {
    // The development target stands on the builder stage, whose steps read the secrets: its layers and
    // history are where a leak would be.
    const dev = await couplet(
      [
        "build",
        project(),
        "--engine",
        "buildah",
        "--network",
        "host",
        "--build-arg",
        `PYTHON_IMAGE=${buildahBase}`,
        "--target",
        "development",
        "--tag",
        tag("buildah-dev"),
        "--log",
        join(logs, "buildah-dev.log"),
      ],
      envWith(credentials),
    );
    expect(dev.code, dev.stderr).toBe(0);
    for (const image of [tag("buildah"), tag("buildah-dev")]) {
      const archive = join(work, "buildah.tar");
      await rm(archive, { force: true });
      const pushed = await buildah(["push", image, `docker-archive:${archive}:${image}`]);
      expect(pushed.code, pushed.stderr).toBe(0);
      const { files, leaks } = await leaksIn(archive);
      expect(files).toBeGreaterThan(3);
      expect(leaks, image).toEqual([]);
      const config = await buildah(["inspect", "--type", "image", image]);
      expect(config.code, config.stderr).toBe(0);
      expect(leaked(config.stdout), image).toBe(false);
      const inspect = await couplet(["inspect", archive], envWith({}));
      expect(inspect.code, inspect.stderr).toBe(0);
      expect(inspect.stdout.length).toBeGreaterThan(100);
      expect(leaked(inspect.stdout + inspect.stderr), image).toBe(false);
    }
    // The development image's history holds the builder's install that read the secrets.
    const history = await buildah(["inspect", "--type", "image", tag("buildah-dev")]);
    expect(history.stdout).toContain("poetry install --only main --no-root");
    for (const output of [buildahRun.stdout + buildahRun.stderr, dev.stdout + dev.stderr])
      expect(leaked(output)).toBe(false);
    for (const log of ["buildah.log", "buildah-dev.log"])
      expect(leaked(await readFile(join(logs, log), "utf8")), log).toBe(false);
  });

  let dockerRun: Result;
  it("builds on Docker's own BuildKit (DOCKER_BUILDKIT=1, 20.10 client); the image runs the private package", async () => {
    const logBefore = serverLog.length;
    dockerRun = await couplet(
      [
        "build",
        project(),
        "--docker",
        CLASSIC_CLIENT,
        "--network",
        "host",
        "--build-arg",
        `PYTHON_IMAGE=${dockerBase}`,
        "--tag",
        tag("docker"),
        "--log",
        join(logs, "docker.log"),
      ],
      envWith({ ...dockerd?.env, ...credentials }),
    );
    expect(dockerRun.code, dockerRun.stderr).toBe(0);
    expect(dockerRun.stderr).toContain("with docker (the daemon's BuildKit, DOCKER_BUILDKIT=1)");
    expect(serverLog.slice(logBefore)).toMatch(
      /"GET \/packages\/couplet_private_greeting-0\.1\.0-py3-none-any\.whl HTTP\/1\.1" 200 /,
    );
    const log = await readFile(join(logs, "docker.log"), "utf8");
    expect(log).toMatch(/Installing couplet-private-greeting \(0\.1\.0\)/);
    const { stdout } = await exec(CLASSIC_CLIENT, ["run", "--rm", "--network", "host", tag("docker")], {
      env: dockerd?.env,
    });
    expect(stdout.trim()).toBe("hello container, from the private index");
  });

  it("leaves the password in no layer, config or history of the Docker images (production, and development: the builder's layers), nor in couplet's output", async () => {
    const dev = await couplet(
      [
        "build",
        project(),
        "--docker",
        CLASSIC_CLIENT,
        "--network",
        "host",
        "--build-arg",
        `PYTHON_IMAGE=${dockerBase}`,
        "--target",
        "development",
        "--tag",
        tag("docker-dev"),
        "--log",
        join(logs, "docker-dev.log"),
      ],
      envWith({ ...dockerd?.env, ...credentials }),
    );
    expect(dev.code, dev.stderr).toBe(0);
    for (const image of [tag("docker"), tag("docker-dev")]) {
      const archive = join(work, "docker.tar");
      await rm(archive, { force: true });
      await exec(CLASSIC_CLIENT, ["save", "--output", archive, image], { env: dockerd?.env });
      const { files, leaks } = await leaksIn(archive);
      expect(files).toBeGreaterThan(3);
      expect(leaks, image).toEqual([]);
      const { stdout: config } = await exec(CLASSIC_CLIENT, ["image", "inspect", image], {
        env: dockerd?.env,
      });
      expect(leaked(config), image).toBe(false);
      const inspect = await couplet(["inspect", archive], envWith({}));
      expect(inspect.code, inspect.stderr).toBe(0);
      expect(leaked(inspect.stdout + inspect.stderr), image).toBe(false);
    }
    const { stdout: history } = await exec(
      CLASSIC_CLIENT,
      ["history", "--no-trunc", "--format", "{{.CreatedBy}}", tag("docker-dev")],
      { env: dockerd?.env },
    );
    expect(history).toContain("poetry install --only main --no-root");
    expect(leaked(history)).toBe(false);
    for (const output of [dockerRun.stdout + dockerRun.stderr, dev.stdout + dev.stderr])
      expect(leaked(output)).toBe(false);
    for (const log of ["docker.log", "docker-dev.log"])
      expect(leaked(await readFile(join(logs, log), "utf8")), log).toBe(false);
  });
});
