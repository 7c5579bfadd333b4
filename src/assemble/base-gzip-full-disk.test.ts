import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dockerArchive, makeTar, sha256 } from "../../test/support/image-archive.js";
import { imageSettings } from "../../test/support/image-settings.js";
import { OutputFileError } from "../errors.js";
import { openImageArchive } from "../image/archive.js";
import type { BaseImage } from "./base.js";
import { warmBaseGzip } from "./base-gzip.js";
import { AssembleCache } from "./cache.js";
import { buildImage, describeBaseLayers, writeDockerArchive } from "./image.js";

// Real full disks: 20 MB tmpfs mounts (we run as root) that a 30 MB incompressible base layer's gzip overflows
// part-way through, which is how a cache disk fills in CI. Mounted in beforeAll inside the describe, so a run that
// filters these tests out mounts nothing; without permission to mount, each test skips itself.
let work: string;
let cacheDisk: string | undefined;
let outputDisk: string | undefined;
const mounts: string[] = [];

function tmpfs(name: string): string | undefined {
  const dir = path.join(work, name);
  mkdirSync(dir);
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=20m", "tmpfs", dir], { stdio: "pipe" });
  } catch {
    return undefined;
  }
  mounts.push(dir);
  return dir;
}

/** The two mounted disks, or the test is skipped: mounting needs root with CAP_SYS_ADMIN. */
function disks(context: { skip: () => void }): { cacheDisk: string; outputDisk: string } {
  if (!cacheDisk || !outputDisk) context.skip();
  return { cacheDisk: cacheDisk as string, outputDisk: outputDisk as string };
}

/** Every file under `dir`, relative to it. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => !entry.isDirectory())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)));
}

function usedBytes(dir: string): number {
  const info = statfsSync(dir);
  return (info.blocks - info.bfree) * info.bsize;
}

/** A base docker-archive (on the ordinary disk) with one plain layer of 30 MB of random bytes. */
async function bigBase(): Promise<{ base: BaseImage; tar: Buffer }> {
  const tar = await makeTar([{ name: "opt/noise", body: randomBytes(30 << 20) }]);
  const file = path.join(work, "base.tar");
  const config = JSON.stringify({
    architecture: "amd64",
    os: "linux",
    config: { Env: ["PATH=/usr/bin"] },
    rootfs: { type: "layers", diff_ids: [`sha256:${sha256(tar)}`] },
  });
  writeFileSync(file, await dockerArchive([tar], config));
  return {
    base: { label: file, opened: await openImageArchive(file), architecture: "amd64" } as BaseImage,
    tar,
  };
}

describe("a base-layer gzip when the cache disk fills mid-write (20 MB tmpfs mounts; skipped where mounting is not permitted)", () => {
  beforeAll(() => {
    work = mkdtempSync(path.join(tmpdir(), "couplet-full-disk-"));
    cacheDisk = tmpfs("cache");
    outputDisk = tmpfs("output");
  });
  afterAll(() => {
    for (const dir of mounts.splice(0)) execFileSync("umount", [dir]);
    rmSync(work, { recursive: true, force: true });
  });

  it("falls back to the output's folder: the archive is whole, and the cache holds no part of the gzip", async (context) => {
    const { cacheDisk } = disks(context);
    const { base, tar } = await bigBase();
    const layers = await describeBaseLayers(base);
    expect(layers[0]?.compression).toBe("none");
    const cache = new AssembleCache(cacheDisk);
    const image = buildImage(base, layers, [], imageSettings);

    // The background warm-up hits the full disk first: it never fails, and leaves nothing behind.
    await warmBaseGzip(base.opened.source, layers, cache);
    expect(filesUnder(cacheDisk)).toEqual([]);

    const out = path.join(work, "image.tar");
    await writeDockerArchive(image, out, "x:latest", imageSettings.created, cache);
    const opened = await openImageArchive(out);
    const chunks: Buffer[] = [];
    for await (const chunk of opened.source.open(opened.layers[0]?.blob as string))
      chunks.push(chunk as Buffer);
    expect(gunzipSync(Buffer.concat(chunks)).equals(tar)).toBe(true);
    // No half-written gzip, no blob, no record in the cache; the fallback copy went with the archive's temporary.
    expect(filesUnder(cacheDisk)).toEqual([]);
    expect(usedBytes(cacheDisk)).toBeLessThan(1 << 20);
    expect(readdirSync(work).sort()).toEqual(["base.tar", "cache", "image.tar", "output"]);
  });

  it("with the output's disk full too: one typed line, and no file at the output or in the cache", async (context) => {
    const { cacheDisk, outputDisk } = disks(context);
    const { base } = await bigBase();
    const cache = new AssembleCache(cacheDisk);
    const image = buildImage(base, await describeBaseLayers(base), [], imageSettings);
    const out = path.join(outputDisk, "image.tar");
    const error = await writeDockerArchive(image, out, "x:latest", imageSettings.created, cache).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OutputFileError);
    expect((error as OutputFileError).message).toBe(
      "cannot write the gzipped base layer (a full disk?); nothing was written",
    );
    expect((error as OutputFileError).message).not.toContain("\n");
    // It names the output, not the scratch folder beside the output's temporary, which is gone.
    expect((error as OutputFileError).location?.file).toBe(out);
    expect(filesUnder(outputDisk)).toEqual([]);
    expect(filesUnder(cacheDisk)).toEqual([]);
    expect(usedBytes(outputDisk) + usedBytes(cacheDisk)).toBeLessThan(2 << 20);
  });
});
