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

describe("FsTree.set remembers the last folder, and forgets it when that folder goes", () => {
  const paths = (tree: FsTree) => {
    const seen: string[] = [];
    tree.walk(tree.root, (node, at) => {
      seen.push(`${at}:${node.kind}`);
      return true;
    });
    return seen;
  };

  it("adds into a folder that a whiteout removed, a file replaced or an opaque marker cleared", () => {
    const tree = new FsTree();
    tree.set("/a/b/one", "file", 1, "", 0);
    tree.remove("/a/b");
    tree.set("/a/b/two", "file", 2, "", 1);
    expect(tree.get("/a/b/one")).toBeUndefined();
    expect(tree.get("/a/b/two")?.size).toBe(2);

    tree.set("/a", "file", 3, "", 1);
    tree.set("/a/b/three", "file", 3, "", 2);
    expect(tree.get("/a")?.kind).toBe("directory");
    expect(tree.get("/a/b/three")?.size).toBe(3);

    tree.set("/c/d/x", "file", 1, "", 2);
    tree.makeOpaque("/c", 3);
    tree.set("/c/d/y", "file", 1, "", 3);
    expect(paths(tree)).toEqual([
      "/:directory",
      "/a:directory",
      "/a/b:directory",
      "/a/b/three:file",
      "/c:directory",
      "/c/d:directory",
      "/c/d/y:file",
    ]);
  });

  it("builds the same tree for clean, unclean and relative paths", () => {
    const clean = new FsTree();
    const unclean = new FsTree();
    for (const [a, b] of [
      ["/x/y/z", "x//y/./z"],
      ["/x/y/w", "/x/y/w/"],
      ["/v", "v"],
    ] as const) {
      clean.set(a, "file", 1, "", 0);
      unclean.set(b, "file", 1, "", 0);
    }
    expect(paths(unclean)).toEqual(paths(clean));
    expect(unclean.get("x//y/./z")).toBe(unclean.get("/x/y/z"));
  });
});
