import { mkdtempSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { dockerArchive, makeTar, sha256, zstd } from "../../test/support/image-archive.js";
import { imageSettings } from "../../test/support/image-settings.js";
import { openImageArchive } from "../image/archive.js";
import type { BaseImage } from "./base.js";
import { gzippedBaseLayer, warmBaseGzip, warmLocalBaseGzip } from "./base-gzip.js";
import { AssembleCache } from "./cache.js";
import { type BaseLayer, buildImage, describeBaseLayers, writeDockerArchive } from "./image.js";

const settings = imageSettings;

/** A base docker-archive with one layer stored as `stored` (plain or zstd) whose content is `tar`. */
async function baseImage(dir: string, tar: Buffer, stored: Buffer): Promise<BaseImage> {
  const file = path.join(dir, "base.tar");
  const config = JSON.stringify({
    architecture: "amd64",
    os: "linux",
    config: { Env: ["PATH=/usr/bin"] },
    rootfs: { type: "layers", diff_ids: [`sha256:${sha256(tar)}`] },
  });
  writeFileSync(file, await dockerArchive([stored], config));
  // Only what writing an archive reads: the opened archive and its config.
  return { label: file, opened: await openImageArchive(file), architecture: "amd64" } as BaseImage;
}

/** The layer files of a docker-archive, as written. */
async function layersOf(archive: string): Promise<Buffer[]> {
  const opened = await openImageArchive(archive);
  const out: Buffer[] = [];
  for (const layer of opened.layers) {
    const chunks: Buffer[] = [];
    for await (const chunk of opened.source.open(layer.blob)) chunks.push(chunk as Buffer);
    out.push(Buffer.concat(chunks));
  }
  return out;
}

async function layerTar(): Promise<Buffer> {
  // Enough bytes that gzip visibly shrinks them, as it does a real base layer.
  return makeTar([
    { name: "usr/bin/python3.11", body: Buffer.alloc(200_000, "python ") },
    { name: "etc/os-release", body: 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n' },
  ]);
}

describe("a docker-archive's base layers", () => {
  it("carry a plain base layer gzipped, once: the next archive copies the cached gzip, not the plain tar", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "couplet-base-gzip-"));
    const tar = await layerTar();
    const base = await baseImage(dir, tar, tar);
    const layers = await describeBaseLayers(base);
    expect(layers[0]?.compression).toBe("none");
    const image = buildImage(base, layers, [], settings);
    const cache = new AssembleCache(path.join(dir, "cache"));
    const first = path.join(dir, "first.tar");
    await writeDockerArchive(image, first, "x:latest", settings.created, cache);

    const [written] = await layersOf(first);
    expect(written?.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    expect(written?.length).toBeLessThan(tar.length / 10);
    // Same content, so the same diff_id: the config, and so the image id, are those of the image.
    expect(gunzipSync(written as Buffer).equals(tar)).toBe(true);
    const opened = await openImageArchive(first);
    expect(opened.config).toEqual(JSON.parse(image.config.toString()));

    const blobs = path.join(dir, "cache", "assemble", "blobs", "sha256");
    const kept = readdirSync(blobs).flatMap((sub) =>
      readdirSync(path.join(blobs, sub)).map((n) => path.join(blobs, sub, n)),
    );
    expect(kept).toHaveLength(1);
    const before = statSync(kept[0] as string);
    const second = path.join(dir, "second.tar");
    await writeDockerArchive(image, second, "x:latest", settings.created, cache);
    // Not compressed again: the same cache file, untouched, and a byte-identical archive.
    const after = statSync(kept[0] as string);
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
    expect(readFileSync(second).equals(readFileSync(first))).toBe(true);
    // Nothing left over in the cache's scratch folder.
    expect(readdirSync(path.join(dir, "cache", "assemble", "tmp"))).toEqual([]);
  });

  it("does not use a cached copy whose size is wrong: it is made again", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "couplet-base-gzip-"));
    const tar = await layerTar();
    const base = await baseImage(dir, tar, tar);
    const image = buildImage(base, await describeBaseLayers(base), [], settings);
    const cache = new AssembleCache(path.join(dir, "cache"));
    await writeDockerArchive(image, path.join(dir, "a.tar"), "x:latest", settings.created, cache);
    const blobs = path.join(dir, "cache", "assemble", "blobs", "sha256");
    const sub = readdirSync(blobs)[0] as string;
    const kept = path.join(blobs, sub, readdirSync(path.join(blobs, sub))[0] as string);
    truncateSync(kept, 100);
    await writeDockerArchive(image, path.join(dir, "b.tar"), "x:latest", settings.created, cache);
    const [written] = await layersOf(path.join(dir, "b.tar"));
    expect(gunzipSync(written as Buffer).equals(tar)).toBe(true);
  });

  it("carry a zstd base layer as gzip (docker 20.10 cannot load zstd), also without a cache", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "couplet-base-gzip-"));
    const tar = await layerTar();
    const base = await baseImage(dir, tar, zstd(tar));
    const layers = await describeBaseLayers(base);
    expect(layers[0]?.compression).toBe("zstd");
    const image = buildImage(base, layers, [], settings);
    const out = path.join(dir, "out.tar");
    await writeDockerArchive(image, out, "x:latest", settings.created);
    const [written] = await layersOf(out);
    expect(gunzipSync(written as Buffer).equals(tar)).toBe(true);
    // The scratch copy went with the temporary output.
    expect(readdirSync(dir).sort()).toEqual(["base.tar", "out.tar"]);
  });
});

describe("warmBaseGzip", () => {
  it("fills the cache ahead of the archive, and stops without leaving a file when aborted", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "couplet-base-gzip-"));
    const tar = await layerTar();
    const base = await baseImage(dir, tar, tar);
    const layers = await describeBaseLayers(base);
    const cache = new AssembleCache(path.join(dir, "cache"));
    const stop = new AbortController();
    stop.abort();
    await warmBaseGzip(base.opened.source, layers, cache, stop.signal);
    expect(readdirSync(dir)).toEqual(["base.tar"]);
    await warmBaseGzip(base.opened.source, layers, cache);
    const kept = await gzippedBaseLayer(
      base.opened.source,
      layers[0] as BaseLayer,
      cache,
      path.join(dir, "unused"),
    );
    expect(kept.cached).toBe(true);
    expect(gunzipSync(readFileSync(kept.file)).equals(tar)).toBe(true);
  });
});

describe("warmLocalBaseGzip", () => {
  it("compresses from the archive's manifest and config alone, before the base is hashed: the archive then takes that copy", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "couplet-base-gzip-"));
    const tar = await layerTar();
    // zstd: the stored blob's digest is not the diff_id, which is what the copy is known by before any hashing.
    const base = await baseImage(dir, tar, zstd(tar));
    const cache = new AssembleCache(path.join(dir, "cache"));
    await warmLocalBaseGzip(base.label, cache, new AbortController().signal);
    const [layer] = await describeBaseLayers(base);
    const kept = await gzippedBaseLayer(
      base.opened.source,
      layer as BaseLayer,
      cache,
      path.join(dir, "unused"),
    );
    expect(kept.cached).toBe(true);
    expect(gunzipSync(readFileSync(kept.file)).equals(tar)).toBe(true);
  });

  it("keeps nothing when the config's diff_id is not the layer's content, and never fails", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "couplet-base-gzip-"));
    const tar = await layerTar();
    const file = path.join(dir, "base.tar");
    const config = JSON.stringify({
      architecture: "amd64",
      os: "linux",
      rootfs: { type: "layers", diff_ids: [`sha256:${"0".repeat(64)}`] },
    });
    writeFileSync(file, await dockerArchive([tar], config));
    const cache = new AssembleCache(path.join(dir, "cache"));
    await warmLocalBaseGzip(file, cache, new AbortController().signal);
    await warmLocalBaseGzip(path.join(dir, "missing.tar"), cache, new AbortController().signal);
    expect(readdirSync(path.join(dir, "cache", "assemble"))).toEqual(["tmp"]);
    expect(readdirSync(path.join(dir, "cache", "assemble", "tmp"))).toEqual([]);
  });
});
