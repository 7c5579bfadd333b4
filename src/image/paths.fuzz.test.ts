// Property-based: the fast paths for clean names give what full normalization gives, on any name a tar may hold.
import path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fuzzParameters } from "../../test/support/fuzz.js";
import { FsTree } from "./fs-tree.js";
import { normalizeEntryPath } from "./layer.js";

// Names built from the pieces that matter: slashes, dots, dot-dot, ordinary and dotted words.
const piece = fc.constantFrom("/", "//", ".", "..", "a", "lib", ".wh.x", "x.so", "..a", ".a.");
const name = fc.array(piece, { maxLength: 12 }).map((parts) => parts.join(""));

describe("entry path normalization", () => {
  it("equals path.posix.normalize of the rooted name, without its trailing slash (property)", () => {
    fc.assert(
      fc.property(name, (raw) => {
        const full = path.posix.normalize(`/${raw}`);
        const expected = full.length > 1 && full.endsWith("/") ? full.slice(0, -1) : full;
        expect(normalizeEntryPath(raw)).toBe(expected);
      }),
      fuzzParameters(500),
    );
  });

  it("finds a node under any spelling of its path that has the same components (property)", () => {
    fc.assert(
      fc.property(name, (raw) => {
        const parts = raw.split("/").filter((p) => p !== "" && p !== ".");
        const tree = new FsTree();
        tree.set(`/${parts.join("/")}/leaf`, "file", 7, "", 0);
        expect(tree.get(`${raw}/leaf`)?.size).toBe(7);
        expect(tree.get(`/${parts.join("/")}/leaf/`)?.size).toBe(7);
      }),
      fuzzParameters(500),
    );
  });
});
