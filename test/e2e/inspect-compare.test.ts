// couplet inspect A B on two images built here with couplet on buildah, the second with one package (six) added to the
// lock: the comparison names six, sized as the image holds it, and calls each layer what buildah's digests say it is.
import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Comparison } from "../../src/image/compare.js";
import type { InspectReport } from "../../src/image/inspect.js";
import { ensureBaseImage } from "../support/base-image.js";
import { buildah, imageLayers, type Layer, removeImages, runInImage } from "../support/buildah.js";
import { couplet } from "../support/cli.js";

const repo = fileURLToPath(new URL("../../", import.meta.url));
const runId = `${process.pid}${Date.now() % 100_000}`;
const tagA = `localhost/couplet-e2e-compare/a:${runId}`;
const tagB = `localhost/couplet-e2e-compare/b:${runId}`;

// What the image itself says six takes: the sizes its RECORD lists, the RECORD file, and six's bytecode.
const SIX_ON_DISK = `
import glob, os
site = glob.glob("/app/.venv/lib/python3.*/site-packages")[0]
record = os.path.join(site, "six-1.17.0.dist-info", "RECORD")
listed = sum(int(line.rsplit(",", 1)[1]) for line in open(record) if line.rstrip().rsplit(",", 1)[1])
pyc = sum(os.path.getsize(p) for p in glob.glob(os.path.join(site, "__pycache__", "six.*.pyc")))
print(listed + os.path.getsize(record), pyc)
`;

describe("couplet inspect A B on two builds of a project, the second with six added", () => {
  let work: string;
  let archiveA: string;
  let layersA: Layer[];
  let layersB: Layer[];
  let comparison: Comparison;
  let single: InspectReport;

  beforeAll(async () => {
    const base = await ensureBaseImage({ debian: "trixie", flavor: "slim" });
    work = await mkdtemp(join(tmpdir(), "couplet-e2e-compare-"));
    const project = join(work, "project");
    await cp(join(repo, "examples/cli-tool"), project, { recursive: true });
    const build = async (tag: string) => {
      const args = ["build", project, "--engine", "buildah", "--network", "host"];
      const built = await couplet([...args, "--build-arg", `PYTHON_IMAGE=${base}`, "--tag", tag]);
      expect(built.code, built.stderr).toBe(0);
    };
    await build(tagA);
    // The same project with six added to pyproject.toml, locked by Poetry 2.2.1 (test/fixtures/dependency-change).
    const variant = join(repo, "test/fixtures/dependency-change/cli-tool-plus-six");
    for (const file of ["pyproject.toml", "poetry.lock"]) await cp(join(variant, file), join(project, file));
    await build(tagB);
    archiveA = join(work, "a.tar");
    const pushed = await buildah(["push", "--quiet", tagA, `docker-archive:${archiveA}:${tagA}`]);
    expect(pushed.code, pushed.stderr).toBe(0);
    [layersA, layersB] = [await imageLayers(tagA), await imageLayers(tagB)];
    // A as an archive, B by its name through buildah: both of inspect's ways in.
    const compared = await couplet(["inspect", archiveA, tagB, "--engine", "buildah", "--format", "json"]);
    expect(compared.code, compared.stderr).toBe(0);
    comparison = JSON.parse(compared.stdout) as Comparison;
    const inspected = await couplet(["inspect", tagB, "--engine", "buildah", "--format", "json"]);
    expect(inspected.code, inspected.stderr).toBe(0);
    single = JSON.parse(inspected.stdout) as InspectReport;
  });

  afterAll(async () => {
    await removeImages(tagA, tagB);
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("names six, and only six, as the package added, with the bytes the image holds for it", async () => {
    const added = comparison.packages.items.filter((p) => p.status === "added");
    expect(added).toEqual([
      expect.objectContaining({
        name: "six",
        versionB: "1.17.0",
        sitePackages: expect.stringMatching(/^\/app\/\.venv\//),
      }),
    ]);
    const onDisk = await runInImage(tagB, ["/app/.venv/bin/python", "-c", SIX_ON_DISK]);
    expect(onDisk.code, onDisk.stderr).toBe(0);
    const [recorded, bytecode] = onDisk.stdout.trim().split(" ").map(Number) as [number, number];
    expect(recorded).toBeGreaterThan(30_000);
    expect(bytecode).toBeGreaterThan(0);
    expect(added[0]?.bytesB).toBe(recorded + bytecode);
    // Nothing went and nothing changed version; the project's own dist-info may differ (its METADATA lists six).
    for (const other of comparison.packages.items.filter((p) => p.name !== "six"))
      expect([other.name, other.status]).toEqual(["yamlstat", expect.stringMatching(/^(grew|shrank)$/)]);
    expect(comparison.packages.more).toBe(0);
    // Every byte the filesystem gained is a package's.
    const packagesDelta = comparison.packages.items.reduce((sum, p) => sum + p.delta, 0);
    expect(comparison.b.filesystemBytes - comparison.a.filesystemBytes).toBe(packagesDelta);
    expect(comparison.delta).toBe(packagesDelta);
    // The files added are six's.
    const addedFiles = comparison.files.items.filter((f) => f.status === "added");
    expect(addedFiles.length).toBeGreaterThan(3);
    for (const file of addedFiles)
      expect(file.path).toMatch(/\/site-packages\/(six\.py|six-1\.17\.0\.dist-info\/|__pycache__\/six\.)/);
  });

  it("calls each layer what the engine's digests say: the base same, the venv changed, the code rebuilt or same", () => {
    expect(comparison.layers.map((l) => [l.indexA, l.indexB])).toEqual(layersB.map((_, i) => [i, i]));
    const holds = (prefix: string) =>
      single.layers.findIndex((l) =>
        [...l.largestFiles, ...l.largestFolders].some((f) => f.path.startsWith(prefix)),
      );
    const venv = holds("/app/.venv/");
    const code = holds("/app/src/yamlstat");
    expect(venv).toBeGreaterThan(0);
    expect(code).toBeGreaterThan(venv);
    for (const [i, layer] of comparison.layers.entries()) {
      const unchanged = layersA[i]?.diffId === layersB[i]?.diffId;
      if (i === venv) expect(layer.status).toBe("changed");
      // The code is the same, but it is copied after the venv, so buildah's layer cache cannot keep it: new
      // timestamps give a new digest over the same paths and sizes.
      else if (i === code) expect(layer.status).toBe(unchanged ? "same" : "rebuilt");
      else expect(layer.status).toBe(unchanged ? "same" : "changed");
      if (i < venv) expect(layer.status).toBe("same");
    }
    expect(comparison.layers[venv]?.delta).toBe(comparison.delta);
  });

  it("prints the same answer as a table", async () => {
    const table = await couplet(["inspect", archiveA, tagB, "--engine", "buildah"]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(
      /^ +\+[\d.]+ kB {2}added {3}six 1\.17\.0 +\/app\/\.venv\/lib\/python3\.\d+\/site-packages$/m,
    );
    expect(table.stdout).toMatch(/^ {2}1(-\d+)? +1(-\d+)? +same /m);
    expect(table.stdout).toContain(`A  ${tagA}:`);
  });
});
