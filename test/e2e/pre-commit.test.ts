// End to end: couplet's .pre-commit-hooks.yaml, installed and run by real pre-commit (from PyPI) in a scratch repository.
import { execFile } from "node:child_process";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const execFileP = promisify(execFile);
const repo = fileURLToPath(new URL("../../", import.meta.url));
const cli = join(repo, "dist/cli/main.js");

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

let scratch = "";
let preCommit = "";
let env: NodeJS.ProcessEnv = {};
const git = async (...args: string[]) => {
  const result = await run("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], { cwd: scratch });
  expect(result.code, result.stderr).toBe(0);
};
const hook = () => run(preCommit, ["run", "--all-files", "--color", "never"], { cwd: scratch, env });

beforeAll(async () => {
  const built = await run("npm", ["run", "build"], { cwd: repo });
  expect(built.code, built.stderr).toBe(0);
  const tools = await run("bash", [join(repo, "scripts/python-tools")]);
  expect(tools.code, tools.stderr).toBe(0);
  preCommit = join(tools.stdout.trim(), "pre-commit");
  scratch = await mkdtemp(join(tmpdir(), "couplet-pre-commit-"));
  // Its own home: pre-commit clones and installs the hook afresh, as on a user's first commit.
  env = { ...process.env, PRE_COMMIT_HOME: join(scratch, ".pre-commit-home") };
  await git("init", "-q", "-b", "main");
  // The hook at the commit under test (pre-commit clones the repository at `rev`, as it does a GitHub URL).
  const head = await run("git", ["rev-parse", "HEAD"], { cwd: repo });
  expect(head.code, head.stderr).toBe(0);
  await writeFile(
    join(scratch, ".pre-commit-config.yaml"),
    [
      "repos:",
      `  - repo: ${JSON.stringify(repo)}`,
      `    rev: ${head.stdout.trim()}`,
      "    hooks:",
      "      - id: couplet-lint",
      "",
    ].join("\n"),
  );
}, 10 * 60_000);

afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe("couplet lint as a pre-commit hook", () => {
  it(
    "a Dockerfile with the seed's mistakes fails the hook with couplet's findings",
    async () => {
      await cp(
        join(repo, "test/fixtures/dockerfiles/seed/basic-slim-image.dockerfile"),
        join(scratch, "Dockerfile"),
      );
      await writeFile(join(scratch, "notes.txt"), "not a Dockerfile\n");
      await git("add", ".");
      const result = await hook();
      const output = result.stdout + result.stderr;
      expect(result.code, output).toBe(1);
      expect(output).toMatch(/couplet lint\.+Failed/);
      expect(output).toMatch(/CPL001/); // Poetry not pinned
      expect(output).toMatch(/CPL006/); // dev groups in production
      expect(output).not.toContain("notes.txt");
    },
    5 * 60_000,
  );

  it(
    "the Dockerfile couplet init writes for a project passes, and so does its Containerfile copy",
    async () => {
      await rm(join(scratch, "Dockerfile"));
      await cp(join(repo, "examples/cli-tool"), join(scratch, "app"), { recursive: true });
      const init = await run("node", [cli, "init", join(scratch, "app")]);
      expect(init.code, init.stderr).toBe(0);
      await writeFile(
        join(scratch, "app/Containerfile"),
        await readFile(join(scratch, "app/Dockerfile"), "utf8"),
      );
      await git("add", "-A");
      const result = await hook();
      const output = result.stdout + result.stderr;
      expect(result.code, output).toBe(0);
      expect(output).toMatch(/couplet lint\.+Passed/);
    },
    5 * 60_000,
  );
});
