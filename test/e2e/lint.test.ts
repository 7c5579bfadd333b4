// End to end: `couplet lint` through the real CLI, on `couplet init` output, and `lint --fix` followed by a real build.
import { execFile } from "node:child_process";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBaseImage } from "../support/base-image.js";
import { build, freePort, httpGet, removeImages, runInImage, startServer } from "../support/buildah.js";
import { couplet as runCouplet } from "../support/cli.js";

const execFileP = promisify(execFile);
const repo = fileURLToPath(new URL("../../", import.meta.url));
const seeds = join(repo, "test/fixtures/dockerfiles/seed");

async function copyExample(name: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `couplet-lint-e2e-${name}-`));
  await cp(join(repo, "examples", name), dir, {
    recursive: true,
    filter: (src) => !/[/\\](\.venv|__pycache__|\.pytest_cache|\.mypy_cache|\.ruff_cache)$/.test(src),
  });
  return dir;
}

const temps: string[] = [];
async function temp(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "couplet-lint-e2e-"));
  temps.push(dir);
  return dir;
}

beforeAll(async () => {
  await execFileP("npm", ["run", "build"], { cwd: repo });
}, 5 * 60_000);

afterAll(async () => {
  for (const dir of temps) await rm(dir, { recursive: true, force: true });
});

const couplet = (args: string[], cwd = repo) => runCouplet(args, { cwd });

describe("couplet lint, rules, explain (CLI)", () => {
  it("exit 1 with findings at or above --fail-on, 0 below it; JSON is an array of findings", async () => {
    const file = join(seeds, "multi-layered-slim-iamge.dockerfile");
    const stylish = await couplet(["lint", file]);
    expect(stylish.code).toBe(1);
    expect(stylish.stdout).toMatch(/CPL001$/m);
    const json = await couplet(["lint", "--format", "json", "--fail-on", "error", file]);
    expect(json.code).toBe(0);
    const findings = JSON.parse(json.stdout) as {
      rule: string;
      line: number;
      severity: string;
      file: string;
    }[];
    expect(findings.map((f) => f.rule).sort()).toEqual(["CPL001", "CPL005"]);
    expect(findings.every((f) => f.file === file && f.line >= 1 && f.severity === "warning")).toBe(true);
    const sarif = JSON.parse((await couplet(["lint", "--format", "sarif", file])).stdout);
    expect(sarif.version).toBe("2.1.0");
    expect(sarif.runs[0].results).toHaveLength(2);
  });

  it("a clean file exits 0 and prints nothing", async () => {
    const dir = await temp();
    await writeFile(join(dir, ".dockerignore"), ".venv\n.git\n.env\n");
    await writeFile(
      join(dir, "Dockerfile"),
      'FROM python:3.11-slim-bookworm\nRUN useradd --uid 10001 app\nCOPY app.py /app/\nUSER 10001\nCMD ["python", "/app/app.py"]\n',
    );
    const result = await couplet(["lint"], dir);
    expect(result).toMatchObject({ code: 0, stdout: "" });
  });

  it("bad input: one line with file:line and exit 2, no stack trace; other files are still linted", async () => {
    const dir = await temp();
    await writeFile(join(dir, "binary"), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x0a, 0x00, 0x01]));
    await writeFile(join(dir, "Typo.Dockerfile"), "FROM python:3.11-slim\nRUNN pip install x\n");
    const binary = await couplet(["lint", join(dir, "binary"), join(seeds, "basic-full-image.dockerfile")]);
    expect(binary.code).toBe(2);
    expect(binary.stderr.trim().split("\n")).toEqual([
      `couplet: ${join(dir, "binary")}:2: binary content (a NUL byte): not a Dockerfile`,
    ]);
    expect(binary.stdout).toContain("CPL013");
    const typo = await couplet(["lint", join(dir, "Typo.Dockerfile")]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/Typo\.Dockerfile:2:1: unknown instruction "RUNN"/);
    expect(typo.stderr).not.toMatch(/\n\s+at /);
    const missing = await couplet(["lint", join(dir, "nope")]);
    expect([missing.code, missing.stderr.split("\n").length]).toEqual([2, 2]);
    const format = await couplet(["lint", "--format", "xml", join(seeds, "basic-full-image.dockerfile")]);
    expect(format.code).toBe(2);
  });

  it("rules lists every rule; explain prints a rule's doc and rejects unknown ids", async () => {
    const rules = await couplet(["rules"]);
    expect(rules.code).toBe(0);
    expect(rules.stdout.match(/^CPL\d{3} /gm)?.length).toBe(27);
    const explain = await couplet(["explain", "cpl009"]);
    expect(explain.code).toBe(0);
    expect(explain.stdout.split("\n")[0]).toBe("# CPL009: mount-flag-typo");
    const unknown = await couplet(["explain", "CPL999"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown rule "CPL999"');
  });
});

describe("couplet lint on couplet init's output", () => {
  for (const example of ["flask-uwsgi", "fastapi-app", "cli-tool"]) {
    it(`${example}: no findings, with the project context read`, async () => {
      const dir = await copyExample(example);
      temps.push(dir);
      const init = await couplet(["init", dir]);
      expect(init.code, init.stderr).toBe(0);
      const result = await couplet([
        "lint",
        "--format",
        "json",
        "--fail-on",
        "info",
        join(dir, "Dockerfile"),
      ]);
      expect(result.stderr).toBe("");
      expect(JSON.parse(result.stdout)).toEqual([]);
      expect(result.code).toBe(0);
      // Every other strategy is a seed preset: those are expected to have findings, and must still lint cleanly (no crash).
      for (const strategy of ["full", "slim", "layered", "multistage", "slim-buildkit"]) {
        const preset = await couplet(["init", dir, "--strategy", strategy, "--stdout"]);
        expect(preset.code, preset.stderr).toBe(0);
        await writeFile(join(dir, `${strategy}.Dockerfile`), preset.stdout);
        const linted = await couplet(["lint", "--format", "json", join(dir, `${strategy}.Dockerfile`)]);
        expect([0, 1], linted.stderr).toContain(linted.code);
      }
    });
  }
});

describe.sequential("couplet lint --fix, then a real build (flask-uwsgi, seed-style Dockerfile)", () => {
  const tag = "couplet-e2e-lint-fixed";
  let dir: string;
  let original: string;

  beforeAll(async () => {
    dir = await copyExample("flask-uwsgi");
    temps.push(dir);
    original = await readFile(
      join(repo, "test/fixtures/dockerfiles/examples/flask-uwsgi.seed-buildkit.Dockerfile"),
      "utf8",
    );
    await writeFile(join(dir, "Dockerfile"), original);
    await writeFile(join(dir, "unfixed.Dockerfile"), original);
  });
  afterAll(async () => {
    await removeImages(tag, `${tag}:unfixed`);
  });

  it("fixes the safe findings in place, keeps a .bak, and reports what is left", async () => {
    const before = JSON.parse(
      (await couplet(["lint", "--format", "json", join(dir, "Dockerfile")])).stdout,
    ) as { rule: string }[];
    expect(before.map((f) => f.rule)).toEqual(
      expect.arrayContaining(["CPL007", "CPL008", "CPL009", "CPL016", "CPL017", "CPL020"]),
    );
    const fixed = await couplet(["lint", "--fix", "--format", "json", join(dir, "Dockerfile")]);
    expect(fixed.code).toBe(1);
    expect(fixed.stderr).toMatch(/fixed \d+ problem\(s\) \(original kept as .*Dockerfile\.bak\); 5 left/);
    expect(await readFile(join(dir, "Dockerfile.bak"), "utf8")).toBe(original);
    const text = await readFile(join(dir, "Dockerfile"), "utf8");
    expect(text.startsWith("# syntax=docker/dockerfile:1\n")).toBe(true);
    expect(text).toContain("RUN --mount=type=cache,target=/root/.cache \\\n    poetry install --only main\n");
    const left = (JSON.parse(fixed.stdout) as { rule: string }[]).map((f) => f.rule).sort();
    // What needs a human: restructure into stages, a user, a .dockerignore.
    expect(left).toEqual(["CPL003", "CPL005", "CPL012", "CPL019", "CPL025"]);
  });

  it("the fixed Dockerfile builds, the app answers, and Poetry's cache stayed out of the image", async () => {
    const base = await ensureBaseImage({ debian: "bookworm", flavor: "slim" });
    const result = await build({ context: dir, tag, buildArgs: { PYTHON_IMAGE: base } });
    expect(result.code, result.log).toBe(0);

    const port = await freePort();
    const server = await startServer(tag, [
      ".venv/bin/uwsgi",
      "--http-socket",
      `127.0.0.1:${port}`,
      "--master",
      "--module",
      "hello_uwsgi.wsgi:app",
    ]);
    try {
      const response = await httpGet(port, "/", 90_000);
      expect(response.status, server.output()).toBe(200);
      expect(response.body).toContain("libpq");
    } finally {
      await server.stop();
    }
    // The typo's fix made the cache a mount: nothing of Poetry's cache is in the layer (the unfixed file kept it).
    const probe = await runInImage(tag, [
      "sh",
      "-c",
      "ls -A /root/.cache/pypoetry 2>/dev/null | wc -l; ls -A /var/lib/apt/lists | wc -l",
    ]);
    expect(probe.stdout.trim().split("\n")).toEqual(["0", "0"]);
  });

  it("the control: the unfixed file builds too, and its `mount=` typo leaves Poetry's cache in the image", async () => {
    const base = await ensureBaseImage({ debian: "bookworm", flavor: "slim" });
    const result = await build({
      context: dir,
      dockerfile: join(dir, "unfixed.Dockerfile"),
      tag: `${tag}:unfixed`,
      buildArgs: { PYTHON_IMAGE: base },
    });
    expect(result.code, result.log).toBe(0);
    const probe = await runInImage(`${tag}:unfixed`, ["sh", "-c", "du -sk /root/.cache/pypoetry | cut -f1"]);
    console.log(`Poetry cache left in the unfixed image: ${probe.stdout.trim()} KiB`);
    expect(Number(probe.stdout.trim())).toBeGreaterThan(1000);
  });
});
