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

interface PathData {
  cumulative: number;
  min: number;
  count: number;
}

export class WasteCounter {
  private readonly paths = new Map<string, PathData>();
  private layerLeaves = new Map<string, number>();
  private layerDirs = new Set<string>();
  private layerParents = new Set<string>();

  /** A non-directory entry of the current layer (for a whiteout: the deleted path and what it deletes). */
  leaf(path: string, size: number): void {
    this.layerLeaves.set(path, size);
    this.markParents(path);
  }

  directory(path: string): void {
    this.layerDirs.add(path);
    this.markParents(path);
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
    for (const dir of this.layerDirs) if (!this.layerParents.has(dir)) this.layerLeaves.set(dir, 0);
    for (const [path, size] of this.layerLeaves) {
      const data = this.paths.get(path);
      if (!data) this.paths.set(path, { cumulative: size, min: size, count: 1 });
      else {
        data.cumulative += size;
        if (size < data.min) data.min = size;
        data.count += 1;
      }
    }
    this.layerLeaves = new Map();
    this.layerDirs = new Set();
    this.layerParents = new Set();
  }

  result(): { wastedBytes: number; efficiency: number; inefficiencies: PathWaste[] } {
    let minimum = 0;
    let discovered = 0;
    let wastedBytes = 0;
    const inefficiencies: PathWaste[] = [];
    for (const [path, data] of this.paths) {
      minimum += data.min;
      discovered += data.cumulative;
      if (data.count >= 2) {
        wastedBytes += data.cumulative;
        inefficiencies.push({ path, cumulative: data.cumulative, count: data.count });
      }
    }
    inefficiencies.sort((a, b) => b.cumulative - a.cumulative || compareNames(a.path, b.path));
    return { wastedBytes, efficiency: discovered === 0 ? 1 : minimum / discovered, inefficiencies };
  }
}
