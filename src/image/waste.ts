// Wasted bytes and efficiency exactly as dive computes them (dive/filetree/efficiency.go), so the two tools agree.
//
// dive visits the leaves of each layer's own tree (files, symlinks, whiteouts, directories with no entries below
// them in that layer). Per path it sums the sizes seen across layers (cumulative) and keeps the smallest one. A
// whiteout's size is what it deletes: the sum of everything under the path in the stacked lower layers when that
// was a directory, else 0. Efficiency = sum(smallest) / sum(cumulative); wasted bytes = sum(cumulative) over the
// paths seen in two or more layers. Opaque-directory markers are ignored by dive, and so here.

import { compareNames } from "./name-order.js";

export interface PathWaste {
  path: string;
  /** Bytes summed over every layer that has this path */
  cumulative: number;
  /** How many layers have it */
  count: number;
}

/** Numbers kept per path seen in two layers or more, in this order, in blocks of ROWS paths (never copied). */
const CUMULATIVE = 0; // bytes summed over every layer that has the path
const MIN_BEFORE = 1; // the smallest size among the layers before LAST (Infinity when none)
const CURRENT = 2; // the size in layer LAST (a later entry of one layer replaces an earlier one)
const COUNT = 3; // how many layers have the path
const LAST = 4; // the last layer that has the path
const FIELDS = 5;
const ROWS = 4096;

/**
 * A path seen in one layer so far, as most are, is one number in the index: its size times LAYERS plus the layer
 * (for a file under 2 MiB a small integer, which V8 keeps in the map's entry with nothing allocated). Sizes or
 * layers too large for that number to stay exact get a row from the start.
 */
const LAYERS = 1024;
const MAX_PACKED_SIZE = Math.floor((Number.MAX_SAFE_INTEGER - LAYERS) / LAYERS);

/**
 * Leaves are counted as they come rather than gathered per layer into a map and added up at its end: the per-layer
 * maps held an entry per path until the layer ended, long enough to outlive V8's young generation, and each
 * layer's died in the old one.
 */
export class WasteCounter {
  /** Path -> its size and layer packed (a path seen in one layer), or -1 - its row (seen in more) */
  private readonly index = new Map<string, number>();
  private rows = 0;
  private readonly blocks: Float64Array[] = [];
  private layer = 0;
  /** Directory entries of the current layer: leaves at its end unless something below them is in it too */
  private layerDirs: string[] = [];
  private layerParents = new Set<string>();

  /** A non-directory entry of the current layer (for a whiteout: the deleted path and what it deletes). */
  leaf(path: string, size: number): void {
    this.write(path, size);
    this.markParents(path);
  }

  directory(path: string): void {
    this.layerDirs.push(path);
    this.markParents(path);
  }

  /** The path is a leaf of the current layer with this size (the last one given for it in the layer). */
  private write(path: string, size: number): void {
    const value = this.index.get(path);
    const packable = size <= MAX_PACKED_SIZE && this.layer < LAYERS;
    if (value === undefined) {
      if (packable) this.index.set(path, size * LAYERS + this.layer);
      else this.index.set(path, -1 - this.newRow(size, Number.POSITIVE_INFINITY, 1, size));
      return;
    }
    if (value >= 0) {
      const layer = value % LAYERS;
      const before = (value - layer) / LAYERS;
      if (layer === this.layer && packable) this.index.set(path, size * LAYERS + this.layer);
      else if (layer === this.layer)
        this.index.set(path, -1 - this.newRow(size, Number.POSITIVE_INFINITY, 1, size));
      else this.index.set(path, -1 - this.newRow(before + size, before, 2, size));
      return;
    }
    const row = -1 - value;
    const block = this.blocks[Math.floor(row / ROWS)] as Float64Array;
    const at = (row % ROWS) * FIELDS;
    const current = block[at + CURRENT] as number;
    if (block[at + LAST] === this.layer)
      block[at + CUMULATIVE] = (block[at + CUMULATIVE] as number) + size - current;
    else {
      block[at + MIN_BEFORE] = Math.min(block[at + MIN_BEFORE] as number, current);
      block[at + CUMULATIVE] = (block[at + CUMULATIVE] as number) + size;
      block[at + COUNT] = (block[at + COUNT] as number) + 1;
      block[at + LAST] = this.layer;
    }
    block[at + CURRENT] = size;
  }

  /** A row for a path of the current layer; returns its number. */
  private newRow(cumulative: number, minBefore: number, count: number, current: number): number {
    const row = this.rows++;
    if (row % ROWS === 0) this.blocks.push(new Float64Array(ROWS * FIELDS));
    const block = this.blocks[this.blocks.length - 1] as Float64Array;
    const at = (row % ROWS) * FIELDS;
    block[at + CUMULATIVE] = cumulative;
    block[at + MIN_BEFORE] = minBefore;
    block[at + CURRENT] = current;
    block[at + COUNT] = count;
    block[at + LAST] = this.layer;
    return row;
  }

  private markParents(path: string): void {
    let at = path.lastIndexOf("/");
    while (at > 0) {
      const parent = path.slice(0, at);
      if (this.layerParents.has(parent)) return;
      this.layerParents.add(parent);
      at = parent.lastIndexOf("/");
    }
  }

  endLayer(): void {
    for (const dir of this.layerDirs) if (!this.layerParents.has(dir)) this.write(dir, 0);
    this.layer += 1;
    this.layerDirs = [];
    this.layerParents = new Set();
  }

  result(): { wastedBytes: number; efficiency: number; inefficiencies: PathWaste[] } {
    let minimum = 0;
    let discovered = 0;
    let wastedBytes = 0;
    const inefficiencies: PathWaste[] = [];
    // In the order paths were first seen (sorting keeps it among equals), as the per-layer maps gave.
    for (const [path, value] of this.index) {
      if (value >= 0) {
        const size = (value - (value % LAYERS)) / LAYERS;
        minimum += size;
        discovered += size;
        continue;
      }
      const row = -1 - value;
      const block = this.blocks[Math.floor(row / ROWS)] as Float64Array;
      const at = (row % ROWS) * FIELDS;
      const cumulative = block[at + CUMULATIVE] as number;
      minimum += Math.min(block[at + MIN_BEFORE] as number, block[at + CURRENT] as number);
      discovered += cumulative;
      const count = block[at + COUNT] as number;
      if (count >= 2) {
        wastedBytes += cumulative;
        inefficiencies.push({ path, cumulative, count });
      }
    }
    inefficiencies.sort((a, b) => b.cumulative - a.cumulative || compareNames(a.path, b.path));
    return { wastedBytes, efficiency: discovered === 0 ? 1 : minimum / discovered, inefficiencies };
  }
}
