// End to end: a project whose lock takes a package from a git repository over SSH (OpenSSH's sshd on loopback),
// locked by real Poetry against it and built by `couplet build` on buildah and on Docker BuildKit through the
// test's ssh-agent, with host keys checked and the private key left in no layer and no output.
import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBaseImage, ensureBaseTarball } from "../support/base-image.js";
import { buildah, removeImages, runInImage } from "../support/buildah.js";
import { type CliResult as Result, couplet as runCouplet } from "../support/cli.js";
import { importImage, type PrivateDockerd, startDockerd } from "../support/dockerd.js";
import { archiveFilesHolding } from "../support/leaks.js";
import { type SshAgent, type SshGitServer, startSshAgent, startSshGitServer } from "../support/ssh-git.js";

const exec = promisify(execFile);
const repo = new URL("../..", import.meta.url).pathname;
const fixtures = join(repo, "test/fixtures/ssh-git");
// The newest Poetry: its dulwich (1.2.1 and later) ignores GIT_SSH_COMMAND, the case couplet's Dockerfile
// has to get right without it. The image installs the Poetry that wrote the lock.
const POETRY = "2.5.1";
const PLACEHOLDER = "ssh://git@git.invalid/couplet-ssh-greeting.git";
const CLASSIC_CLIENT = "/usr/bin/docker";
const GREETING = "hello container, from a git repository over SSH";
const runId = `${process.pid}-${Date.now()}`;

describe.sequential("git over SSH: couplet build on buildah and Docker BuildKit through an ssh-agent", () => {
  let work: string;
  let logs: string;
  let home: string;
  let server: SshGitServer;
  let agent: SshAgent | undefined;
  let dockerd: PrivateDockerd | undefined;
  let buildahBase: string;
  let dockerBase: string;
  /** Lines of the private key that only this key has (the first line of every ed25519 key is the same). */
  let keyNeedles: Buffer[];
  /** The known_hosts secret's one line: public, but a secret mount that left it in a layer would be a leak. */
  let knownHostsLine: Buffer;
  const tag = (engine: string) => `couplet-e2e-sshgit/${engine}:${runId}`;
  const project = () => join(work, "project");

  const couplet = (args: string[], env: NodeJS.ProcessEnv) => runCouplet(args, { env });
  /** A shell with this test's agent and a home whose ~/.ssh/known_hosts has the server's host key. */
  const withAgent = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
    ...process.env,
    ...extra,
    HOME: home,
    SSH_AUTH_SOCK: agent?.socket,
  });
  const leaked = (text: string) => keyNeedles.some((needle) => text.includes(needle.toString()));

  beforeAll(async () => {
    await exec("npm", ["run", "build"], { cwd: repo });
    work = await mkdtemp(join(tmpdir(), "couplet-e2e-sshgit-"));
    logs = await mkdtemp(join(tmpdir(), "couplet-e2e-sshgit-logs-"));
    server = await startSshGitServer(
      join(work, "server"),
      join(fixtures, "greeting"),
      "couplet-ssh-greeting",
    );
    agent = await startSshAgent(work, server.clientKey);
    const key = await readFile(server.clientKey, "utf8");
    keyNeedles = key
      .split("\n")
      .filter((line) => /^[A-Za-z0-9+/=]{20,}$/.test(line))
      .slice(1)
      .map((line) => Buffer.from(line));
    expect(keyNeedles.length).toBeGreaterThan(3);
    knownHostsLine = Buffer.from((await readFile(server.knownHosts, "utf8")).trim());
    home = join(work, "home");
    await mkdir(join(home, ".ssh"), { recursive: true });
    await cp(server.knownHosts, join(home, ".ssh", "known_hosts"));

    await cp(join(fixtures, "app"), project(), { recursive: true });
    const pyproject = join(project(), "pyproject.toml");
    const text = await readFile(pyproject, "utf8");
    expect(text).toContain(PLACEHOLDER);
    await writeFile(pyproject, text.replace(PLACEHOLDER, server.url));
    // Poetry on the host reaches the server like the build does: the agent's key, and the host key from a
    // known_hosts file. Its dulwich client ignores GIT_SSH_COMMAND, so this lock asks for the git client.
    await exec(join(repo, "scripts/poetry"), [POETRY, "lock"], {
      cwd: project(),
      env: {
        ...process.env,
        SSH_AUTH_SOCK: agent.socket,
        GIT_SSH_COMMAND: `ssh -o UserKnownHostsFile=${server.knownHosts} -o BatchMode=yes`,
        POETRY_SYSTEM_GIT_CLIENT: "true",
        POETRY_VIRTUALENVS_CREATE: "false",
      },
      maxBuffer: 16 << 20,
    });

    buildahBase = await ensureBaseImage({ debian: "bookworm", flavor: "slim" });
    dockerd = await startDockerd();
    dockerBase = await importImage(
      dockerd,
      await ensureBaseTarball({ debian: "bookworm", flavor: "slim" }),
      "couplet-e2e-sshgit/python:3.11-slim-bookworm",
    );
  });

  afterAll(async () => {
    await removeImages(tag("buildah"), tag("buildah-dev"));
    await dockerd?.stop();
    await agent?.stop();
    await server?.stop();
    for (const dir of [work, logs]) if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("locks the git dependency with real Poetry against the live server", async () => {
    const lock = await readFile(join(project(), "poetry.lock"), "utf8");
    expect(lock).toContain(`@generated by Poetry ${POETRY}`);
    expect(lock).toContain(`type = "git"\nurl = "${server.url}"`);
    expect(lock).toContain(`resolved_reference = "${server.commit}"`);
    expect(server.log()).toMatch(/Accepted publickey for \S+ from 127\.0\.0\.1/);
  });

  it("refuses in one line, before building, when no SSH agent is running", async () => {
    const env = withAgent();
    delete env.SSH_AUTH_SOCK;
    const result = await couplet(["build", project(), "--engine", "buildah", "--tag", tag("refused")], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      "couplet: couplet-ssh-greeting comes from git over SSH (127.0.0.1), and no SSH agent is running (SSH_AUTH_SOCK is not set) (start one with the key loaded (eval $(ssh-agent) && ssh-add), or pass --ssh default=KEYFILE)\n",
    );
  });

  const buildArgs = (engine: string[], base: string, name: string, target?: string) => [
    "build",
    project(),
    ...engine,
    "--network",
    "host",
    "--build-arg",
    `PYTHON_IMAGE=${base}`,
    ...(target ? ["--target", target] : []),
    "--tag",
    tag(name),
    "--log",
    join(logs, `${name}.log`),
  ];

  let buildahRun: Result;
  it("builds on buildah through the agent, checking the host key; the image runs the git package", async () => {
    const before = server.log().length;
    // No --no-cache: the agent is no part of a step's cache key, but the lock is, and each run's lock names a
    // new port and repository path, so the install that clones always runs.
    buildahRun = await couplet(buildArgs(["--engine", "buildah"], buildahBase, "buildah"), withAgent());
    expect(buildahRun.code, buildahRun.stderr).toBe(0);
    const log = await readFile(join(logs, "buildah.log"), "utf8");
    expect(log).toContain(`--secret id=known_hosts,src=${join(home, ".ssh", "known_hosts")} --ssh default`);
    expect(log).toContain(`Installing couplet-ssh-greeting (0.1.0 ${server.commit.slice(0, 7)})`);
    // The clone inside the build came through sshd with the agent's key, as git-shell and nothing else.
    expect(server.log().slice(before)).toMatch(/Accepted publickey for \S+ from 127\.0\.0\.1/);
    expect(server.log().slice(before)).toContain("forced-command (key-option) 'git-shell");
    const ran = await runInImage(tag("buildah"), ["ssh-git-app"]);
    expect(ran.stdout.trim(), ran.stderr).toBe(GREETING);
  });

  it("leaves the private key (and the known_hosts secret) in no layer of the builder (the development image), no image config, nor couplet's output (buildah)", async () => {
    const dev = await couplet(
      buildArgs(["--engine", "buildah"], buildahBase, "buildah-dev", "development"),
      withAgent(),
    );
    expect(dev.code, dev.stderr).toBe(0);
    // The development image stands on the builder's layers, where the agent and the secret were mounted, and
    // holds everything the production image copies from there: its files are the ones to search.
    const archive = join(work, "buildah-dev.tar");
    const pushed = await buildah([
      "push",
      tag("buildah-dev"),
      `docker-archive:${archive}:${tag("buildah-dev")}`,
    ]);
    expect(pushed.code, pushed.stderr).toBe(0);
    const { files, leaks } = await archiveFilesHolding(archive, [...keyNeedles, knownHostsLine]);
    expect(files).toBeGreaterThan(3);
    expect(leaks).toEqual([]);
    await rm(archive, { force: true });
    for (const image of [tag("buildah"), tag("buildah-dev")]) {
      const config = await buildah(["inspect", "--type", "image", image]);
      expect(config.code, config.stderr).toBe(0);
      expect(leaked(config.stdout), image).toBe(false);
    }
    expect(
      (await buildah(["inspect", "--type", "image", tag("buildah-dev")])).stdout,
      "the builder's install is in the development image's history",
    ).toContain("poetry install --only main --no-root");
    for (const output of [buildahRun.stdout + buildahRun.stderr, dev.stdout + dev.stderr])
      expect(leaked(output)).toBe(false);
    for (const log of ["buildah.log", "buildah-dev.log"])
      expect(leaked(await readFile(join(logs, log), "utf8")), log).toBe(false);
  });

  let dockerRun: Result;
  it("builds on Docker's own BuildKit (DOCKER_BUILDKIT=1, 20.10 client) through the agent; the image runs the git package", async () => {
    const before = server.log().length;
    dockerRun = await couplet(
      buildArgs(["--docker", CLASSIC_CLIENT], dockerBase, "docker"),
      withAgent(dockerd?.env),
    );
    expect(dockerRun.code, dockerRun.stderr).toBe(0);
    expect(dockerRun.stderr).toContain("with docker (the daemon's BuildKit, DOCKER_BUILDKIT=1)");
    const log = await readFile(join(logs, "docker.log"), "utf8");
    expect(log).toContain(`Installing couplet-ssh-greeting (0.1.0 ${server.commit.slice(0, 7)})`);
    expect(server.log().slice(before)).toMatch(/Accepted publickey for \S+ from 127\.0\.0\.1/);
    const { stdout } = await exec(CLASSIC_CLIENT, ["run", "--rm", "--network", "host", tag("docker")], {
      env: dockerd?.env,
    });
    expect(stdout.trim()).toBe(GREETING);
  });

  it("leaves the private key (and the known_hosts secret) in no layer of the builder (the development image), no image config or history, nor couplet's output (Docker)", async () => {
    const dev = await couplet(
      buildArgs(["--docker", CLASSIC_CLIENT], dockerBase, "docker-dev", "development"),
      withAgent(dockerd?.env),
    );
    expect(dev.code, dev.stderr).toBe(0);
    const archive = join(work, "docker-dev.tar");
    await exec(CLASSIC_CLIENT, ["save", "--output", archive, tag("docker-dev")], { env: dockerd?.env });
    const { files, leaks } = await archiveFilesHolding(archive, [...keyNeedles, knownHostsLine]);
    expect(files).toBeGreaterThan(3);
    expect(leaks).toEqual([]);
    await rm(archive, { force: true });
    for (const image of [tag("docker"), tag("docker-dev")]) {
      const { stdout: config } = await exec(CLASSIC_CLIENT, ["image", "inspect", image], {
        env: dockerd?.env,
      });
      expect(leaked(config), image).toBe(false);
      const { stdout: history } = await exec(
        CLASSIC_CLIENT,
        ["history", "--no-trunc", "--format", "{{.CreatedBy}}", image],
        { env: dockerd?.env },
      );
      expect(leaked(history), image).toBe(false);
    }
    for (const output of [dockerRun.stdout + dockerRun.stderr, dev.stdout + dev.stderr])
      expect(leaked(output)).toBe(false);
    for (const log of ["docker.log", "docker-dev.log"])
      expect(leaked(await readFile(join(logs, log), "utf8")), log).toBe(false);
  });
});
