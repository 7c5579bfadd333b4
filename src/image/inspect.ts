// Inspect an opened image: stream every layer once, in order, and report layers, waste, findings and missing libraries.
import { availableParallelism } from "node:os";
import path from "node:path";
import { UserError } from "../errors.js";
import type { Project } from "../project/types.js";
import type { LayerBlob, OpenedImage } from "./archive.js";
import { Budget, costOf } from "./budget.js";
import { type ElfInfo, ElfScanner, readElfAt } from "./elf.js";
import { type Finding, findingsFor, formatBytes } from "./findings.js";
import { type FolderSize, folderSizes } from "./folder-sizes.js";
import { FsTree, OPAQUE_MARKER, WHITEOUT_PREFIX } from "./fs-tree.js";
import { type Compression, type LayerEntry, readLayer } from "./layer.js";
import { type MissingLibrary, missingFor, osRelease, parseLdConfig, sitePackagesOf } from "./libraries.js";
import { compareNames } from "./name-order.js";
import { recordSink } from "./record.js";
import { oneLine } from "./schemas.js";
import type { EntrySink } from "./tar-parser.js";
import { WasteCounter } from "./waste.js";

export interface SizedPath {
  path: string;
  size: number;
}

export interface LayerReport {
  index: number;
  /** Blob path inside the archive */
  blob: string;
  /** The instruction that made the layer, from the config history ("" when the image has none) */
  createdBy: string;
  /** Bytes of file content in the layer (as dive counts a layer's size) */
  size: number;
  /** Bytes of the blob as stored (compressed for OCI layers) */
  storedSize: number;
  compression: Compression;
  files: number;
  largestFiles: SizedPath[];
  largestFolders: SizedPath[];
}

export interface InspectReport {
  image: { source: string; format: string; tags: string[]; os?: string; architecture?: string };
  /** Sum of the layers' sizes */
  sizeBytes: number;
  layers: LayerReport[];
  /** Bytes of every copy of each path that more than one layer holds (dive's "wasted bytes") */
  wastedBytes: number;
  /** 1 - waste share, as dive computes it */
  efficiency: number;
  findings: Finding[];
  /** The final filesystem's largest folders, nested (what the HTML report draws as a treemap) */
  folders: FolderSize;
  missingLibraries: MissingLibrary[];
  /** ELF shared objects checked (in site-packages / dist-packages) */
  sharedObjectsChecked: number;
  /** What inspect could not read or chose not to keep, so the figures above may be incomplete */
  warnings: string[];
}

export interface InspectOptions {
  project?: Project;
  /** How many files and folders to list per layer, and waste paths in findings */
  top?: number;
  onLayer?: (index: number, total: number) => void;
  /** Bytes of file contents (RECORD paths, small texts, ELF facts) kept for the whole image */
  budgetBytes?: number;
  /** Every entry of each layer (whiteouts too), in tar order, once the layer is read */
  onLayerEntries?: (index: number, entries: readonly LayerEntry[]) => void;
}

const SHARED_OBJECT = /\.so(\.[0-9]+)*$|\.cpython-[^/]*\.so$|\.abi3\.so$/;
const RECORD_FILE = /\/(site|dist)-packages\/[^/]+\.dist-info\/RECORD$/;
const SMALL_TEXT = /^\/(etc|usr\/lib)\/os-release$|^\/etc\/ld\.so\.conf(\.d\/[^/]+\.conf)?$/;
/** os-release and ld.so.conf files are a few hundred bytes; only this much of one is read. */
const MAX_TEXT = 64 * 1024;
/** Unreadable ELF files named in the warnings; the rest are counted. */
const NAMED_PROBLEMS = 5;

function wantsElf(entryPath: string, size: number): boolean {
  return (
    size >= 64 &&
    SHARED_OBJECT.test(entryPath) &&
    (sitePackagesOf(entryPath) !== undefined || /\.libs\//.test(entryPath))
  );
}

/** Keeps the N largest items seen so far. */
class Top {
  readonly items: SizedPath[] = [];
  constructor(private readonly n: number) {}
  add(item: SizedPath): void {
    if (this.items.length === this.n && (this.items[this.n - 1]?.size ?? 0) >= item.size) return;
    this.items.push(item);
    this.items.sort((a, b) => b.size - a.size);
    if (this.items.length > this.n) this.items.pop();
  }
}

/** One layer's tally while its entries are applied: content bytes, entries, largest files, bytes per folder. */
class LayerTally {
  size = 0;
  files = 0;
  readonly largest: Top;
  readonly folders = new Map<string, number>();
  /** Every entry, for onLayerEntries */
  readonly collected: LayerEntry[] | undefined;

  constructor(
    readonly index: number,
    top: number,
    collect: boolean,
  ) {
    this.largest = new Top(top);
    this.collected = collect ? [] : undefined;
  }
}

/** Bytes in each folder and all below it, from the bytes of the files directly in each folder. */
function folderTotals(own: Map<string, number>): Map<string, number> {
  const totals = new Map<string, number>();
  for (const [dir, bytes] of own)
    for (let at = dir; at !== "/"; at = path.posix.dirname(at)) totals.set(at, (totals.get(at) ?? 0) + bytes);
  return totals;
}

/**
 * Folders worth naming: the largest ones, skipping a folder whose bytes are mostly those of a larger folder
 * already named (its ancestor or its descendant), so that /usr, /usr/lib and /usr/lib/x86_64-linux-gnu do not
 * crowd out everything else.
 */
function largestFolders(totals: Map<string, number>, n: number): SizedPath[] {
  const sorted = [...totals].sort((a, b) => b[1] - a[1] || compareNames(a[0], b[0]));
  const chosen: SizedPath[] = [];
  for (const [dir, size] of sorted) {
    if (chosen.length >= n) break;
    const overlaps = chosen.some(
      (c) =>
        (dir.startsWith(`${c.path}/`) || c.path.startsWith(`${dir}/`)) &&
        Math.min(size, c.size) > 0.5 * Math.max(size, c.size),
    );
    if (!overlaps) chosen.push({ path: dir, size });
  }
  return chosen;
}

function envOf(opened: OpenedImage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of opened.config.config?.Env ?? []) {
    const eq = line.indexOf("=");
    if (eq > 0) env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return env;
}

export async function inspectImage(
  opened: OpenedImage,
  options: InspectOptions = {},
): Promise<InspectReport> {
  return (await scanImage(opened, options)).report;
}

/**
 * A layer's entries on their way to be applied: held in tar order until the layer's turn comes, then handed on as
 * they are read.
 */
class LayerFeed {
  private waiting: LayerEntry[] = [];
  private apply: ((entry: LayerEntry) => void) | undefined;

  push(entry: LayerEntry): void {
    if (this.apply) this.apply(entry);
    else this.waiting.push(entry);
  }

  /** The layer's turn: what waited is applied now, and what comes next as it comes. */
  open(apply: (entry: LayerEntry) => void): void {
    for (const entry of this.waiting) apply(entry);
    this.waiting = [];
    this.apply = apply;
  }
}

interface ParsedLayer {
  compression: Compression;
  /** ELF files of this layer that have a dynamic section */
  elves: Map<string, ElfInfo>;
  /** RECORD path -> the installed files it lists */
  records: Map<string, string[]>;
  texts: Map<string, string>;
  /** ELF files whose libraries could not be read, and why */
  problems: Map<string, string>;
}

/** Read one layer: its entries in order into its feed, and the facts worth keeping (ELF dynamic sections, RECORD paths, small texts). */
async function parseLayer(
  opened: OpenedImage,
  index: number,
  blob: LayerBlob,
  budget: Budget,
  feed: LayerFeed,
): Promise<ParsedLayer> {
  const elves = new Map<string, ElfInfo>();
  const records = new Map<string, string[]>();
  const texts = new Map<string, string>();
  const problems = new Map<string, string>();
  // Each ELF file's outcome, in tar order: read in place they finish in any order, but the budget and the
  // warnings must not depend on which read came back first.
  const elfResults = new Map<string, { info?: ElfInfo | undefined; problem?: string | undefined }>();
  const elfSink = (file: string, size: number): EntrySink => {
    const result: { info?: ElfInfo | undefined; problem?: string | undefined } = {};
    elfResults.set(file, result);
    const scanner = new ElfScanner(size);
    // One odd ELF file loses its own library check, never the layer: its errors stay here.
    let failed = false;
    const fail = (error: unknown) => {
      failed = true;
      result.problem = (error as Error).message;
    };
    return {
      data: (chunk) => {
        if (failed) return;
        try {
          scanner.push(chunk);
        } catch (error) {
          fail(error);
        }
      },
      end: () => {
        if (failed) return;
        try {
          result.info = scanner.finish();
          result.problem = scanner.problem;
        } catch (error) {
          fail(error);
        }
      },
      inPlace: async (read) => {
        try {
          Object.assign(result, await readElfAt(read, size));
        } catch (error) {
          fail(error);
        }
      },
    };
  };
  const textSink = (file: string): EntrySink => {
    const chunks: Buffer[] = [];
    let length = 0;
    return {
      data: (chunk) => {
        if (length >= MAX_TEXT) return;
        // Chunks may be views of a buffer the parser reuses: copy.
        const piece = Buffer.from(chunk.subarray(0, MAX_TEXT - length));
        chunks.push(piece);
        length += piece.length;
      },
      end: () => {
        const text = Buffer.concat(chunks).toString("utf8");
        if (budget.take(costOf(text))) texts.set(file, text);
        else budget.drop("configuration file");
      },
    };
  };
  try {
    const reader = await opened.source.openBlob(blob.blob);
    let compression: Compression;
    try {
      compression = await readLayer(reader, (entry) => {
        feed.push(entry);
        if (entry.kind !== "file") return undefined;
        if (wantsElf(entry.path, entry.size)) return elfSink(entry.path, entry.size);
        if (RECORD_FILE.test(entry.path))
          return recordSink(budget, (paths) => {
            if (paths) records.set(entry.path, paths);
            else budget.drop("RECORD");
          });
        if (SMALL_TEXT.test(entry.path)) return textSink(entry.path);
        return undefined;
      });
    } finally {
      await reader.close();
    }
    for (const [file, { info, problem }] of elfResults) {
      if (problem) problems.set(file, problem);
      if (!info) continue;
      const cost = [...info.needed, ...info.runpath, ...info.rpath].reduce((sum, t) => sum + costOf(t), 64);
      if (budget.take(cost)) elves.set(file, info);
      else budget.drop("shared object");
    }
    return { compression, elves, records, texts, problems };
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError(
      oneLine(
        `${opened.source.label}: layer ${index + 1} (${blob.blob}) is corrupt or truncated: ${(error as Error).message}`,
      ),
      { exitCode: 2 },
    );
  }
}

const DROPPED: Record<string, string> = {
  RECORD: "RECORD files not kept, so those packages are sized by their .dist-info folder alone",
  "shared object": "shared objects whose libraries were not checked",
  "configuration file": "os-release or ld.so.conf files not read",
};

/** The report's warnings: what was dropped for the budget, and the ELF files that could not be read. */
function warningsOf(budget: Budget, problems: Map<string, string>): string[] {
  const warnings: string[] = [];
  for (const [kind, count] of budget.dropped)
    warnings.push(
      `${count} ${DROPPED[kind] ?? kind}: inspect keeps at most ${formatBytes(budget.limit)} of file contents for an image`,
    );
  const named = [...problems].slice(0, NAMED_PROBLEMS);
  for (const [file, problem] of named) warnings.push(oneLine(`${file}: libraries not checked: ${problem}`));
  if (problems.size > named.length)
    warnings.push(`${problems.size - named.length} more ELF files whose libraries were not checked`);
  return warnings;
}

export interface ScannedImage {
  report: InspectReport;
  /** The final filesystem the report was computed from */
  tree: FsTree;
  /** RECORD path -> the paths it lists, for the RECORD files in the final filesystem */
  records: Map<string, string[]>;
}

/** The report and the final filesystem it was computed from. */
export async function scanImage(opened: OpenedImage, options: InspectOptions = {}): Promise<ScannedImage> {
  const top = options.top ?? 10;
  const tree = new FsTree();
  const waste = new WasteCounter();
  const budget = new Budget(options.budgetBytes);
  const elves = new Map<string, ElfInfo>();
  const records = new Map<string, string[]>();
  const texts = new Map<string, string>();
  const problems = new Map<string, string>();
  const history = (opened.config.history ?? []).filter((h) => !h.empty_layer);
  const layers: LayerReport[] = [];
  const deletedFolders: { path: string; bytes: number; layer: number }[] = [];

  // The layer whose entries are being applied, and one function applying them for every layer: a closure made per
  // layer was a new call target for the parser's optimized code at each layer.
  let layer = new LayerTally(0, top, options.onLayerEntries !== undefined);
  const apply = (entry: LayerEntry): void => {
    const index = layer.index;
    layer.files += 1;
    layer.collected?.push(entry);
    // Entry paths are absolute and clean, so the last slash splits them as basename and dirname would.
    const slash = entry.path.lastIndexOf("/");
    const base = entry.path.slice(slash + 1);
    const dir = slash === 0 ? "/" : entry.path.slice(0, slash);
    if (base === OPAQUE_MARKER) {
      tree.makeOpaque(dir, index);
      return;
    }
    if (base.startsWith(WHITEOUT_PREFIX)) {
      const target = path.posix.join(dir, base.slice(WHITEOUT_PREFIX.length));
      const previous = tree.get(target);
      const deleted = previous?.kind === "directory" ? tree.sizeOf(previous) : 0;
      waste.leaf(target, deleted);
      if (deleted > 0) deletedFolders.push({ path: target, bytes: deleted, layer: index });
      tree.remove(target);
      return;
    }
    layer.size += entry.size;
    if (entry.kind === "directory") waste.directory(entry.path);
    else {
      waste.leaf(entry.path, entry.size);
      // A later layer's file replaces whatever an earlier one said about this path.
      elves.delete(entry.path);
      records.delete(entry.path);
      texts.delete(entry.path);
      problems.delete(entry.path);
    }
    tree.set(entry.path, entry.kind, entry.size, entry.linkname, index);
    if (entry.kind === "file" && entry.size > 0) {
      layer.largest.add({ path: entry.path, size: entry.size });
      // Summed per folder here, and up to the ancestors once per folder at the end of the layer.
      if (dir !== "/") layer.folders.set(dir, (layer.folders.get(dir) ?? 0) + entry.size);
    }
  };

  // Layers are read and decompressed ahead, two at a time (zlib works on other threads), and applied in order:
  // the entries of the layer whose turn it is are applied as they are read, those of the layer read ahead wait in
  // its feed. Keeping every entry of a layer until it had been read whole made them outlive the young generation,
  // so they were promoted and died in the old one.
  const ahead = Math.max(1, Math.min(2, availableParallelism()));
  const parsing: { feed: LayerFeed; parsed: Promise<ParsedLayer> }[] = [];
  const start = (i: number) => {
    const blob = opened.layers[i];
    if (!blob) return;
    const feed = new LayerFeed();
    const parsed = parseLayer(opened, i, blob, budget, feed);
    // Awaited in order below; a later layer's failure must not surface as unhandled meanwhile.
    parsed.catch(() => undefined);
    parsing[i] = { feed, parsed };
  };
  for (let i = 0; i < ahead; i++) start(i);

  for (const [index, blob] of opened.layers.entries()) {
    options.onLayer?.(index, opened.layers.length);
    const reading = parsing[index] as { feed: LayerFeed; parsed: Promise<ParsedLayer> };
    layer = new LayerTally(index, top, options.onLayerEntries !== undefined);
    reading.feed.open(apply);
    const parsed = await reading.parsed;
    delete parsing[index];
    start(index + ahead);
    if (layer.collected) options.onLayerEntries?.(index, layer.collected);
    for (const [file, info] of parsed.elves) elves.set(file, info);
    for (const [file, paths] of parsed.records) records.set(file, paths);
    for (const [file, text] of parsed.texts) texts.set(file, text);
    for (const [file, problem] of parsed.problems) problems.set(file, problem);
    waste.endLayer();
    layers.push({
      index,
      blob: blob.blob,
      createdBy: history[index]?.created_by ?? "",
      size: layer.size,
      storedSize: blob.storedSize,
      compression: parsed.compression,
      files: layer.files,
      largestFiles: layer.largest.items,
      largestFolders: largestFolders(folderTotals(layer.folders), Math.min(top, 5)),
    });
  }

  const present = (p: string) => tree.get(p)?.kind === "file";
  const env = envOf(opened);
  for (const file of records.keys()) if (!present(file)) records.delete(file);
  const ldConfigDirs = [...texts]
    .filter(([p]) => p.startsWith("/etc/ld.so.conf") && present(p))
    .flatMap(([, text]) => parseLdConfig(text));
  const release = osRelease(texts.get("/etc/os-release") ?? texts.get("/usr/lib/os-release"));

  const { wastedBytes, efficiency, inefficiencies } = waste.result();
  const findings: Finding[] = inefficiencies
    .filter((item) => item.cumulative > 0)
    .slice(0, top)
    .map((item) => {
      const now = tree.get(item.path);
      return {
        kind: "waste",
        path: item.path,
        bytes: item.cumulative,
        message: `${now ? "overwritten" : "deleted"} by a later layer; ${item.count} layers hold it`,
      };
    });
  // dive counts a deleted folder as one leaf seen once, so not as waste; its bytes still ship in a lower layer.
  for (const folder of deletedFolders.sort((a, b) => b.bytes - a.bytes).slice(0, top))
    findings.push({
      kind: "deleted-folder",
      path: folder.path,
      bytes: folder.bytes,
      layer: folder.layer,
      message: "deleted by this layer but still stored in a lower one (delete it in the RUN that created it)",
    });
  findings.push(
    ...findingsFor({
      tree,
      records,
      env,
      production: options.project
        ? (await import("./production.js")).productionPackagesFor(options.project, opened.config.architecture)
        : undefined,
      top,
    }),
  );

  const missingLibraries: MissingLibrary[] = [];
  let sharedObjectsChecked = 0;
  const context = {
    tree,
    ldConfigDirs,
    ldLibraryPath: (env.LD_LIBRARY_PATH ?? "").split(":").filter((p) => p.startsWith("/")),
    release,
  };
  for (const [file, elf] of [...elves].sort(([a], [b]) => compareNames(a, b))) {
    if (!present(file)) continue;
    sharedObjectsChecked += 1;
    missingLibraries.push(...missingFor(file, elf, context));
  }

  const report: InspectReport = {
    image: {
      source: opened.source.label,
      format: opened.format,
      tags: opened.tags,
      os: opened.config.os,
      architecture: opened.config.architecture,
    },
    sizeBytes: layers.reduce((sum, layer) => sum + layer.size, 0),
    layers,
    wastedBytes,
    efficiency,
    findings,
    folders: folderSizes(tree),
    missingLibraries,
    sharedObjectsChecked,
    warnings: warningsOf(budget, problems),
  };
  return { report, tree, records };
}
