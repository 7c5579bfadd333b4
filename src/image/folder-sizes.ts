// The final filesystem's folders by size, pruned to the few worth drawing: what the HTML report's treemap shows.
import type { FsNode, FsTree } from "./fs-tree.js";

export interface FolderSize {
  /** Absolute path ("/" for the root) */
  path: string;
  /** Bytes of the regular files in this folder and below it, in the final filesystem */
  size: number;
  /** The largest subfolders kept (see FOLDER_LIMITS), largest first; their sizes are part of this one's */
  children: FolderSize[];
}

export const FOLDER_LIMITS = {
  /** Levels below the root */
  depth: 4,
  /** Subfolders kept per folder */
  children: 12,
  /** A folder smaller than this share of the whole filesystem is left inside its parent's size */
  minShare: 0.005,
};

/**
 * Sizes of every folder, then the tree cut down to FOLDER_LIMITS. The walk is one pass over the final tree's
 * folders (iterative: a layer can nest paths thousands of folders deep), and only kept folders become objects.
 * Only folders get a total: a file's is its size, and a map and a list with every node of the image in them were
 * the largest things inspect allocated after its last layer.
 */
export function folderSizes(tree: FsTree, limits = FOLDER_LIMITS): FolderSize {
  const totals = new Map<FsNode, number>();
  // Post-order without recursion: folders pushed after their parent, sizes added up in reverse.
  const order: FsNode[] = [];
  const stack: FsNode[] = [tree.root];
  for (let node = stack.pop(); node; node = stack.pop()) {
    order.push(node);
    for (const child of node.children?.values() ?? []) if (child.children) stack.push(child);
  }
  for (let i = order.length - 1; i >= 0; i--) {
    const node = order[i] as FsNode;
    let size = 0;
    for (const child of node.children?.values() ?? [])
      size += child.children ? (totals.get(child) ?? 0) : child.kind === "file" ? child.size : 0;
    totals.set(node, size);
  }
  const whole = totals.get(tree.root) ?? 0;
  const floor = whole * limits.minShare;
  const build = (node: FsNode, path: string, depth: number): FolderSize => {
    const children: FolderSize[] = [];
    if (depth < limits.depth && node.children) {
      const folders = [...node.children.values()]
        .filter((child) => child.kind === "directory" && (totals.get(child) ?? 0) >= floor && floor > 0)
        .sort((a, b) => (totals.get(b) ?? 0) - (totals.get(a) ?? 0) || (a.name < b.name ? -1 : 1))
        .slice(0, limits.children);
      for (const child of folders)
        children.push(build(child, path === "/" ? `/${child.name}` : `${path}/${child.name}`, depth + 1));
    }
    return { path, size: totals.get(node) ?? 0, children };
  };
  return build(tree.root, "/", 0);
}
