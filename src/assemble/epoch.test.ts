import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { UserError } from "../errors.js";
import { sourceDateEpoch } from "./epoch.js";

function gitAt(dir: string, seconds: number) {
  return (...args: string[]) =>
    execFileSync("git", args, {
      cwd: dir,
      stdio: "ignore",
      env: {
        ...process.env,
        GIT_AUTHOR_DATE: `@${seconds} +0000`,
        GIT_COMMITTER_DATE: `@${seconds} +0000`,
        GIT_AUTHOR_NAME: "t",
        GIT_AUTHOR_EMAIL: "t@example.invalid",
        GIT_COMMITTER_NAME: "t",
        GIT_COMMITTER_EMAIL: "t@example.invalid",
      },
    });
}

function repoWithCommitAt(seconds: number): string {
  const dir = mkdtempSync(join(tmpdir(), "couplet-epoch-"));
  const git = gitAt(dir, seconds);
  git("init", "-q");
  mkdirSync(join(dir, "app"));
  writeFileSync(join(dir, "app", "pyproject.toml"), "");
  git("add", ".");
  git("commit", "-q", "-m", "first");
  return dir;
}

describe("sourceDateEpoch", () => {
  it("defaults to the last commit's committer time, also from a project in a subfolder", async () => {
    const repo = repoWithCommitAt(1_650_000_000);
    expect(await sourceDateEpoch(join(repo, "app"), undefined, {})).toBe(1_650_000_000);
  });

  it("in a monorepo, takes the last commit that touched the project, not a later one elsewhere", async () => {
    const repo = repoWithCommitAt(1_650_000_000);
    mkdirSync(join(repo, "other"));
    writeFileSync(join(repo, "other", "x"), "");
    const later = gitAt(repo, 1_660_000_000);
    later("add", ".");
    later("commit", "-q", "-m", "elsewhere");
    expect(await sourceDateEpoch(join(repo, "app"), undefined, {})).toBe(1_650_000_000);
    // a project folder no commit has touched yet takes the checkout's last commit
    mkdirSync(join(repo, "new"));
    expect(await sourceDateEpoch(join(repo, "new"), undefined, {})).toBe(1_660_000_000);
  });

  it("takes SOURCE_DATE_EPOCH over the commit, and the library option over both", async () => {
    const repo = repoWithCommitAt(1_650_000_000);
    expect(await sourceDateEpoch(repo, undefined, { SOURCE_DATE_EPOCH: "1700000000" })).toBe(1_700_000_000);
    expect(await sourceDateEpoch(repo, 5, { SOURCE_DATE_EPOCH: "1700000000" })).toBe(5);
  });

  it("is 0 outside a git checkout", async () => {
    expect(await sourceDateEpoch(mkdtempSync(join(tmpdir(), "couplet-epoch-")), undefined, {})).toBe(0);
  });

  it("refuses a value that is not whole seconds or that a tar header cannot hold", async () => {
    const dir = tmpdir();
    for (const bad of ["-1", "1.5", "soon", "99999999999999999999"])
      await expect(sourceDateEpoch(dir, undefined, { SOURCE_DATE_EPOCH: bad }), bad).rejects.toThrow(
        UserError,
      );
    await expect(sourceDateEpoch(dir, Number.NaN, {})).rejects.toThrow(UserError);
  });
});
