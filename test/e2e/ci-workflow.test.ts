// End to end: the workflow `couplet init --ci github` writes passes actionlint (with shellcheck) and SchemaStore's schema.
import { execFile } from "node:child_process";
import { chmod, cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";

const execFileP = promisify(execFile);
const repo = fileURLToPath(new URL("../../", import.meta.url));
const cli = join(repo, "dist/cli/main.js");
const WORKFLOW = ".github/workflows/couplet.yml";

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  try {
    const { stdout, stderr } = await execFileP(command, args, { maxBuffer: 16 * 1024 * 1024, ...options });
    return { code: 0, stdout, stderr } as Result;
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

// actionlint, shellcheck and check-jsonschema from PyPI, pinned in scripts/python-tools.txt.
let tools = "";
const toolEnv = () => ({ ...process.env, PATH: `${tools}${delimiter}${process.env.PATH ?? ""}` });
const actionlint = (cwd: string, file = WORKFLOW) =>
  run(join(tools, "actionlint"), ["-no-color", file], { cwd, env: toolEnv() });
const schema = (cwd: string, file = WORKFLOW) =>
  run(join(tools, "check-jsonschema"), ["--builtin-schema", "vendor.github-workflows", file], {
    cwd,
    env: toolEnv(),
  });

const temps: string[] = [];
/** A fresh git repository holding a copy of `source` at `under` (the repository's root when "."). */
async function repository(source: string, under = "."): Promise<{ root: string; project: string }> {
  const root = await mkdtemp(join(tmpdir(), "couplet-ci-e2e-"));
  temps.push(root);
  const project = join(root, under);
  await cp(join(repo, source), project, {
    recursive: true,
    filter: (src) => !/[/\\](\.venv|__pycache__|Dockerfile|\.dockerignore)$/.test(src),
  });
  const init = await run("git", ["init", "-q", "-b", "main"], { cwd: root });
  expect(init.code, init.stderr).toBe(0);
  return { root, project };
}

beforeAll(async () => {
  const built = await run("npm", ["run", "build"], { cwd: repo });
  expect(built.code, built.stderr).toBe(0);
  const installed = await run("bash", [join(repo, "scripts/python-tools")]);
  expect(installed.code, installed.stderr).toBe(0);
  tools = installed.stdout.trim();
}, 10 * 60_000);

afterAll(async () => {
  for (const dir of temps) await rm(dir, { recursive: true, force: true });
});

const CASES: [string, string, string[]][] = [
  ["examples/flask-uwsgi", ".", []],
  ["examples/fastapi-app", ".", ["--ci-registry", "ghcr.io/acme/fastapi-app"]],
  ["examples/cli-tool", "tools/cli", ["--ci-registry", "registry.example.com:5000/team/cli-tool"]],
  ["test/fixtures/projects/django-site", "web site", ["--platform", "linux/amd64"]],
  ["test/fixtures/projects/monorepo", ".", ["--strategy", "slim", "--ci-registry", "acme/monorepo"]],
  // build-push-action's `secrets` input with the private index's credentials
  ["test/fixtures/projects/private-index", ".", []],
];

describe("couplet init --ci github: the workflow passes the real validators", () => {
  it.each(CASES)(
    "%s at %s with %j: actionlint and check-jsonschema both pass",
    async (source, under, extra) => {
      const { root, project } = await repository(source, under);
      const init = await run("node", [cli, "init", project, "--ci", "github", ...extra]);
      expect(init.code, init.stderr).toBe(0);
      const linted = await actionlint(root);
      expect(linted.code, linted.stdout + linted.stderr).toBe(0);
      const checked = await schema(root);
      expect(checked.code, checked.stdout + checked.stderr).toBe(0);
    },
  );

  it("the lint step's command, run as written, lints the generated Dockerfile clean and writes SARIF with paths from the repository's root", async () => {
    const { root } = await repository("examples/flask-uwsgi", "services/api");
    const init = await run("node", [cli, "init", join(root, "services/api"), "--ci", "github"]);
    expect(init.code, init.stderr).toBe(0);
    const workflow = parse(await readFile(join(root, WORKFLOW), "utf8")) as {
      env: Record<string, string>;
      jobs: { lint: { steps: { run?: string }[] } };
    };
    const script = workflow.jobs.lint.steps.find((s) => s.run)?.run as string;
    // `npx` stands in for the registry: it checks it was asked for $COUPLET and runs this checkout's build.
    const bin = join(root, ".bin");
    await mkdir(bin);
    await writeFile(
      join(bin, "npx"),
      `#!/bin/sh\n[ "$1" = --yes ] && [ "$2" = "$COUPLET" ] || { echo "unexpected npx $*" >&2; exit 9; }\nshift 2\nexec node ${JSON.stringify(cli)} "$@"\n`,
    );
    await chmod(join(bin, "npx"), 0o755);
    const ran = await run("bash", ["-e", "-c", script], {
      cwd: root,
      env: { ...process.env, ...workflow.env, PATH: `${bin}${delimiter}${process.env.PATH ?? ""}` },
    });
    expect(ran.code, ran.stderr).toBe(0);
    const sarif = JSON.parse(await readFile(join(root, "couplet-lint.sarif"), "utf8"));
    expect(sarif.version).toBe("2.1.0");
    expect(sarif.runs[0].results).toEqual([]);

    // A finding fails the step (so the job), and lands in the SARIF at the path GitHub shows it under.
    const dockerfile = join(root, "services/api/Dockerfile");
    await writeFile(dockerfile, (await readFile(dockerfile, "utf8")).replace(/--only main\S*/, ""));
    const failed = await run("bash", ["-e", "-c", script], {
      cwd: root,
      env: { ...process.env, ...workflow.env, PATH: `${bin}${delimiter}${process.env.PATH ?? ""}` },
    });
    expect(failed.code).toBe(1);
    const uris = JSON.parse(await readFile(join(root, "couplet-lint.sarif"), "utf8")).runs[0].results.map(
      (r: { locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }) =>
        r.locations[0]?.physicalLocation.artifactLocation.uri,
    );
    expect(uris.length).toBeGreaterThan(0);
    expect(new Set(uris)).toEqual(new Set(["services/api/Dockerfile"]));
  });
});

describe("the validators can fail: a broken workflow is caught", () => {
  let root = "";
  let good = "";
  beforeAll(async () => {
    ({ root } = await repository("examples/cli-tool"));
    const init = await run("node", [
      cli,
      "init",
      root,
      "--ci",
      "github",
      "--ci-registry",
      "ghcr.io/acme/tool",
    ]);
    expect(init.code, init.stderr).toBe(0);
    good = await readFile(join(root, WORKFLOW), "utf8");
  });

  async function broken(change: (text: string) => string): Promise<string> {
    const text = change(good);
    expect(text).not.toBe(good);
    const file = ".github/workflows/broken.yml";
    await writeFile(join(root, file), text);
    return file;
  }

  it("a misspelt key (run-on): actionlint and the schema both fail", async () => {
    const file = await broken((t) => t.replace("runs-on: ubuntu-latest", "run-on: ubuntu-latest"));
    const linted = await actionlint(root, file);
    expect(linted.code).not.toBe(0);
    expect(linted.stdout).toMatch(/run-on/);
    expect((await schema(root, file)).code).not.toBe(0);
  });

  it("an input the action does not have (cache_to): actionlint fails", async () => {
    const file = await broken((t) => t.replace("cache-to:", "cache_to:"));
    const linted = await actionlint(root, file);
    expect(linted.code).not.toBe(0);
    expect(linted.stdout).toMatch(/input "cache_to" is not defined in action "docker\/build-push-action/);
  });

  it("an unquoted variable in a run: script: shellcheck, through actionlint, fails", async () => {
    const file = await broken((t) => t.replace('"$IMAGE:ci"', "$IMAGE:ci"));
    const linted = await actionlint(root, file);
    expect(linted.code).not.toBe(0);
    expect(linted.stdout).toMatch(/shellcheck/);
  });

  it("an expression reading an output no step sets: actionlint fails", async () => {
    const file = await broken((t) => t.replace("steps.meta.outputs.tags", "steps.metadata.outputs.tags"));
    expect((await actionlint(root, file)).code).not.toBe(0);
  });
});
