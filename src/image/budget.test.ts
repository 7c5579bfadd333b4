// The image-wide budget for kept file contents: what does not fit is dropped and named in the report, never fatal.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configFor, dockerArchive, gzip, makeTar } from "../../test/support/image-archive.js";
import { openImageArchive } from "./archive.js";
import { scanImage } from "./inspect.js";

const SITE = "/app/.venv/lib/python3.11/site-packages";

/** A venv with `count` packages, each with a RECORD listing its one module. */
async function venvLayer(count: number): Promise<Buffer> {
  const items = [{ name: "app/.venv/pyvenv.cfg", body: "home = /usr/bin\n" }];
  for (let i = 0; i < count; i++) {
    const dist = `${SITE}/pkg${i}-1.0.dist-info`.slice(1);
    items.push(
      { name: `${SITE.slice(1)}/pkg${i}/__init__.py`, body: "x".repeat(1000) },
      { name: `${dist}/METADATA`, body: `Name: pkg${i}\n` },
      { name: `${dist}/RECORD`, body: `pkg${i}/__init__.py,,1000\npkg${i}-1.0.dist-info/METADATA,,12\n` },
    );
  }
  return gzip(await makeTar(items));
}

let dir: string;
let archive: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "couplet-budget-"));
  archive = path.join(dir, "image.tar");
  await writeFile(
    archive,
    await dockerArchive([await venvLayer(20)], configFor(1, [{ created_by: "RUN pip" }])),
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("the budget for kept file contents", () => {
  it("is not reached by an ordinary image: no warnings", async () => {
    const { report } = await scanImage(await openImageArchive(archive));
    expect(report.warnings).toEqual([]);
  });

  it("drops the RECORD files that do not fit and says how many, instead of running out of memory", async () => {
    // Each RECORD keeps two paths of ~40 bytes (plus overhead): 1,000 bytes hold about 7 of the 20.
    const { report } = await scanImage(await openImageArchive(archive), { budgetBytes: 1000 });
    expect(report.warnings).toHaveLength(1);
    const [count] = /^\d+/.exec(report.warnings[0] ?? "") ?? [];
    expect(Number(count)).toBeGreaterThan(10);
    expect(Number(count)).toBeLessThan(20);
    expect(report.warnings[0]).toMatch(
      /RECORD files not kept, so those packages are sized by their \.dist-info folder alone: inspect keeps at most 1\.0 kB of file contents for an image$/,
    );
  });
});
