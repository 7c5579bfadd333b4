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
    for (const part of split(path)) {
      node = node.children?.get(part);
      if (!node) return undefined;
    }
    return node;
  }

  /** Add or replace the node at path; missing parents become directories. */
  set(path: string, kind: EntryKind, size: number, linkname: string, layer: number): FsNode {
    const parts = split(path);
    let node = this.root;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i] as string;
      node.children ??= new Map();
      let child = node.children.get(part);
      const last = i === parts.length - 1;
      if (last) {
        if (child && child.kind === "directory" && kind === "directory") {
          child.layer = layer;
          return child;
        }
        child = {
          name: part,
          kind,
          size,
          linkname,
          layer,
          parent: node,
          children: kind === "directory" ? new Map() : undefined,
        };
        node.children.set(part, child);
        return child;
      }
      if (child?.kind !== "directory") {
        child = {
          name: part,
          kind: "directory",
          size: 0,
          linkname: "",
          layer,
          parent: node,
          children: new Map(),
        };
        node.children.set(part, child);
      }
      node = child;
    }
    return node;
  }

  remove(path: string): FsNode | undefined {
    const node = this.get(path);
    if (node?.parent) node.parent.children?.delete(node.name);
    return node;
  }

  /** An opaque directory hides everything lower layers put in it (but not what its own layer already added). */
  makeOpaque(path: string, layer: number): void {
    const node = this.get(path);
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
