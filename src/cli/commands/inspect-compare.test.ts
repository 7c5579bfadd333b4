// `couplet inspect A B` as a user runs it (the built CLI): the comparison in JSON and text, the growth gate, usage errors.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dockerArchive, makeTar, sha256, type TarItem } from "../../../test/support/image-archive.js";
import type { Comparison } from "../../image/compare.js";

const root = new URL("../../..", import.meta.url).pathname;
const cli = join(root, "dist/cli/main.js");
const site = "usr/local/lib/python3.13/site-packages";

function couplet(...args: string[]) {
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8" });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A docker-archive of these layer tars; its config carries their real diff_ids. */
async function archive(file: string, tars: Buffer[]): Promise<void> {
  const config = JSON.stringify({
    architecture: "amd64",
    os: "linux",
    rootfs: { type: "layers", diff_ids: tars.map((t) => `sha256:${sha256(t)}`) },
    history: tars.map((_, i) => ({ created_by: `/bin/sh -c #(nop) RUN step ${i + 1}` })),
  });
  writeFileSync(file, await dockerArchive(tars, config));
}

describe("couplet inspect A B", () => {
  let dir: string;
  let a: string;
  let b: string;
  const base: TarItem[] = [{ name: "etc/os-release", body: "VERSION_CODENAME=trixie\n" }];
  const record =
    "idna/__init__.py,sha256=x,4000\nidna-3.10.dist-info/METADATA,sha256=y,900\nidna-3.10.dist-info/RECORD,,\n";
  const idna: TarItem[] = [
    { name: `${site}/idna/__init__.py`, body: "x".repeat(4000) },
    { name: `${site}/idna-3.10.dist-info/METADATA`, body: "m".repeat(900) },
    { name: `${site}/idna-3.10.dist-info/RECORD`, body: record },
  ];
  const added = 4000 + 900 + record.length;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "couplet-compare-cli-"));
    a = join(dir, "a.tar");
    b = join(dir, "b.tar");
    // One base tar for both: tar-stream stamps entries with the time, so two packings would differ.
    const shared = await makeTar(base);
    await archive(a, [shared, await makeTar([{ name: "app/main.py", body: "print('a')\n" }])]);
    await archive(b, [shared, await makeTar([{ name: "app/main.py", body: "print('b')\n" }, ...idna])]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("prints the comparison as JSON: the shared layer, the changed one, the package added with its RECORD's bytes", () => {
    const { code, stdout, stderr } = couplet("inspect", a, b, "--format", "json");
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const comparison = JSON.parse(stdout) as Comparison;
    expect(comparison.layers.map((l) => l.status)).toEqual(["same", "changed"]);
    expect(comparison.packages.items).toEqual([
      expect.objectContaining({ name: "idna", status: "added", versionB: "3.10", bytesB: added }),
    ]);
    expect(comparison.delta).toBe(added);
  });

  it("cuts folders to --depth, but never above a package's folder in site-packages", () => {
    const { stdout } = couplet("inspect", a, b, "--format", "json", "--depth", "1");
    const folders = (JSON.parse(stdout) as Comparison).folders;
    expect(folders.depth).toBe(1);
    expect(folders.items.map((f) => [f.path, f.status])).toEqual([
      [`/${site}/idna`, "added"],
      [`/${site}/idna-3.10.dist-info`, "added"],
    ]);
  });

  it("prints a table naming what was added", () => {
    const { code, stdout } = couplet("inspect", a, b);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^size .* → .*: \+5\.0 kB/m);
    expect(stdout).toMatch(/^ +\+5\.0 kB {2}added {3}idna 3\.10 /m);
  });

  it("writes the comparison as one HTML page with --format html --output", () => {
    const page = join(dir, "compare.html");
    const { code, stdout } = couplet("inspect", a, b, "--format", "html", "--output", page);
    expect(code).toBe(0);
    expect(stdout).toBe("");
    const html = readFileSync(page, "utf8");
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toMatch(/data-source="\/packages\/items\/0\/name"[^>]*>idna</);
  });

  it("fails CI when the second image grew past --fail-on growth, and not below it", () => {
    const over = couplet("inspect", a, b, "--fail-on", "growth>5kB");
    expect(over.code).toBe(1);
    expect(over.stderr).toBe(
      `couplet: fail-on growth>5000: the second image is ${added} bytes larger than the first\n`,
    );
    expect(couplet("inspect", a, b, "--fail-on", "growth>6kB").code).toBe(0);
  });

  it.each([
    [
      ["inspect", "A", "B", "C"],
      /^couplet: too many arguments for 'inspect'\. Expected 2 arguments but got 3\./,
    ],
    [["inspect", "IMG", "--fail-on", "growth>1MB"], /^couplet: --fail-on growth: compares two images/],
    [
      ["inspect", "IMG", "IMG2", "--depth", "0"],
      /^couplet: --depth 0: expected a whole number of at least 1/,
    ],
  ])("says what is wrong in one line, exit 2: %j", (args, message) => {
    const { code, stdout, stderr } = couplet(...args);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toMatch(message);
    expect(stderr.trim().split("\n")).toHaveLength(1);
  });

  it("names a missing second archive in one line, exit 2", () => {
    const { code, stderr } = couplet("inspect", a, join(dir, "missing.tar"), "--engine", "buildah");
    expect(code).toBe(2);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toContain("missing.tar");
  });
});
