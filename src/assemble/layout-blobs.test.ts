import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { makeTar, ociLayout, sha256 } from "../../test/support/image-archive.js";
import { imageSettings } from "../../test/support/image-settings.js";
import { openImageArchive } from "../image/archive.js";
import type { BaseImage } from "./base.js";
import { buildImage, describeBaseLayers, type OwnLayer, writeOciLayout } from "./image.js";
import { LayerTree, packLayer } from "./layer.js";
import { placeBlobs } from "./layout-blobs.js";

const settings = imageSettings;

async function baseLayout(dir: string): Promise<BaseImage> {
  const tar = await makeTar([{ name: "usr/bin/python3.11", body: Buffer.alloc(50_000, "python ") }]);
  const config = JSON.stringify({
    architecture: "amd64",
    os: "linux",
    config: { Env: ["PATH=/usr/bin"] },
    rootfs: { type: "layers", diff_ids: [`sha256:${sha256(tar)}`] },
  });
  const root = path.join(dir, "base");
  for (const [rel, data] of ociLayout(
    [{ data: tar, mediaType: "application/vnd.oci.image.layer.v1.tar" }],
    config,
  )) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), data);
  }
  return { label: root, opened: await openImageArchive(root), architecture: "amd64" } as BaseImage;
}

async function projectLayer(text: string): Promise<OwnLayer> {
  const tree = new LayerTree();
  tree.file("/app/main.py", text);
  const { tar: _tar, ...packed } = await packLayer(tree, settings.created);
  return { packed, holds: "the project" };
}

/** Each blob file of a layout by name, with its inode. */
function inodes(layout: string): Map<string, number> {
  const blobs = path.join(layout, "blobs", "sha256");
  return new Map(readdirSync(blobs).map((name) => [name, statSync(path.join(blobs, name)).ino]));
}

describe("rewriting an OCI layout", () => {
  it("links the blobs the earlier layout holds instead of copying them, and drops the ones no longer named", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "couplet-layout-"));
    const base = await baseLayout(dir);
    const baseLayers = await describeBaseLayers(base);
    const out = path.join(dir, "out");
    const first = buildImage(base, baseLayers, [await projectLayer("print(1)\n")], settings);
    await writeOciLayout(first, out, "app:latest");
    const before = inodes(out);
    // The base layer is a copy of the base's file, not the file itself (the base is not the output's to change).
    const baseBlob = baseLayers[0]?.digest.slice(7) as string;
    expect(before.get(baseBlob)).not.toBe(statSync(path.join(base.label, "blobs", "sha256", baseBlob)).ino);

    const edited = await projectLayer("print(2)\n");
    const second = buildImage(base, baseLayers, [edited], settings);
    await writeOciLayout(second, out, "app:latest");
    const after = inodes(out);
    const oldProject = first.layers[0]?.packed.digest.slice(7) as string;
    const newProject = edited.packed.digest.slice(7);
    expect(after.get(baseBlob)).toBe(before.get(baseBlob));
    expect(after.has(oldProject)).toBe(false);
    expect(after.get(newProject)).not.toBeUndefined();
    expect([...after.keys()].sort()).toEqual(
      [baseBlob, newProject, second.configDigest.slice(7), second.manifestDigest.slice(7)].sort(),
    );
    const reread = await openImageArchive(out);
    expect(reread.config).toEqual(JSON.parse(second.config.toString()));
  });

  it("writes a blob again when the earlier layout's file under that digest has the wrong size", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "couplet-layout-"));
    const earlier = path.join(dir, "earlier");
    const folder = path.join(dir, "new");
    mkdirSync(earlier);
    mkdirSync(folder);
    const data = Buffer.from("the real blob");
    const digest = `sha256:${sha256(data)}`;
    writeFileSync(path.join(earlier, sha256(data)), "cut");
    const kept = Buffer.from("kept");
    writeFileSync(path.join(earlier, sha256(kept)), kept);
    const placed = await placeBlobs(folder, earlier, [
      { digest, size: data.length, open: () => data },
      { digest: `sha256:${sha256(kept)}`, size: kept.length, open: () => Buffer.from("not read") },
    ]);
    expect(placed).toEqual(["written", "linked"]);
    expect(readFileSync(path.join(folder, sha256(data)))).toEqual(data);
    expect(statSync(path.join(folder, sha256(kept))).ino).toBe(
      statSync(path.join(earlier, sha256(kept))).ino,
    );
  });
});
