// Compare two inspected images: layers matched by digest, then Python packages, folders and files by how much they changed.
import { createHash } from "node:crypto";
import type { OpenedImage } from "./archive.js";
import { DEFAULT_DEPTH } from "./compare-depth.js";
import type { Finding } from "./findings.js";
import type { FsTree } from "./fs-tree.js";
import { type InspectOptions, type ScannedImage, scanImage } from "./inspect.js";
import type { LayerEntry } from "./layer.js";
import type { MissingLibrary } from "./libraries.js";
import { type InstalledPackage, installedPackages } from "./packages.js";

/** One image as the comparison needs it: the scan, plus what identifies each of its layers. */
export interface ComparedImage extends ScannedImage {
  /** Per layer: the digest of its uncompressed content (the config's diff_id), or its blob's name without one */
  layerDigests: string[];
  /** Per layer: a hash of its listing (paths, kinds, sizes, modes, link targets), from layerFingerprint */
  layerFingerprints: string[];
}

export type LayerStatus = "same" | "rebuilt" | "changed" | "added" | "removed";

export interface LayerChange {
  /**
   * same: the same digest. rebuilt: another digest, but the same paths, kinds, sizes and modes (a rebuild that
   * changed only timestamps, or contents of the same size). changed: the listing differs (paired by
   * instruction, else by position). added / removed: a layer only one image has.
   */
  status: LayerStatus;
  indexA?: number;
  indexB?: number;
  createdByA?: string;
  createdByB?: string;
  sizeA: number;
  sizeB: number;
  delta: number;
}

export type PathStatus = "added" | "removed" | "grew" | "shrank";

export interface PathChange {
  path: string;
  status: PathStatus;
  bytesA: number;
  bytesB: number;
  delta: number;
}

export type PackageStatus = "added" | "removed" | "version" | "grew" | "shrank";

export interface PackageChange {
  name: string;
  /** B's site-packages folder (A's for a removed package) */
  sitePackages: string;
  /** version: installed in both at different versions; grew / shrank: the same version, other bytes */
  status: PackageStatus;
  versionA?: string;
  versionB?: string;
  /** Bytes of the files its RECORD lists plus the bytecode compiled from them */
  bytesA: number;
  bytesB: number;
  delta: number;
}

/** The largest changes by absolute delta, and what the rest add up to. */
export interface Capped<T> {
  items: T[];
  /** How many smaller changes were left out */
  more: number;
  /** Their deltas summed */
  moreDelta: number;
}

export interface ComparedSide {
  source: string;
  tags: string[];
  /** Sum of the layers' sizes, as inspect reports it */
  sizeBytes: number;
  /** Bytes of the files in the final filesystem (after deletions and overwrites) */
  filesystemBytes: number;
  layers: number;
}

export interface Comparison {
  a: ComparedSide;
  b: ComparedSide;
  /** b.sizeBytes - a.sizeBytes */
  delta: number;
  layers: LayerChange[];
  packages: Capped<PackageChange>;
  /** Each file counts once, in its folder cut to `depth` path components (inside site-packages: a package's folder) */
  folders: Capped<PathChange> & { depth: number };
  files: Capped<PathChange>;
  findings: { appeared: Finding[]; disappeared: Finding[] };
  missingLibraries: { appeared: MissingLibrary[]; disappeared: MissingLibrary[] };
  /** Both images' inspect warnings, each prefixed with "A: " or "B: " */
  warnings: string[];
}

export interface CompareOptions {
  /** How many packages, folders and files to list (default 10) */
  top?: number;
  /** Path components a folder is cut to (default 3) */
  depth?: number;
}

export { DEFAULT_DEPTH };

/** A layer's listing as one hash: equal for two layers holding the same paths with the same kinds, sizes and modes. */
export function layerFingerprint(entries: readonly LayerEntry[]): string {
  const hash = createHash("sha256");
  const lines = entries.map((e) => `${e.path}\0${e.kind}\0${e.size}\0${e.mode}\0${e.linkname}`);
  // Sorted: two builds of one step may write the same files in another order.
  for (const line of lines.sort()) hash.update(`${line}\n`);
  return hash.digest("hex");
}

/** Scan an image as inspect does, keeping what identifies each layer. */
export async function scanForComparison(
  opened: OpenedImage,
  options: Omit<InspectOptions, "onLayerEntries"> = {},
): Promise<ComparedImage> {
  const layerFingerprints: string[] = [];
  const scanned = await scanImage(opened, {
    ...options,
    onLayerEntries: (index, entries) => {
      layerFingerprints[index] = layerFingerprint(entries);
    },
  });
  const diffIds = opened.config.rootfs?.diff_ids ?? [];
  // Without one diff_id per layer (a config that lists none), a blob's name is the next best identity.
  const layerDigests =
    diffIds.length === opened.layers.length ? [...diffIds] : opened.layers.map((layer) => layer.blob);
  return { ...scanned, layerDigests, layerFingerprints };
}

/** Pairs of indexes with equal keys, in order (longest common subsequence; images have few layers). */
function commonKeys(a: string[], b: string[]): [number, number][] {
  const cols = b.length + 1;
  const length = new Array<number>((a.length + 1) * cols).fill(0);
  const at = (i: number, j: number) => length[i * cols + j] as number;
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--)
      length[i * cols + j] = a[i] === b[j] ? at(i + 1, j + 1) + 1 : Math.max(at(i + 1, j), at(i, j + 1));
  const pairs: [number, number][] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      pairs.push([i, j]);
      i += 1;
      j += 1;
    } else if (at(i + 1, j) >= at(i, j + 1)) i += 1;
    else j += 1;
  }
  return pairs;
}

/**
 * Layers matched in order by digest ("same"), then, between those, by listing ("rebuilt"), then by instruction
 * ("changed"), and what is left between by position: a layer inserted before the changed ones shows as added
 * without shifting every layer after it.
 */
export function compareLayers(a: ComparedImage, b: ComparedImage): LayerChange[] {
  const instructions = (image: ComparedImage, side: string) =>
    image.report.layers.map((layer, i) => layer.createdBy || `\0${side}${i}`);
  const levels: { keys: [string[], string[]]; status: LayerStatus }[] = [
    { keys: [a.layerDigests, b.layerDigests], status: "same" },
    { keys: [a.layerFingerprints, b.layerFingerprints], status: "rebuilt" },
    { keys: [instructions(a, "a"), instructions(b, "b")], status: "changed" },
  ];
  const out: LayerChange[] = [];
  const sizeA = (i: number) => a.report.layers[i]?.size ?? 0;
  const sizeB = (j: number) => b.report.layers[j]?.size ?? 0;
  const createdByA = (i: number) => a.report.layers[i]?.createdBy ?? "";
  const createdByB = (j: number) => b.report.layers[j]?.createdBy ?? "";
  const pair = (i: number, j: number, status: LayerStatus) =>
    out.push({
      status,
      indexA: i,
      indexB: j,
      createdByA: createdByA(i),
      createdByB: createdByB(j),
      sizeA: sizeA(i),
      sizeB: sizeB(j),
      delta: sizeB(j) - sizeA(i),
    });
  const byPosition = (fromA: number, toA: number, fromB: number, toB: number) => {
    const paired = Math.min(toA - fromA, toB - fromB);
    for (let k = 0; k < paired; k++) pair(fromA + k, fromB + k, "changed");
    for (let i = fromA + paired; i < toA; i++)
      out.push({
        status: "removed",
        indexA: i,
        createdByA: createdByA(i),
        sizeA: sizeA(i),
        sizeB: 0,
        delta: -sizeA(i),
      });
    for (let j = fromB + paired; j < toB; j++)
      out.push({
        status: "added",
        indexB: j,
        createdByB: createdByB(j),
        sizeA: 0,
        sizeB: sizeB(j),
        delta: sizeB(j),
      });
  };
  const align = (fromA: number, toA: number, fromB: number, toB: number, level: number): void => {
    const current = levels[level];
    if (!current) {
      byPosition(fromA, toA, fromB, toB);
      return;
    }
    const [keysA, keysB] = current.keys;
    let i = fromA;
    let j = fromB;
    for (const [matchA, matchB] of commonKeys(keysA.slice(fromA, toA), keysB.slice(fromB, toB))) {
      align(i, fromA + matchA, j, fromB + matchB, level + 1);
      pair(fromA + matchA, fromB + matchB, current.status);
      i = fromA + matchA + 1;
      j = fromB + matchB + 1;
    }
    align(i, toA, j, toB, level + 1);
  };
  align(0, a.report.layers.length, 0, b.report.layers.length, 0);
  return out;
}

function cap<T extends { delta: number; status: string }>(
  changes: T[],
  top: number,
  key: (item: T) => string,
): Capped<T> {
  const sorted = changes
    // An empty file added, or a package at another version of the same size, is still a change.
    .filter((c) => c.delta !== 0 || c.status === "added" || c.status === "removed" || c.status === "version")
    .sort((x, y) => Math.abs(y.delta) - Math.abs(x.delta) || (key(x) < key(y) ? -1 : 1));
  const rest = sorted.slice(top);
  return {
    items: sorted.slice(0, top),
    more: rest.length,
    moreDelta: rest.reduce((sum, c) => sum + c.delta, 0),
  };
}

function pathChange(path: string, bytesA: number | undefined, bytesB: number | undefined): PathChange {
  const status: PathStatus =
    bytesA === undefined
      ? "added"
      : bytesB === undefined
        ? "removed"
        : (bytesB ?? 0) >= bytesA
          ? "grew"
          : "shrank";
  return { path, status, bytesA: bytesA ?? 0, bytesB: bytesB ?? 0, delta: (bytesB ?? 0) - (bytesA ?? 0) };
}

/** Every regular file of a tree with its size. */
function filesOf(tree: FsTree): Map<string, number> {
  const files = new Map<string, number>();
  tree.walk(tree.root, (node, at) => {
    if (node.kind === "file") files.set(at, node.size);
    return true;
  });
  return files;
}

const SITE_PACKAGES = /^(.*\/(?:site|dist)-packages)(\/|$)/;

/**
 * The folder a file is counted in: its folder cut to `depth` components; inside site-packages at least the
 * package's folder (site-packages/<name>), because that is the level at which a change means something.
 */
export function folderOf(file: string, depth: number): string {
  const slash = file.lastIndexOf("/");
  const dir = slash <= 0 ? "/" : file.slice(0, slash);
  const parts = dir.split("/").filter(Boolean);
  let keep = depth;
  const site = SITE_PACKAGES.exec(dir);
  if (site) keep = Math.max(depth, (site[1] as string).split("/").filter(Boolean).length + 1);
  return `/${parts.slice(0, keep).join("/")}`;
}

function folderTotals(files: Map<string, number>, depth: number): Map<string, number> {
  const totals = new Map<string, number>();
  for (const [file, size] of files) {
    const folder = folderOf(file, depth);
    totals.set(folder, (totals.get(folder) ?? 0) + size);
  }
  return totals;
}

function diffMaps(a: Map<string, number>, b: Map<string, number>): PathChange[] {
  const out: PathChange[] = [];
  for (const [path, bytesA] of a) out.push(pathChange(path, bytesA, b.get(path)));
  for (const [path, bytesB] of b) if (!a.has(path)) out.push(pathChange(path, undefined, bytesB));
  return out;
}

/** Packages are matched by name within a site-packages folder, whatever its Python version (python3.11 → 3.13). */
function packageKey(pkg: InstalledPackage): string {
  return `${pkg.sitePackages.replace(/\/python\d+\.\d+[a-z]*\//, "/python*/")}\0${pkg.name}`;
}

function comparePackages(a: ComparedImage, b: ComparedImage): PackageChange[] {
  const index = (image: ComparedImage) =>
    new Map(installedPackages(image.tree, image.records).map((p) => [packageKey(p), p]));
  const before = index(a);
  const after = index(b);
  const out: PackageChange[] = [];
  const bytes = (p: InstalledPackage | undefined) => (p ? p.bytes + p.bytecodeBytes : 0);
  for (const key of new Set([...before.keys(), ...after.keys()])) {
    const pa = before.get(key);
    const pb = after.get(key);
    const either = (pb ?? pa) as InstalledPackage;
    const delta = bytes(pb) - bytes(pa);
    let status: PackageStatus;
    if (!pa) status = "added";
    else if (!pb) status = "removed";
    else if (pa.version !== pb.version) status = "version";
    else if (delta === 0) continue;
    else status = delta > 0 ? "grew" : "shrank";
    out.push({
      name: either.name,
      sitePackages: either.sitePackages,
      status,
      ...(pa ? { versionA: pa.version } : {}),
      ...(pb ? { versionB: pb.version } : {}),
      bytesA: bytes(pa),
      bytesB: bytes(pb),
      delta,
    });
  }
  return out;
}

/** A finding's identity across images: its kind, path and message with the figures taken out. */
function findingKey(finding: Finding): string {
  return `${finding.kind}\0${finding.path}\0${finding.message.replace(/[0-9][0-9.,]*\s*(?:[kMG]?B\b)?/g, "#")}`;
}

function appearedAndGone<T>(a: T[], b: T[], key: (item: T) => string): { appeared: T[]; disappeared: T[] } {
  const keysA = new Set(a.map(key));
  const keysB = new Set(b.map(key));
  return {
    appeared: b.filter((item) => !keysA.has(key(item))),
    disappeared: a.filter((item) => !keysB.has(key(item))),
  };
}

function side(image: ComparedImage, files: Map<string, number>): ComparedSide {
  let filesystemBytes = 0;
  for (const size of files.values()) filesystemBytes += size;
  return {
    source: image.report.image.source,
    tags: image.report.image.tags,
    sizeBytes: image.report.sizeBytes,
    filesystemBytes,
    layers: image.report.layers.length,
  };
}

export function compareImages(a: ComparedImage, b: ComparedImage, options: CompareOptions = {}): Comparison {
  const top = options.top ?? 10;
  const depth = options.depth ?? DEFAULT_DEPTH;
  const filesA = filesOf(a.tree);
  const filesB = filesOf(b.tree);
  const byPath = (c: PathChange) => c.path;
  return {
    a: side(a, filesA),
    b: side(b, filesB),
    delta: b.report.sizeBytes - a.report.sizeBytes,
    layers: compareLayers(a, b),
    packages: cap(comparePackages(a, b), top, (p) => `${p.sitePackages}/${p.name}`),
    folders: {
      ...cap(diffMaps(folderTotals(filesA, depth), folderTotals(filesB, depth)), top, byPath),
      depth,
    },
    files: cap(diffMaps(filesA, filesB), top, byPath),
    findings: appearedAndGone(a.report.findings, b.report.findings, findingKey),
    missingLibraries: appearedAndGone(
      a.report.missingLibraries,
      b.report.missingLibraries,
      (m) => `${m.file}\0${m.needed}`,
    ),
    warnings: [...a.report.warnings.map((w) => `A: ${w}`), ...b.report.warnings.map((w) => `B: ${w}`)],
  };
}
