// A base layer that is not gzip (a plain tar from `docker save`, or zstd) gzipped once and kept in the cache for docker-archives.

import { randomBytes } from "node:crypto";
import { mkdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import { describeFsError, InputFileError, OutputFileError } from "../errors.js";
import { openImageArchive } from "../image/archive.js";
import { detectCompression } from "../image/layer.js";
import type { BlobSource } from "../image/source.js";
import { type AssembleCache, cacheKey } from "./cache.js";
import { gzipLayer } from "./gzip-worker.js";
import type { BaseLayer } from "./image.js";

/**
 * Level 1: a base layer is mostly binaries and already-compressed files, so more effort buys little. On the
 * bookworm-slim stand-in base (a 259 MB plain layer), level 1 gives 105.6 MB in 3.1 s and level 6 97.4 MB in
 * 10.9 s (Node 20's zlib, one core). The bytes depend on the zlib build (process.versions.zlib), which is part
 * of the cache key; no digest in the image depends on them (a docker-archive names layers by diff_id).
 */
export const BASE_GZIP_LEVEL = 1;

export interface GzipFile {
  file: string;
  /** sha256 of the gzip stream */
  digest: string;
  size: number;
  /** Taken from the cache rather than compressed now */
  cached: boolean;
}

/** What compressing a base layer needs to know of it: where it is, how it is stored, and its content's digest. */
export type GzipSubject = Pick<BaseLayer, "blob" | "compression" | "diffId">;

interface Record {
  digest: string;
  size: number;
}

/**
 * The layer as a gzip file: from the cache when an earlier run compressed the same blob (trusted by its record
 * and its size, as an OCI layout's blobs are: re-hashing 100 MB on every rebuild is what this saves), else
 * compressed now into the cache, or into `scratch` when the cache cannot be written.
 */
export async function gzippedBaseLayer(
  source: BlobSource,
  layer: BaseLayer,
  cache: AssembleCache | undefined,
  scratch: string,
): Promise<GzipFile> {
  const kept = cache && ((await fromCache(cache, layer)) ?? (await compressIntoCache(source, layer, cache)));
  if (kept) return kept;
  const made = await compressInto(source, layer, scratch);
  if (!made)
    throw new OutputFileError("cannot write the gzipped base layer (a full disk?); nothing was written", {
      location: { file: scratch },
      hint: "free space where the output goes and in the cache (COUPLET_CACHE)",
    });
  return made;
}

/**
 * Fill the cache with the gzip copies a docker-archive of these layers will need, so that the compression (on a
 * worker thread) overlaps the installing of wheels (on the main one). Never fails: writing the archive makes
 * whatever is missing and reports what goes wrong.
 */
export async function warmBaseGzip(
  source: BlobSource,
  layers: GzipSubject[],
  cache: AssembleCache,
  signal?: AbortSignal,
): Promise<void> {
  for (const layer of layers)
    if (!signal?.aborted && layer.compression !== "gzip" && !(await fromCache(cache, layer)))
      await compressIntoCache(source, layer, cache, signal).catch(() => undefined);
}

/**
 * warmBaseGzip for a base archive or layout on disk, started before the base is read and hashed (about a second
 * for a 259 MB layer): the layers' places and diff_ids are in its manifest and config, which is all the
 * compression needs, so it runs beside the reading. Never fails: reading the base reports what is wrong with it.
 */
export async function warmLocalBaseGzip(
  target: string,
  cache: AssembleCache,
  signal: AbortSignal,
): Promise<void> {
  try {
    const opened = await openImageArchive(target);
    const rootfs = (opened.config as { rootfs?: { diff_ids?: unknown } }).rootfs;
    const diffIds = Array.isArray(rootfs?.diff_ids) ? (rootfs.diff_ids as unknown[]) : [];
    if (diffIds.length !== opened.layers.length) return;
    const layers: GzipSubject[] = [];
    for (const [index, layer] of opened.layers.entries()) {
      const diffId = diffIds[index];
      if (typeof diffId !== "string" || !/^sha256:[0-9a-f]{64}$/.test(diffId)) return;
      layers.push({ blob: layer.blob, diffId, compression: await compressionOf(opened.source, layer.blob) });
    }
    await warmBaseGzip(opened.source, layers, cache, signal);
  } catch {
    // Reading the base names the problem.
  }
}

async function compressionOf(source: BlobSource, blob: string): Promise<BaseLayer["compression"]> {
  const reader = await source.openBlob(blob);
  try {
    const head = Buffer.alloc(4);
    const count = await reader.read(head, 4, 0);
    return count > 0 ? detectCompression(head.subarray(0, count)) : "none";
  } finally {
    await reader.close();
  }
}

/**
 * Keyed by content (the diff_id), not by the stored blob: the key is known from the image config before the
 * blob is hashed, so the compression can start while the base is still being read; the worker checks the
 * content against it, so nothing under this key holds other content.
 */
function keyFor(layer: GzipSubject): string {
  return cacheKey({ gzipOfContent: layer.diffId, level: BASE_GZIP_LEVEL, zlib: process.versions.zlib });
}

async function fromCache(cache: AssembleCache, layer: GzipSubject): Promise<GzipFile | undefined> {
  const record = await cache.get<Record>("base-gzip", keyFor(layer));
  if (!record) return undefined;
  const file = cache.blobFile(record.digest);
  const info = await stat(file).catch(() => undefined);
  return info?.isFile() && info.size === record.size ? { file, ...record, cached: true } : undefined;
}

/** Undefined when the cache cannot be written. */
async function compressIntoCache(
  source: BlobSource,
  layer: GzipSubject,
  cache: AssembleCache,
  signal?: AbortSignal,
): Promise<GzipFile | undefined> {
  const made = await compressInto(source, layer, cache.scratchFolder(), signal);
  if (!made) return undefined;
  if (!(await cache.adoptBlob(made.digest, made.file))) {
    await rm(made.file, { force: true }).catch(() => undefined);
    return undefined;
  }
  await cache.put("base-gzip", keyFor(layer), { digest: made.digest, size: made.size } satisfies Record);
  return { ...made, file: cache.blobFile(made.digest) };
}

/**
 * Compress into a new file in `folder`, on a worker thread; undefined when the folder cannot be written. A base
 * that cannot be read (cut short or removed during the run) is one typed line naming it.
 */
async function compressInto(
  source: BlobSource,
  layer: GzipSubject,
  folder: string,
  signal?: AbortSignal,
): Promise<GzipFile | undefined> {
  const usable = await mkdir(folder, { recursive: true })
    .then(() => true)
    .catch(() => false);
  if (!usable) return undefined;
  const file = path.join(folder, `gzip-${randomBytes(6).toString("hex")}.tmp`);
  const where = await source.locate(layer.blob);
  const outcome = await gzipLayer(
    {
      ...where,
      zstd: layer.compression === "zstd",
      diffId: layer.diffId,
      level: BASE_GZIP_LEVEL,
      output: file,
    },
    signal,
  ).catch(async (error: unknown) => {
    await rm(file, { force: true }).catch(() => undefined);
    throw error;
  });
  if (outcome.ok) return { file, digest: outcome.digest, size: outcome.size, cached: false };
  await rm(file, { force: true }).catch(() => undefined);
  // The file could not be made: this folder is unusable, the caller tries another.
  if (outcome.writing) return undefined;
  throw new InputFileError(
    `cannot read the base layer ${layer.blob} to gzip it: ${outcome.code ? describeFsError({ code: outcome.code }) : outcome.message}; nothing was written`,
    {
      location: { file: source.label },
      hint: "check that the base image is whole and was not rewritten during the run",
    },
  );
}
