import { spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

// These run the built CLI (`npm test` builds first), as a user would.
const root = new URL("../../..", import.meta.url).pathname;
const cli = join(root, "dist/cli/main.js");
const fixture = join(root, "test/fixtures/projects/poetry1-groups");

function couplet(...args: string[]) {
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8" });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function copyOfFixture(): string {
  const dir = mkdtempSync(join(tmpdir(), "couplet-init-"));
  cpSync(fixture, dir, { recursive: true });
  return dir;
}

describe("couplet init", () => {
  it("writes a Dockerfile and a .dockerignore into the project", () => {
    const dir = copyOfFixture();
    const { code, stdout } = couplet("init", dir);
    expect(code).toBe(0);
    expect(stdout).toMatch(/wrote .*Dockerfile/);
    expect(readFileSync(join(dir, "Dockerfile"), "utf8")).toMatch(/^# syntax=docker\/dockerfile:1/);
    expect(readFileSync(join(dir, ".dockerignore"), "utf8")).toContain("**/.venv");
  });

  it("refuses to overwrite an existing Dockerfile and writes nothing at all", () => {
    const dir = copyOfFixture();
    writeFileSync(join(dir, "Dockerfile"), "FROM mine\n");
    const { code, stderr } = couplet("init", dir);
    expect(code).toBe(1);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toContain("--force");
    expect(readFileSync(join(dir, "Dockerfile"), "utf8")).toBe("FROM mine\n");
    expect(existsSync(join(dir, ".dockerignore"))).toBe(false);
    expect(readdirSync(dir).filter((name) => name.includes("couplet"))).toEqual([]);
  });

  it("with --force replaces the files and keeps the old ones as .bak", () => {
    const dir = copyOfFixture();
    writeFileSync(join(dir, "Dockerfile"), "FROM mine\n");
    const { code } = couplet("init", dir, "--force");
    expect(code).toBe(0);
    expect(readFileSync(join(dir, "Dockerfile.bak"), "utf8")).toBe("FROM mine\n");
    expect(readFileSync(join(dir, "Dockerfile"), "utf8")).toContain("AS production");
  });

  it("with --stdout prints the Dockerfile and writes nothing", () => {
    const dir = copyOfFixture();
    const { code, stdout } = couplet("init", dir, "--stdout");
    expect(code).toBe(0);
    expect(stdout).toContain("FROM base AS production");
    expect(existsSync(join(dir, "Dockerfile"))).toBe(false);
  });

  it("gives byte-identical output for the same input", () => {
    const first = couplet("init", fixture, "--stdout").stdout;
    expect(first.length).toBeGreaterThan(0);
    expect(couplet("init", fixture, "--stdout").stdout).toBe(first);
  });

  it.each([
    [["init", fixture, "--strategy", "fastest"], /unknown strategy "fastest".*optimal, full, slim/],
    [["init", "/nonexistent/project"], /\/nonexistent\/project/],
    [["init", fixture, "--python", "2.7"], /--python 2\.7/],
    [["init", fixture, "--cmd", "[1, 2]"], /--cmd must be a non-empty JSON array/],
  ])("rejects bad input %j with one line and a non-zero exit", (args, message) => {
    const { code, stderr } = couplet(...(args as string[]));
    expect(code).not.toBe(0);
    expect(code).not.toBe(70);
    expect(stderr).toMatch(message);
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});

describe("couplet plan", () => {
  it("prints the plan as JSON", () => {
    const { code, stdout } = couplet("plan", fixture, "--json");
    expect(code).toBe(0);
    const plan = JSON.parse(stdout);
    expect(plan.schemaVersion).toBe(1);
    expect(plan.python.version).toMatch(/^3\.\d+$/);
    expect(plan.install.groups).toContain("main");
  });

  it("explains its choices in text", () => {
    const { code, stdout } = couplet("plan", fixture);
    expect(code).toBe(0);
    expect(stdout).toMatch(/Python\s+CPython 3\.\d+ on Debian/);
    expect(stdout).toMatch(/Poetry\s+\d+\.\d+\.\d+, from/);
  });
});

describe("couplet init: backups and input encoding", () => {
  it("with --force keeps an existing Dockerfile.bak and saves the replaced file as Dockerfile.bak.1", () => {
    const dir = copyOfFixture();
    writeFileSync(join(dir, "Dockerfile"), "ORIGINAL\n");
    writeFileSync(join(dir, "Dockerfile.bak"), "MY BACKUP\n");
    const { code, stdout } = couplet("init", "--force", dir);
    expect(code).toBe(0);
    expect(readFileSync(join(dir, "Dockerfile.bak"), "utf8")).toBe("MY BACKUP\n");
    expect(readFileSync(join(dir, "Dockerfile.bak.1"), "utf8")).toBe("ORIGINAL\n");
    expect(stdout).toContain("Dockerfile.bak.1");
  });

  it("refuses a pyproject.toml that is not UTF-8 (Latin-1) with one line naming the line", () => {
    const dir = copyOfFixture();
    const text = readFileSync(join(dir, "pyproject.toml"), "utf8");
    writeFileSync(join(dir, "pyproject.toml"), Buffer.from(`${text}# caf\xe9\n`, "latin1"));
    const { code, stderr } = couplet("init", "--stdout", dir);
    expect(code).toBe(2);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toMatch(/pyproject\.toml:\d+: pyproject\.toml \(TOML must be UTF-8\) is not UTF-8/);
  });
});

describe("--platform on init and plan", () => {
  const amd64Only = join(root, "test/fixtures/projects/amd64-only-wheels");

  it("plans per platform: psycopg2-binary has a wheel on amd64 only, so arm64 compiles it", () => {
    const amd64 = couplet("plan", amd64Only, "--json");
    expect(amd64.code, amd64.stderr).toBe(0);
    expect(JSON.stringify(JSON.parse(amd64.stdout).native.compile)).not.toContain("psycopg2-binary");
    const both = couplet("plan", amd64Only, "--json", "--platform", "linux/amd64,linux/arm64");
    expect(both.code, both.stderr).toBe(0);
    const plan = JSON.parse(both.stdout);
    expect(plan.platforms).toEqual(["linux/amd64", "linux/arm64"]);
    expect(JSON.stringify(plan.native.compile)).toContain("psycopg2-binary");
    const init = couplet("init", amd64Only, "--stdout", "--platform", "linux/arm64");
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toContain("libpq-dev");
  });

  it("refuses a platform couplet does not target in one line", () => {
    const { code, stderr } = couplet("plan", amd64Only, "--platform", "linux/s390x");
    expect(code).toBe(2);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toContain("linux/s390x");
  });
});

describe("couplet init --ci github", () => {
  const amd64Only = join(root, "test/fixtures/projects/amd64-only-wheels");
  const git = (cwd: string, ...args: string[]) => {
    const result = spawnSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], {
      cwd,
      encoding: "utf8",
    });
    expect(result.status, result.stderr).toBe(0);
  };

  /** A real clone whose origin's default branch is `trunk`, with the project in services/api. */
  function cloneWithProject(): { clone: string; project: string } {
    const upstream = mkdtempSync(join(tmpdir(), "couplet-ci-upstream-"));
    git(upstream, "init", "-q", "-b", "trunk");
    cpSync(amd64Only, join(upstream, "services/api"), { recursive: true });
    git(upstream, "add", ".");
    git(upstream, "commit", "-q", "-m", "project");
    const clone = join(mkdtempSync(join(tmpdir(), "couplet-ci-clone-")), "repo");
    git(tmpdir(), "clone", "-q", upstream, clone);
    return { clone, project: join(clone, "services/api") };
  }

  it("writes the workflow at the repository's root, pointing at the project's folder, pushing from origin's default branch", () => {
    const { clone, project } = cloneWithProject();
    const { code, stdout, stderr } = couplet("init", project, "--ci", "github");
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/wrote .*\.github\/workflows\/couplet\.yml/);
    const workflow = readFileSync(join(clone, ".github/workflows/couplet.yml"), "utf8");
    expect(workflow).toContain("context: services/api\n");
    expect(workflow).toMatch(/branches:\n\s+- trunk\n/);
    expect(workflow).toContain("platforms: linux/amd64,linux/arm64\n");
    // The Dockerfile is planned for both platforms the workflow builds: arm64 has no psycopg2-binary wheel.
    expect(readFileSync(join(project, "Dockerfile"), "utf8")).toContain("libpq-dev");
    expect(existsSync(join(project, ".github"))).toBe(false);
  });

  it("refuses to replace an existing workflow without --force, writing nothing; with --force keeps a .bak", () => {
    const { clone, project } = cloneWithProject();
    const path = join(clone, ".github/workflows/couplet.yml");
    mkdirSync(join(clone, ".github/workflows"), { recursive: true });
    writeFileSync(path, "name: mine\n");
    const refused = couplet("init", project, "--ci", "github");
    expect(refused.code).toBe(1);
    // This fixture has no command: a warning says so before the one line of the refusal.
    const lines = refused.stderr.trim().split("\n");
    expect(lines.filter((line) => !line.startsWith("couplet: warning:"))).toHaveLength(1);
    expect(lines.at(-1)).toMatch(/couplet\.yml already exists; nothing was written/);
    expect(existsSync(join(project, "Dockerfile"))).toBe(false);
    expect(readFileSync(path, "utf8")).toBe("name: mine\n");
    const forced = couplet("init", project, "--ci", "github", "--force");
    expect(forced.code, forced.stderr).toBe(0);
    expect(readFileSync(`${path}.bak`, "utf8")).toBe("name: mine\n");
    expect(readFileSync(path, "utf8")).toContain("docker/build-push-action");
  });

  it("with --stdout prints the workflow and writes nothing", () => {
    const dir = copyOfFixture();
    const { code, stdout } = couplet(
      "init",
      dir,
      "--ci",
      "github",
      "--stdout",
      "--ci-registry",
      "ghcr.io/acme/app",
    );
    expect(code).toBe(0);
    expect(stdout).toContain("images: ghcr.io/acme/app\n");
    expect(readdirSync(dir).some((name) => name === "Dockerfile" || name === ".github")).toBe(false);
  });

  it.each([
    [["--ci-registry", "ghcr.io/acme/app"], /--ci-registry only applies with --ci github/],
    [["--ci", "gitlab"], /--ci.*gitlab.*github/],
    [
      ["--ci", "github", "--ci-registry", `ghcr.io/${"$"}{{ secrets.X }}`],
      /--ci-registry .* is not an image reference/,
    ],
  ])("refuses %j with one line", (args, message) => {
    const dir = copyOfFixture();
    const { code, stderr } = couplet("init", dir, ...(args as string[]));
    expect(code).not.toBe(0);
    expect(code).not.toBe(70);
    // commander adds its usage hint on a second line to its own refusals
    expect(stderr.trim().split("\n")[0]).toMatch(message);
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(readdirSync(dir)).not.toContain("Dockerfile");
  });
});
