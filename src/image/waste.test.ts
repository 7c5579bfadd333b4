// The waste counter against a plain statement of dive's accounting (per-layer leaf maps added up at each layer's end),
// on generated layers where paths repeat within a layer and across layers, as files and as folders.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fuzzParameters } from "../../test/support/fuzz.js";
import { compareNames } from "./name-order.js";
import { type PathWaste, WasteCounter } from "./waste.js";

/** dive's rules written the direct way: a map of this layer's leaves, a set of its folders and of their parents. */
class ReferenceCounter {
  private readonly paths = new Map<string, { cumulative: number; min: number; count: number }>();
  private leaves = new Map<string, number>();
  private dirs = new Set<string>();
  private parents = new Set<string>();

  leaf(path: string, size: number): void {
    this.leaves.set(path, size);
    this.markParents(path);
  }

  directory(path: string): void {
    this.dirs.add(path);
    this.markParents(path);
  }

  private markParents(path: string): void {
    for (let at = path.lastIndexOf("/"); at > 0; at = path.lastIndexOf("/", at - 1))
      this.parents.add(path.slice(0, at));
  }

  endLayer(): void {
    for (const dir of this.dirs) if (!this.parents.has(dir)) this.leaves.set(dir, 0);
    for (const [path, size] of this.leaves) {
      const data = this.paths.get(path);
      if (!data) this.paths.set(path, { cumulative: size, min: size, count: 1 });
      else {
        data.cumulative += size;
        data.min = Math.min(data.min, size);
        data.count += 1;
      }
    }
    this.leaves = new Map();
    this.dirs = new Set();
    this.parents = new Set();
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

type Entry = { kind: "leaf"; path: string; size: number } | { kind: "directory"; path: string };

// Few names, so that paths meet again: the same file twice in a layer, a file that becomes a folder, a folder
// that is a leaf in one layer and a parent in the next.
const pathArb = fc
  .array(fc.constantFrom("a", "b", "lib", "x.so"), { minLength: 1, maxLength: 4 })
  .map((parts) => `/${parts.join("/")}`);
// Sizes past 2^32 too (files that large exist, and sums of them must stay exact), and around 2^43, past which
// a path seen once no longer fits in one number with its layer (kept small enough that no sum passes 2^53).
const sizeArb = fc.oneof(
  fc.nat(4096),
  fc.constant(0),
  fc.integer({ min: 2 ** 32, max: 2 ** 40 }),
  fc.integer({ min: 2 ** 43 - 4, max: 2 ** 45 }),
);
const entryArb: fc.Arbitrary<Entry> = fc.oneof(
  fc.record({ kind: fc.constant("leaf" as const), path: pathArb, size: sizeArb }),
  fc.record({ kind: fc.constant("directory" as const), path: pathArb }),
);
const layersArb = fc.array(fc.array(entryArb, { maxLength: 25 }), { maxLength: 6 });

function count(counter: WasteCounter | ReferenceCounter, layers: Entry[][]) {
  for (const layer of layers) {
    for (const entry of layer)
      if (entry.kind === "leaf") counter.leaf(entry.path, entry.size);
      else counter.directory(entry.path);
    counter.endLayer();
  }
  return counter.result();
}

describe("WasteCounter", () => {
  it("counts what the per-layer statement of dive's rules counts, in the same order (property)", () => {
    fc.assert(
      fc.property(layersArb, (layers) => {
        expect(count(new WasteCounter(), layers)).toEqual(count(new ReferenceCounter(), layers));
      }),
      fuzzParameters(500),
    );
  });

  it("keeps counting past its first blocks of paths", () => {
    const layers = [0, 1].map(() =>
      Array.from({ length: 9000 }, (_, i) => ({ kind: "leaf" as const, path: `/d${i % 7}/f${i}`, size: i })),
    );
    const counted = count(new WasteCounter(), layers);
    expect(counted).toEqual(count(new ReferenceCounter(), layers));
    expect(counted.inefficiencies).toHaveLength(9000);
  });

  it("counts past the 1024th layer, where a path seen once no longer fits in one number with its layer", () => {
    const layers: Entry[][] = Array.from({ length: 1100 }, (_, i) => [
      { kind: "leaf", path: "/etc/every", size: i },
      { kind: "leaf", path: `/once/${i}`, size: 3 },
      { kind: "leaf", path: `/twice/${i >> 1}`, size: i },
      { kind: "leaf", path: `/twice/${i >> 1}`, size: i + 1 },
    ]);
    const counted = count(new WasteCounter(), layers);
    expect(counted).toEqual(count(new ReferenceCounter(), layers));
    expect(counted.inefficiencies[0]).toEqual({
      path: "/etc/every",
      cumulative: (1099 * 1100) / 2,
      count: 1100,
    });
  });

  it("keeps the last size a layer gives a path, and a folder with nothing below it as a leaf of 0 bytes", () => {
    const counter = new WasteCounter();
    counter.leaf("/etc/app.conf", 100);
    counter.leaf("/etc/app.conf", 40);
    counter.directory("/var/cache");
    counter.endLayer();
    counter.leaf("/etc/app.conf", 10);
    counter.directory("/var/cache");
    counter.leaf("/var/cache/x", 5);
    counter.endLayer();
    const { wastedBytes, efficiency, inefficiencies } = counter.result();
    expect(inefficiencies).toEqual([{ path: "/etc/app.conf", cumulative: 50, count: 2 }]);
    expect(wastedBytes).toBe(50);
    // Smallest copies 10 + 0 + 5 over everything seen 50 + 0 + 5.
    expect(efficiency).toBe(15 / 55);
  });
});
