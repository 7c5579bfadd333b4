import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

// These run the built CLI (`npm test` builds first), as a user would.
const root = new URL("../../..", import.meta.url).pathname;
const cli = join(root, "dist/cli/main.js");
const cliTool = join(root, "examples/cli-tool");

function couplet(...args: string[]) {
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8" });
  return { code: result.status, stderr: result.stderr };
}

describe("couplet assemble --cmd", () => {
  // Each is refused before the base is read (it does not exist), with the line and exit code init gives.
  it.each([
    ["[1, 2]"],
    ['["gunicorn", '],
    ["[]"],
    ["   "],
    ["gunicorn app:app | tee log"],
    ['["gunicorn", "app:app", "&"]'],
  ])("refuses %j with init's own line and exit code, writing nothing", (value) => {
    const dir = mkdtempSync(join(tmpdir(), "couplet-assemble-cmd-"));
    const assembled = couplet(
      "assemble",
      cliTool,
      "--base",
      join(dir, "no-such-base.tar"),
      "--output",
      join(dir, "image.tar"),
      "--cmd",
      value,
    );
    const init = couplet("init", cliTool, "--stdout", "--cmd", value);
    expect(init.code).toBe(2);
    expect(init.stderr.trim().split("\n")).toHaveLength(1);
    expect(assembled).toEqual(init);
    expect(readdirSync(dir)).toEqual([]);
  });
});
