// The treemap's data: folder sizes of the final filesystem, with small folders and deep levels left inside their parent.
import { describe, expect, it } from "vitest";
import { folderSizes } from "./folder-sizes.js";
import { FsTree } from "./fs-tree.js";

describe("folderSizes", () => {
  it("sums files into every folder above them; links and symlinks add nothing", () => {
    const tree = new FsTree();
    tree.set("/a/b/c/f1", "file", 100, "", 0);
    tree.set("/a/b/f2", "file", 50, "", 0);
    tree.set("/a/d/f3", "file", 30, "", 1);
    tree.set("/a/d/hard", "link", 0, "/a/d/f3", 1);
    tree.set("/a/d/soft", "symlink", 0, "f3", 1);
    tree.set("/top", "file", 20, "", 0);
    expect(folderSizes(tree)).toEqual({
      path: "/",
      size: 200,
      children: [
        {
          path: "/a",
          size: 180,
          children: [
            { path: "/a/b", size: 150, children: [{ path: "/a/b/c", size: 100, children: [] }] },
            { path: "/a/d", size: 30, children: [] },
          ],
        },
      ],
    });
  });

  it("keeps the largest subfolders, no deeper than the limit, none under the smallest share", () => {
    const tree = new FsTree();
    for (let i = 0; i < 5; i++) tree.set(`/d${i}/x/y/z/f`, "file", 100 * (i + 1), "", 0);
    tree.set("/tiny/f", "file", 1, "", 0);
    const sizes = folderSizes(tree, { depth: 2, children: 3, minShare: 0.01 });
    expect(sizes.size).toBe(1501);
    expect(sizes.children.map((c) => [c.path, c.size])).toEqual([
      ["/d4", 500],
      ["/d3", 400],
      ["/d2", 300],
    ]);
    expect(sizes.children[0]?.children).toEqual([{ path: "/d4/x", size: 500, children: [] }]);
  });

  it("an empty filesystem is one empty root", () => {
    expect(folderSizes(new FsTree())).toEqual({ path: "/", size: 0, children: [] });
  });
});
