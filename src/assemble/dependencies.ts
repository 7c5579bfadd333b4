// The third-party layers: locked wheels installed into the venv, grouped by size and name, reused from the cache.
import { createHash } from "node:crypto";
import type { BytecodeCompiler } from "./bytecode.js";
import { type AssembleCache, cacheKey } from "./cache.js";
import { fetchWheel, type WheelRequest } from "./download.js";
import type { OwnLayer } from "./image.js";
import { LayerTree, packLayer } from "./layer.js";
import { type InstalledLibraries, librariesOf } from "./libraries.js";
import { describeRequest } from "./local-wheels.js";
import { installWheel, type Venv } from "./wheel.js";

/** A package whose install is at least this big gets a layer of its own; smaller ones share a few buckets. */
const OWN_LAYER_BYTES = 4 * 1024 * 1024;
const BUCKETS = 8;

/** Run `work` over `items` with at most `limit` at once, results in input order. */
async function mapLimit<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function bucketOf(name: string): number {
  return (createHash("sha256").update(name).digest()[0] as number) % BUCKETS;
}

export interface Sized {
  request: WheelRequest;
  /** Bytes of the installed files */
  size: number;
}

/**
 * A big package alone, the small ones in buckets chosen by a hash of their name, so that a changed dependency
 * re-creates one small layer and adding one shifts no other package. Shared buckets first, in bucket order.
 */
export function groupPackages<T extends Sized>(installed: T[]): T[][] {
  const own: T[][] = [];
  const buckets = new Map<number, T[]>();
  for (const item of installed) {
    if (item.size >= OWN_LAYER_BYTES) {
      own.push([item]);
      continue;
    }
    const bucket = bucketOf(item.request.name);
    buckets.set(bucket, [...(buckets.get(bucket) ?? []), item]);
  }
  const shared = [...buckets.entries()].sort(([a], [b]) => a - b).map(([, held]) => held);
  return [...shared, ...own];
}

export interface DependencyContext {
  venv: Venv;
  /** The base's interpreter (its path and version decide the installed files) */
  python: { executable: string; version: string };
  created: Date;
  /** Compiles the packages' bytecode into their layers; absent: no .pyc */
  compiler?: BytecodeCompiler;
  cacheDir: string;
  cache: AssembleCache;
  progress: (line: string) => void;
}

interface LayerRecord {
  digest: string;
  diffId: string;
  size: number;
}

export interface DependencyResult {
  layers: OwnLayer[];
  /** Per package: whether its wheel had to be downloaded this run */
  packages: { request: WheelRequest; downloaded: boolean }[];
}

/** A package's installed size and shared-library facts, as kept in the cache from the run that installed it. */
export interface Installed extends Sized {
  libraries: InstalledLibraries;
}

export interface PreparedDependencies {
  installed: Installed[];
  /** Pack (or reuse) the layers; the wheels installed while preparing are not installed twice */
  layers(): Promise<DependencyResult>;
}

/**
 * Each wheel's installed size and its ELF files' needs, from the cache when an earlier run installed it, else
 * by installing it: enough to group the layers and to check shared libraries before any layer is packed.
 */
export async function prepareDependencies(
  wheels: WheelRequest[],
  context: DependencyContext,
): Promise<PreparedDependencies> {
  const { venv, cache, progress, compiler } = context;
  const target = keyParts(context);
  const trees = new Map<string, LayerTree>();
  const downloaded = new Set<string>();
  const install = async (request: WheelRequest): Promise<LayerTree> => {
    const known = trees.get(request.sha256);
    if (known) return known;
    const { data, cached } = await fetchWheel(request, context.cacheDir);
    progress(
      request.path
        ? `local ${request.path} sha256:${request.sha256}`
        : `${cached ? "cached" : "downloaded"} ${request.filename}`,
    );
    if (!cached) downloaded.add(request.sha256);
    const tree = await installWheel(data, request.filename, venv, compiler);
    trees.set(request.sha256, tree);
    return tree;
  };
  const installed = await mapLimit(wheels, 4, async (request): Promise<Installed> => {
    const key = cacheKey({ installed: request.sha256, ...target });
    const known = await cache.get<Partial<Omit<Installed, "request">>>("installed", key);
    // A record without library facts was kept by an older couplet: install the wheel again to read them.
    if (typeof known?.size === "number" && known.libraries)
      return { request, size: known.size, libraries: known.libraries };
    const tree = await install(request);
    const facts = { size: tree.size, libraries: librariesOf(tree) };
    await cache.put("installed", key, facts);
    return { request, ...facts };
  });
  return {
    installed,
    layers: () => packDependencies(installed, context, install, downloaded),
  };
}

/**
 * What every cached record of a package or layer depends on besides its wheels: the venv, the base's
 * interpreter, and the exact version of the one compiling the bytecode, or none (the bytecode is in the layer
 * and in each package's RECORD, and counts in its size, which decides grouping).
 */
function keyParts(context: DependencyContext) {
  const { venv, python, compiler } = context;
  return { venv, python, bytecode: compiler?.identity ?? null };
}

/**
 * Third-party layers. Each is keyed by what decides its bytes (the wheels' sha256s, keyParts, the timestamp):
 * when an earlier run made it, its compressed blob and diffID are reused and its wheels are not even opened.
 * Only a layer whose packages changed is installed and packed again.
 */
export async function dependencyLayers(
  wheels: WheelRequest[],
  context: DependencyContext,
): Promise<DependencyResult> {
  return (await prepareDependencies(wheels, context)).layers();
}

async function packDependencies(
  sized: Sized[],
  context: DependencyContext,
  install: (request: WheelRequest) => Promise<LayerTree>,
  downloaded: Set<string>,
): Promise<DependencyResult> {
  const { cache, progress } = context;
  const target = keyParts(context);
  const layers: OwnLayer[] = [];
  for (const group of groupPackages(sized)) {
    const holds = group.map(({ request }) => describeRequest(request)).join(", ");
    const key = cacheKey({
      layer: group.map(({ request }) => [request.sha256, request.filename]),
      ...target,
      created: context.created.getTime(),
    });
    const record = await cache.get<LayerRecord>("layer", key);
    const gzip = record && (await cache.getBlob(record.digest, record.size));
    if (record && gzip) {
      layers.push({ holds, packed: { digest: record.digest, diffId: record.diffId, gzip }, reused: true });
      progress(
        `layer ${record.digest.slice(7, 19)} ${(gzip.length / 1024).toFixed(0)} KiB (cached): ${holds}`,
      );
      continue;
    }
    const tree = new LayerTree();
    for (const part of await mapLimit(group, 4, ({ request }) => install(request))) tree.merge(part);
    const packed = await packLayer(tree, context.created);
    await cache.putBlob(packed.digest, packed.gzip);
    await cache.put("layer", key, {
      digest: packed.digest,
      diffId: packed.diffId,
      size: packed.gzip.length,
    } satisfies LayerRecord);
    layers.push({ holds, packed: { digest: packed.digest, diffId: packed.diffId, gzip: packed.gzip } });
    progress(`layer ${packed.digest.slice(7, 19)} ${(packed.gzip.length / 1024).toFixed(0)} KiB: ${holds}`);
  }
  return {
    layers,
    packages: sized.map(({ request }) => ({ request, downloaded: downloaded.has(request.sha256) })),
  };
}
