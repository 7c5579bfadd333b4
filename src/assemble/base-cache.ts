// A base image's facts and layer digests, kept between runs so that an unchanged base is neither re-read nor re-hashed.
import { realpath, stat } from "node:fs/promises";
import path from "node:path";
import { openImageArchive } from "../image/archive.js";
import { type BaseImage, type BaseOptions, isRegistryReference, readBase } from "./base.js";
import { type AssembleCache, cacheKey } from "./cache.js";
import { type BaseLayer, describeBaseLayers } from "./image.js";

type Facts = Omit<BaseImage, "opened" | "label">;

interface Record {
  facts: Facts;
  layers: BaseLayer[];
}

/**
 * What identifies the archive on disk without reading it: its real path, inode, size and mtime (a rewrite
 * changes at least one), or for an OCI layout folder the same of its index.json (blobs are named by digest).
 */
async function identity(target: string): Promise<unknown> {
  const real = await realpath(target);
  const info = await stat(real);
  const file = info.isDirectory() ? path.join(real, "index.json") : real;
  const held = info.isDirectory() ? await stat(file) : info;
  return { file, dev: held.dev, ino: held.ino, size: held.size, mtime: held.mtimeMs };
}

/**
 * The base and its layers: from the cache when the archive on disk is the one read before, else read, hashed
 * and kept. A registry reference is pulled by readBase (its blobs have their own cache) and read each time.
 */
export async function readBaseCached(
  target: string,
  cache: AssembleCache,
  options: BaseOptions,
): Promise<{ base: BaseImage; layers: BaseLayer[]; cached: boolean }> {
  if (await isRegistryReference(target)) {
    const base = await readBase(target, options);
    return { base, layers: await describeBaseLayers(base), cached: false };
  }
  // An OCI layout or archive with an index holds one image per platform: the platform asked for is part of the key.
  const architecture = options.platform?.architecture;
  const key = cacheKey({ base: await identity(target).catch(() => target), architecture });
  const record = await cache.get<Record>("base", key);
  // A record from a couplet that kept no library index cannot answer the library check: read the base again.
  if (record?.facts.libraries) {
    const opened = await openImageArchive(target, architecture);
    // The archive still lists the same blobs: anything else means the record is stale.
    if (
      opened.layers.length === record.layers.length &&
      opened.layers.every((layer, index) => layer.blob === record.layers[index]?.blob)
    )
      return { base: { ...record.facts, label: target, opened }, layers: record.layers, cached: true };
  }
  const base = await readBase(target, options);
  const layers = await describeBaseLayers(base);
  const { opened: _opened, label: _label, ...facts } = base;
  await cache.put("base", key, { facts, layers } satisfies Record);
  return { base, layers, cached: false };
}
