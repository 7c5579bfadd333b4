import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Worker } from "node:worker_threads";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { dockerArchive, makeTar, sha256, zstd } from "../../test/support/image-archive.js";
import { InputFileError } from "../errors.js";
import { openImageArchive } from "../image/archive.js";
import type { BaseImage } from "./base.js";
import { gzippedBaseLayer } from "./base-gzip.js";
import { gzipInWorker, gzipLayer } from "./gzip-worker.js";
import { type BaseLayer, describeBaseLayers } from "./image.js";

/** A layer tar with some compressible and some random bytes, and its diff_id. */
async function layer(): Promise<{ tar: Buffer; diffId: string }> {
  const tar = await makeTar([
    { name: "usr/bin/python3.11", body: Buffer.alloc(300_000, "python ") },
    { name: "usr/lib/libnoise.so", body: randomBytes(100_000) },
  ]);
  return { tar, diffId: `sha256:${sha256(tar)}` };
}

/** `blob` stored in the middle of a file, as a docker-archive holds a layer: the worker must read only its range. */
function embedded(dir: string, blob: Buffer): { file: string; start: number; size: number } {
  const file = path.join(dir, "holder");
  writeFileSync(file, Buffer.concat([randomBytes(4096), blob, randomBytes(4096)]));
  return { file, start: 4096, size: blob.length };
}

describe("gzipInWorker", () => {
  it("writes a gzip of a file's byte range whose digest and size it reports, and which unpacks to the layer's diff_id", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "couplet-gzip-worker-"));
    const { tar, diffId } = await layer();
    const output = path.join(dir, "out.gz");
    let worker: Worker | undefined;
    const outcome = await gzipInWorker(
      { ...embedded(dir, tar), zstd: false, diffId, level: 1, output },
      undefined,
      (w) => {
        worker = w;
      },
    );
    const written = readFileSync(output);
    expect(outcome).toEqual({ ok: true, digest: `sha256:${sha256(written)}`, size: written.length });
    expect(`sha256:${sha256(gunzipSync(written))}`).toBe(diffId);
    expect(written.length).toBeLessThan(tar.length);
    // Settled only after the worker stopped.
    expect(worker?.threadId).toBe(-1);
  });

  it("decompresses a zstd layer first: the gzip unpacks to the same diff_id", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "couplet-gzip-worker-"));
    const { tar, diffId } = await layer();
    const output = path.join(dir, "out.gz");
    const outcome = await gzipInWorker({ ...embedded(dir, zstd(tar)), zstd: true, diffId, level: 1, output });
    expect(outcome.ok).toBe(true);
    expect(`sha256:${sha256(gunzipSync(readFileSync(output)))}`).toBe(diffId);
  });

  it("tells a failure to write the output apart from a failure to read the input", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "couplet-gzip-worker-"));
    const { tar, diffId } = await layer();
    const range = embedded(dir, tar);
    const unwritable = await gzipInWorker({
      ...range,
      zstd: false,
      diffId,
      level: 1,
      output: path.join(dir, "missing", "out.gz"),
    });
    expect(unwritable).toMatchObject({ ok: false, writing: true, code: "ENOENT" });
    // The range runs 1,000,000 bytes past the blob, of which the file holds 4,096 more.
    const cut = await gzipInWorker({
      ...range,
      size: range.size + 1_000_000,
      zstd: false,
      diffId,
      level: 1,
      output: path.join(dir, "a.gz"),
    });
    expect(cut).toMatchObject({ ok: false, writing: false });
    expect((cut as { message: string }).message).toMatch(/ends 995904 bytes early/);
    const damaged = await gzipInWorker({
      ...range,
      zstd: true,
      diffId,
      level: 1,
      output: path.join(dir, "b.gz"),
    });
    expect(damaged).toMatchObject({ ok: false, writing: false });
    expect((damaged as { message: string }).message).toMatch(/^zstd: /);
  });

  it("refuses content that does not hash to the diff_id it was given: no gzip of other content is kept under it", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "couplet-gzip-worker-"));
    const { tar } = await layer();
    const other = `sha256:${"0".repeat(64)}`;
    const outcome = await gzipInWorker({
      ...embedded(dir, tar),
      zstd: false,
      diffId: other,
      level: 1,
      output: path.join(dir, "out.gz"),
    });
    expect(outcome).toMatchObject({ ok: false, writing: false });
    expect((outcome as { message: string }).message).toBe(
      `its content hashes to sha256:${sha256(tar)}, not to the diff_id ${other} the image config lists`,
    );
  });

  it("stops the worker when aborted: the promise rejects once it has exited", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "couplet-gzip-worker-"));
    // Large enough that the abort lands while the worker is still compressing.
    const big = randomBytes(64 << 20);
    const file = path.join(dir, "big");
    writeFileSync(file, big);
    const stop = new AbortController();
    let worker: Worker | undefined;
    const running = gzipInWorker(
      {
        file,
        start: 0,
        size: big.length,
        zstd: false,
        diffId: `sha256:${sha256(big)}`,
        level: 1,
        output: path.join(dir, "out.gz"),
      },
      stop.signal,
      (w) => {
        worker = w;
        w.once("online", () => stop.abort());
      },
    );
    await expect(running).rejects.toMatchObject({ name: "AbortError" });
    expect(worker?.threadId).toBe(-1);
  });
});

describe("gzippedBaseLayer's worker failures", () => {
  it("a base archive cut short after it was read is one typed line naming it, and leaves no file", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "couplet-gzip-worker-"));
    const { tar, diffId } = await layer();
    const file = path.join(dir, "base.tar");
    const config = JSON.stringify({
      architecture: "amd64",
      os: "linux",
      rootfs: { type: "layers", diff_ids: [diffId] },
    });
    writeFileSync(file, await dockerArchive([tar], config));
    const base = { label: file, opened: await openImageArchive(file), architecture: "amd64" } as BaseImage;
    const [described] = await describeBaseLayers(base);
    truncateSync(file, 2048);
    const scratch = path.join(dir, "scratch");
    const error = await gzippedBaseLayer(
      base.opened.source,
      described as BaseLayer,
      undefined,
      scratch,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputFileError);
    expect((error as InputFileError).location?.file).toBe(file);
    expect((error as InputFileError).message).toMatch(
      /^cannot read the base layer .* to gzip it: the layer ends \d+ bytes early/,
    );
    expect((error as InputFileError).message).not.toContain("\n");
    expect(existsSync(scratch) ? readdirSync(scratch) : []).toEqual([]);
  });
});

describe("gzipLayer: a large plain layer in two halves", () => {
  /** A 3 MiB layer: over the 2 MiB floor, with a random part so the halves compress differently. */
  async function large(): Promise<{ tar: Buffer; diffId: string }> {
    const tar = await makeTar([
      { name: "usr/lib/libbig.so", body: Buffer.alloc(2 << 20, "elf ") },
      { name: "usr/share/noise", body: randomBytes(1 << 20) },
    ]);
    return { tar, diffId: `sha256:${sha256(tar)}` };
  }

  it("writes two gzip members that read back as the layer, with the digest and size of the whole file", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "couplet-gzip-split-"));
    const { tar, diffId } = await large();
    const range = embedded(dir, tar);
    const split = path.join(dir, "split.gz");
    const outcome = await gzipLayer({ ...range, zstd: false, diffId, level: 1, output: split }, undefined, 0);
    const written = readFileSync(split);
    expect(outcome).toEqual({ ok: true, digest: `sha256:${sha256(written)}`, size: written.length });
    expect(gunzipSync(written).equals(tar)).toBe(true);
    // Two members: the second starts where a gzip of the first half (cut on a MiB boundary) ends.
    const single = path.join(dir, "single.gz");
    await gzipInWorker({ ...range, zstd: false, diffId, level: 1, output: single, gzipBytes: 1 << 20 });
    const head = readFileSync(single);
    expect(written.subarray(0, head.length).equals(head)).toBe(true);
    expect([...written.subarray(head.length, head.length + 3)]).toEqual([0x1f, 0x8b, 8]);
    expect(gunzipSync(head).equals(tar.subarray(0, 1 << 20))).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(["holder", "single.gz", "split.gz"]);
  });

  it("still checks every byte against the diff_id: damage in the second half is refused and leaves no part behind", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "couplet-gzip-split-"));
    const { tar, diffId } = await large();
    const damaged = Buffer.from(tar);
    damaged[damaged.length - 2048] = (damaged[damaged.length - 2048] as number) ^ 0xff;
    const outcome = await gzipLayer(
      { ...embedded(dir, damaged), zstd: false, diffId, level: 1, output: path.join(dir, "out.gz") },
      undefined,
      0,
    );
    expect(outcome).toMatchObject({ ok: false, writing: false });
    expect((outcome as { message: string }).message).toMatch(/not to the diff_id/);
    expect(readdirSync(dir).filter((name) => name.endsWith(".rest"))).toEqual([]);
  });

  it("reports a file cut short in either half as a read failure", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "couplet-gzip-split-"));
    const { tar, diffId } = await large();
    const range = embedded(dir, tar);
    const outcome = await gzipLayer(
      {
        ...range,
        size: range.size + 1_000_000,
        zstd: false,
        diffId,
        level: 1,
        output: path.join(dir, "out.gz"),
      },
      undefined,
      0,
    );
    expect(outcome).toMatchObject({ ok: false, writing: false });
    expect((outcome as { message: string }).message).toMatch(/bytes early/);
    expect(readdirSync(dir).filter((name) => name.endsWith(".rest"))).toEqual([]);
  });

  it("rejects when aborted and leaves no part behind", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "couplet-gzip-split-"));
    const big = randomBytes(64 << 20);
    const file = path.join(dir, "big");
    writeFileSync(file, big);
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 50);
    const running = gzipLayer(
      {
        file,
        start: 0,
        size: big.length,
        zstd: false,
        diffId: `sha256:${sha256(big)}`,
        level: 1,
        output: path.join(dir, "out.gz"),
      },
      stop.signal,
    );
    await expect(running).rejects.toMatchObject({ name: "AbortError" });
    expect(readdirSync(dir).filter((name) => name.endsWith(".rest"))).toEqual([]);
  });
});
