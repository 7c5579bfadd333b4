// The image's filesystem as layers stack up: overlay semantics for whiteouts and opaque directories, symlink-aware lookups.
import type { EntryKind } from "./layer.js";

export interface FsNode {
  name: string;
  kind: EntryKind;
  size: number;
  linkname: string;
  /** Index of the layer that last wrote this node */
  layer: number;
  parent: FsNode | undefined;
  children: Map<string, FsNode> | undefined;
}

export const WHITEOUT_PREFIX = ".wh.";
export const OPAQUE_MARKER = ".wh..wh..opq";

function split(path: string): string[] {
  // The paths of layer entries are absolute and clean: one split, without the filter's second array.
  if (path.length > 1 && path.charCodeAt(0) === 47 && !UNCLEAN.test(path)) return path.slice(1).split("/");
  return path.split("/").filter((part) => part !== "" && part !== ".");
}

/** Paths split() must filter: empty components (doubled or trailing slashes) and "." components. */
const UNCLEAN = /\/\/|\/$|\/\.(\/|$)/;

export function pathOf(node: FsNode): string {
  const parts: string[] = [];
  for (let current: FsNode | undefined = node; current?.parent; current = current.parent)
    parts.push(current.name);
  return `/${parts.reverse().join("/")}`;
}

export class FsTree {
  readonly root: FsNode = {
    name: "",
    kind: "directory",
    size: 0,
    linkname: "",
    layer: 0,
    parent: undefined,
    children: new Map(),
  };

  /** The node at exactly this path (no symlink resolution). */
  get(path: string): FsNode | undefined {
    let node: FsNode | undefined = this.root;
    if (path.length > 1 && path.charCodeAt(0) === 47 && !UNCLEAN.test(path)) {
      // Clean and absolute, as most lookups are: components found in place, without an array of them.
      let start = 1;
      while (node && start < path.length) {
        let end = path.indexOf("/", start);
        if (end < 0) end = path.length;
        node = node.children?.get(path.slice(start, end));
        start = end + 1;
      }
      return node;
    }
    for (const part of split(path)) {
      node = node.children?.get(part);
      if (!node) return undefined;
    }
    return node;
  }

  /**
   * The directory an entry was last added to. Entries of a layer come folder by folder, so most entries land in
   * the same folder as the one before and need no walk from the root (the walk showed in profiles). Forgotten
   * whenever a node is replaced or removed, since that may detach it.
   */
  private lastDir: { path: string; node: FsNode } | undefined;

  /** Add or replace the node at path; missing parents become directories. */
  set(path: string, kind: EntryKind, size: number, linkname: string, layer: number): FsNode {
    const slash = path.lastIndexOf("/");
    if (path.charCodeAt(0) !== 47 || slash === path.length - 1 || UNCLEAN.test(path))
      return this.setSlow(path, kind, size, linkname, layer);
    const dir = slash === 0 ? "/" : path.slice(0, slash);
    const parent = this.lastDir?.path === dir ? this.lastDir.node : this.directory(dir, layer);
    this.lastDir = { path: dir, node: parent };
    return this.setChild(parent, path.slice(slash + 1), kind, size, linkname, layer);
  }

  /** The directory at a clean absolute path, made (with its parents) where missing or not a directory. */
  private directory(path: string, layer: number): FsNode {
    let node = this.root;
    let start = 1;
    while (start < path.length) {
      let end = path.indexOf("/", start);
      if (end < 0) end = path.length;
      const part = path.slice(start, end);
      start = end + 1;
      node.children ??= new Map();
      let child = node.children.get(part);
      if (child?.kind !== "directory") {
        child = this.attach(node, part, "directory", 0, "", layer);
      }
      node = child;
    }
    return node;
  }

  private setChild(
    parent: FsNode,
    name: string,
    kind: EntryKind,
    size: number,
    linkname: string,
    layer: number,
  ): FsNode {
    const child = parent.children?.get(name);
    if (child && child.kind === "directory" && kind === "directory") {
      child.layer = layer;
      return child;
    }
    return this.attach(parent, name, kind, size, linkname, layer);
  }

  private attach(
    parent: FsNode,
    name: string,
    kind: EntryKind,
    size: number,
    linkname: string,
    layer: number,
  ): FsNode {
    parent.children ??= new Map();
    // Replacing a folder detaches everything below it, the remembered folder perhaps among them.
    if (parent.children.has(name)) this.lastDir = undefined;
    const child: FsNode = {
      name,
      kind,
      size,
      linkname,
      layer,
      parent,
      children: kind === "directory" ? new Map() : undefined,
    };
    parent.children.set(name, child);
    return child;
  }

  /** set() for paths that are not clean and absolute. */
  private setSlow(path: string, kind: EntryKind, size: number, linkname: string, layer: number): FsNode {
    const parts = split(path);
    let node = this.root;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i] as string;
      if (i === parts.length - 1) return this.setChild(node, part, kind, size, linkname, layer);
      let child = node.children?.get(part);
      if (child?.kind !== "directory") child = this.attach(node, part, "directory", 0, "", layer);
      node = child;
    }
    return node;
  }

  remove(path: string): FsNode | undefined {
    const node = this.get(path);
    this.lastDir = undefined;
    if (node?.parent) node.parent.children?.delete(node.name);
    return node;
  }

  /** An opaque directory hides everything lower layers put in it (but not what its own layer already added). */
  makeOpaque(path: string, layer: number): void {
    const node = this.get(path);
    this.lastDir = undefined;
    if (node?.children) clearBelow(node, layer);
  }

  /**
   * Resolve a path the way the kernel would: symlinks in every component (and the last one too), relative to
   * their directory. Returns undefined when a component is missing or a loop is found.
   */
  resolve(path: string, hops = 0): FsNode | undefined {
    if (hops > 40) return undefined;
    const parts = split(path);
    let node: FsNode = this.root;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i] as string;
      let next: FsNode | undefined;
      if (part === "..") next = node.parent ?? this.root;
      else next = node.children?.get(part);
      if (!next) return undefined;
      if (next.kind === "symlink") {
        const base = next.linkname.startsWith("/") ? "" : pathOf(node);
        const rest = parts.slice(i + 1).join("/");
        return this.resolve(`${base}/${next.linkname}${rest ? `/${rest}` : ""}`, hops + 1);
      }
      if (next.kind === "link") {
        const target = this.resolve(next.linkname, hops + 1);
        if (!target) return undefined;
        next = target;
      }
      node = next;
    }
    return node;
  }

  /** Sum of sizes of the node and everything under it. */
  sizeOf(node: FsNode): number {
    // Iterative, like every walk here: a layer can nest paths thousands of folders deep.
    let total = 0;
    const stack = [node];
    for (let current = stack.pop(); current; current = stack.pop()) {
      total += current.size;
      if (current.children) for (const child of current.children.values()) stack.push(child);
    }
    return total;
  }

  /** Depth-first visit in insertion order; return false from the visitor to skip a node's children. */
  walk(node: FsNode, visit: (node: FsNode, path: string) => boolean | undefined, at = pathOf(node)): void {
    if (visit(node, at) === false || !node.children) return;
    const stack = [{ children: node.children.values(), at }];
    for (let top = stack.at(-1); top; top = stack.at(-1)) {
      const next = top.children.next();
      if (next.done) {
        stack.pop();
        continue;
      }
      const child = next.value;
      const childAt = top.at === "/" ? `/${child.name}` : `${top.at}/${child.name}`;
      if (visit(child, childAt) !== false && child.children)
        stack.push({ children: child.children.values(), at: childAt });
    }
  }
}

function clearBelow(node: FsNode, layer: number): void {
  const stack = [node];
  for (let current = stack.pop(); current; current = stack.pop()) {
    if (!current.children) continue;
    for (const [name, child] of current.children) {
      if (child.layer !== layer) current.children.delete(name);
      else stack.push(child);
    }
  }
}
