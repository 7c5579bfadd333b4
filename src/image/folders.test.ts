// A layer's largest folders: bytes of files summed into every ancestor, and nested folders of much the same size named once.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect, it } from "vitest";
import { configFor, dockerArchive, makeTar } from "../../test/support/image-archive.js";
import { openImageArchive } from "./archive.js";
import { scanImage } from "./inspect.js";

it("sums each file into all its folders and skips a folder mostly inside one already named", async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "couplet-folders-"));
  try {
    const layer = await makeTar([
      { name: "a/b/c/f1", body: "x".repeat(100) },
      { name: "a/b/f2", body: "x".repeat(50) },
      { name: "a/d/f3", body: "x".repeat(20) },
      { name: "x/y", body: "x".repeat(10) },
    ]);
    const archive = path.join(dir, "image.tar");
    await writeFile(archive, await dockerArchive([layer], configFor(1, [{ created_by: "RUN x" }])));
    const { report } = await scanImage(await openImageArchive(archive));
    // /a 170 is named; /a/b 150 and /a/b/c 100 are mostly /a's bytes; /a/d 20 is not; /x 10.
    expect(report.layers[0]?.largestFolders).toEqual([
      { path: "/a", size: 170 },
      { path: "/a/d", size: 20 },
      { path: "/x", size: 10 },
    ]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
