// A base image's facts and layer digests, kept between runs so that an unchanged base is neither re-read nor re-hashed.
import { realpath, stat } from "node:fs/promises";
import path from "node:path";
import { type OpenedImage, openImageArchive } from "../image/archive.js";
import {
  type BaseImage,
  type BaseOptions,
  isRegistryReference,
  pullRegistryBase,
  readBase,
  readPulledBase,
} from "./base.js";
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
 * The base and its layers: from the cache when the archive on disk (or the registry's manifest) is the one read
 * before, else read, hashed and kept.
 */
export async function readBaseCached(
  target: string,
  cache: AssembleCache,
  options: BaseOptions,
): Promise<{ base: BaseImage; layers: BaseLayer[]; cached: boolean }> {
  if (await isRegistryReference(target)) return readRegistryBaseCached(target, cache, options);
  // An OCI layout or archive with an index holds one image per platform: the platform asked for is part of the key.
  const architecture = options.platform?.architecture;
  const key = cacheKey({ base: await identity(target).catch(() => target), architecture });
  const record = await cache.get<Record>("base", key);
  // A record from a couplet that kept no library index or package list cannot answer the checks: read the base again.
  if (isComplete(record)) {
    const opened = await openImageArchive(target, architecture);
    if (sameBlobs(opened, record))
      return { base: { ...record.facts, label: target, opened }, layers: record.layers, cached: true };
  }
  const base = await readBase(target, options);
  const layers = await describeBaseLayers(base);
  const { opened: _opened, label: _label, ...facts } = base;
  await cache.put("base", key, { facts, layers } satisfies Record);
  return { base, layers, cached: false };
}

/**
 * The record holds every fact this couplet checks (`dpkg` is null for a base without a package database; one
 * without `provided` was made before the names installed packages provide were kept).
 */
function isComplete(record: Record | undefined): record is Record {
  const dpkg = record?.facts.dpkg;
  return record?.facts.libraries !== undefined && (dpkg === null || Array.isArray(dpkg?.provided));
}

/** The image still lists the blobs the record was made from: anything else means the record is stale. */
function sameBlobs(opened: OpenedImage, record: Record): boolean {
  return (
    opened.layers.length === record.layers.length &&
    opened.layers.every((layer, index) => layer.blob === record.layers[index]?.blob)
  );
}

/**
 * A registry base: its manifest is asked for on every run (a tag moves), its blobs come from the blob cache, and
 * its facts and layer digests from a record keyed by the platform's manifest digest. That digest names the
 * config and every layer by their sha256, so the same digest is the same image wherever it was pulled from;
 * what the record saves is decompressing and hashing the base's layers again (their bytes were checked when
 * they were fetched).
 */
async function readRegistryBaseCached(
  target: string,
  cache: AssembleCache,
  options: BaseOptions,
): Promise<{ base: BaseImage; layers: BaseLayer[]; cached: boolean }> {
  const pulled = await pullRegistryBase(target, options);
  const key = cacheKey({ registryManifest: pulled.origin.manifestDigest });
  const record = await cache.get<Record>("base", key);
  if (isComplete(record) && sameBlobs(pulled.opened, record))
    return {
      // Where it came from is this run's: a push mounts the base's layers from the repository it was pulled from.
      base: { ...record.facts, origin: pulled.origin, label: target, opened: pulled.opened },
      layers: record.layers,
      cached: true,
    };
  const base = await readPulledBase(pulled, target);
  const layers = await describeBaseLayers(base);
  const { opened: _opened, label: _label, origin: _origin, ...facts } = base;
  await cache.put("base", key, { facts, layers } satisfies Record);
  return { base, layers, cached: false };
}
