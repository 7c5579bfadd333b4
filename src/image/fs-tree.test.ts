// The stacked filesystem on paths far deeper than any call stack: every walk is iterative.
import { describe, expect, it } from "vitest";
import { FsTree } from "./fs-tree.js";

describe("FsTree on a path 100,000 folders deep", () => {
  const depth = 100_000;
  const deep = `/${Array.from({ length: depth }, () => "d").join("/")}`;

  it("adds, walks, sizes, makes opaque and resolves it without running out of stack", () => {
    const tree = new FsTree();
    tree.set(`${deep}/file`, "file", 7, "", 0);
    tree.set("/top", "file", 5, "", 0);
    let files = 0;
    let deepest = 0;
    tree.walk(tree.root, (node, at) => {
      if (node.kind === "file") files += 1;
      if (at.length > deepest) deepest = at.length;
      return true;
    });
    expect(files).toBe(2);
    expect(deepest).toBe(`${deep}/file`.length);
    expect(tree.sizeOf(tree.root)).toBe(12);
    expect(tree.resolve(`${deep}/file`)?.size).toBe(7);

    // A later layer makes /d opaque after writing a file as deep: what it wrote stays, the rest goes.
    const later = new FsTree();
    later.set("/d/old", "file", 3, "", 0);
    later.set(`${deep}/new`, "file", 1, "", 1);
    later.makeOpaque("/d", 1);
    expect(later.get("/d/old")).toBeUndefined();
    expect(later.get(`${deep}/new`)?.size).toBe(1);
  });

  it("walks in the same order as before: depth first, children in insertion order, skipping where told", () => {
    const tree = new FsTree();
    for (const p of ["/b/x", "/a/y/z", "/a/w", "/c"]) tree.set(p, "file", 1, "", 0);
    const seen: string[] = [];
    tree.walk(tree.root, (_node, at) => {
      seen.push(at);
      return at !== "/a/y";
    });
    expect(seen).toEqual(["/", "/b", "/b/x", "/a", "/a/y", "/a/w", "/c"]);
  });
});
