// End to end: `couplet bench` on a real engine (buildah) with two strategies, asserting what it measured and that it cleaned up.
import { execFile } from "node:child_process";
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BenchReport } from "../../src/bench/types.js";
import { ensureBaseImage } from "../support/base-image.js";
import { freshMachine, type Machine } from "../support/registry.js";

const exec = promisify(execFile);
const repo = fileURLToPath(new URL("../../", import.meta.url));
const cli = join(repo, "dist/cli/main.js");

async function listing(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).map(String).sort();
}

/** Every image in the machine's storage, intermediate ones included, by full id. */
async function imageIds(machine: Machine): Promise<string[]> {
  const { stdout } = await machine.buildah(["images", "--all", "--no-trunc", "--format", "{{.ID}}"]);
  return stdout.split("\n").filter(Boolean).sort();
}

describe("couplet bench with buildah", () => {
  let work: string;
  let out: string;
  let before: string[];
  let report: BenchReport;
  let stderr: string;
  // A storage of its own, so that every image in it after the bench is either the bench's or one made here
  // before it (the machine's shared storage has other builds coming and going).
  let machine: Machine;
  let imagesBefore: string[];

  beforeAll(async () => {
    const slim = await ensureBaseImage({ debian: "bookworm", flavor: "slim" });
    machine = await freshMachine([slim]);
    work = await mkdtemp(join(tmpdir(), "couplet-e2e-bench-"));
    out = await mkdtemp(join(tmpdir(), "couplet-e2e-bench-out-"));
    // Images made before the bench, an intermediate one among them, which the bench must leave alone.
    await writeFile(
      join(out, "Dockerfile"),
      `FROM ${slim}\nRUN echo before > /before\nRUN echo made > /made\n`,
    );
    await machine.buildah(["bud", "--layers", "--isolation", "chroot", "--tag", "before-bench", out]);
    imagesBefore = await imageIds(machine);
    await cp(join(repo, "examples/flask-uwsgi"), work, {
      recursive: true,
      filter: (src) => !src.includes(".venv"),
    });
    before = await listing(work);
    const running = exec(
      process.execPath,
      [
        cli,
        "bench",
        work,
        "--engine",
        "buildah",
        "--network",
        "host",
        "--python-image",
        slim,
        "--strategies",
        "optimal,slim",
        "--runs",
        "1",
        "--format",
        "json",
        "--output",
        join(out, "r.json"),
        "--dep-change",
        join(repo, "test/fixtures/bench/flask-uwsgi"),
      ],
      { maxBuffer: 64 * 1024 * 1024, env: machine.env },
    );
    const result = await running;
    stderr = result.stderr;
    report = JSON.parse(await readFile(join(out, "r.json"), "utf8")) as BenchReport;
  });

  afterAll(async () => {
    await machine?.dispose();
    await rm(work, { recursive: true, force: true });
    await rm(out, { recursive: true, force: true });
  });

  it("measures every scenario for each strategy, in seconds and bytes", () => {
    expect(report.results.map((r) => r.strategy)).toEqual(["optimal", "slim"]);
    for (const r of report.results) {
      expect(r.sizeBytes).toBeGreaterThan(r.bytesAboveBase);
      expect(r.bytesAboveBase).toBeGreaterThan(0);
      for (const scenario of ["cold", "depChange", "realDepChange", "codeChange"] as const)
        expect(r[scenario]).toBeGreaterThan(0);
    }
    expect(report.engine.name).toBe("buildah");
    expect(report.engine.version).toMatch(/buildah version \d/);
  });

  it("finds the optimal image smaller than the slim one, and its source-only rebuild reusing the dependency layer", () => {
    const [optimal, slim] = report.results;
    expect(optimal?.sizeBytes).toBeLessThan(slim?.sizeBytes as number);
    const code = optimal?.runs[0]?.builds.codeChange;
    expect(code?.cacheHits).toBeGreaterThan(0);
    expect(optimal?.codeChange).toBeLessThan(optimal?.cold as number);
    // After adding a dependency the dependency layer is rebuilt: fewer steps come from the cache than after a source edit.
    expect(optimal?.runs[0]?.builds.realDepChange?.cacheHits).toBeLessThan(code?.cacheHits as number);
  });

  it("shows one progress line per build across the whole run", () => {
    const lines = stderr.split("\n").filter((l) => /^\[[█░]+\] \d+\/8 /.test(l));
    expect(lines).toHaveLength(8);
    expect(lines.at(-1)).toMatch(/^\[█+\] 8\/8 slim run 1: rebuild after a source edit/);
  });

  it("removes its images and leaves the project folder as it was", async () => {
    // Each build's log starts with the engine's command line: the tags the bench made.
    const logDir = /logs in (\S+)/.exec(stderr)?.[1] as string;
    const tags: string[] = [];
    for (const file of await readdir(logDir)) {
      const first = (await readFile(join(logDir, file), "utf8")).split("\n")[0] ?? "";
      tags.push(/--tag (\S+)/.exec(first)?.[1] as string);
    }
    expect(tags).toHaveLength(8);
    const { stdout } = await machine.buildah(["images", "--format", "{{.Name}}:{{.Tag}}"]);
    const left = stdout.split("\n").map((name) => name.replace(/^localhost\//, ""));
    expect(tags.filter((tag) => left.includes(tag))).toEqual([]);
    expect(await listing(work)).toEqual(before);
  });

  it("leaves no intermediate image it made in the storage, and every image that was there before", async () => {
    // buildah commits an image per step (--layers); the bench reused some across its builds (cache hits).
    expect(report.results[0]?.runs[0]?.builds.codeChange?.cacheHits).toBeGreaterThan(0);
    expect(imagesBefore).toHaveLength(3); // the base, the first RUN's intermediate image, the tagged one
    expect(await imageIds(machine)).toEqual(imagesBefore);
  });

  it("renders the saved report as Markdown and as a self-contained HTML page", async () => {
    const md = await exec(process.execPath, [
      cli,
      "bench",
      "--from-json",
      join(out, "r.json"),
      "--format",
      "table",
    ]);
    expect(md.stdout).toMatch(/^\| `optimal` \| \d+ MB \| \d+ MB \| [\d.]+ s \|/m);
    const html = await exec(process.execPath, [
      cli,
      "bench",
      "--from-json",
      join(out, "r.json"),
      "--format",
      "html",
    ]);
    expect(html.stdout.match(/<svg /g)?.length).toBe(6);
    expect(html.stdout).not.toMatch(/<script|src=|href=/);
  });
});
