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

/** Numbers kept per path, in this order, in blocks of ROWS paths (a block once made is never copied). */
const CUMULATIVE = 0; // bytes summed over every layer that has the path
const MIN_BEFORE = 1; // the smallest size among the layers before LAST (Infinity when none)
const CURRENT = 2; // the size in layer LAST (a later entry of one layer replaces an earlier one)
const COUNT = 3; // how many layers have the path
const LAST = 4; // the last layer that has the path
const FIELDS = 5;
const ROWS = 4096;

/**
 * Leaves are counted as they come, into columns indexed by path, rather than gathered per layer into a map and
 * added up at its end: the per-layer maps held an entry per path until the layer ended, long enough to outlive
 * V8's young generation, and each layer's died in the old one.
 */
export class WasteCounter {
  /** Path -> its row */
  private readonly index = new Map<string, number>();
  /** Row -> its path */
  private readonly paths: string[] = [];
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
    let row = this.index.get(path);
    if (row === undefined) {
      row = this.paths.length;
      if (row % ROWS === 0) this.blocks.push(new Float64Array(ROWS * FIELDS));
      this.index.set(path, row);
      this.paths.push(path);
      const block = this.blocks[this.blocks.length - 1] as Float64Array;
      const at = (row % ROWS) * FIELDS;
      block[at + CUMULATIVE] = size;
      block[at + MIN_BEFORE] = Number.POSITIVE_INFINITY;
      block[at + CURRENT] = size;
      block[at + COUNT] = 1;
      block[at + LAST] = this.layer;
      return;
    }
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
    // Rows are in the order paths were first seen, as the map's entries: a loop over them makes no [key, value] pairs.
    for (let row = 0; row < this.paths.length; row++) {
      const block = this.blocks[Math.floor(row / ROWS)] as Float64Array;
      const at = (row % ROWS) * FIELDS;
      const cumulative = block[at + CUMULATIVE] as number;
      minimum += Math.min(block[at + MIN_BEFORE] as number, block[at + CURRENT] as number);
      discovered += cumulative;
      const count = block[at + COUNT] as number;
      if (count >= 2) {
        wastedBytes += cumulative;
        inefficiencies.push({ path: this.paths[row] as string, cumulative, count });
      }
    }
    inefficiencies.sort((a, b) => b.cumulative - a.cumulative || compareNames(a.path, b.path));
    return { wastedBytes, efficiency: discovered === 0 ? 1 : minimum / discovered, inefficiencies };
  }
}
