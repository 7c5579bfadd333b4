// The Python distributions installed in an image's final filesystem: name, version and the bytes each one owns.
import path from "node:path";
import { normalizeName } from "../project/names.js";
import type { FsNode, FsTree } from "./fs-tree.js";

export interface InstalledPackage {
  /** PEP 503 normalized */
  name: string;
  version: string;
  /** The .dist-info folder */
  dir: string;
  sitePackages: string;
  /** Bytes of the files its RECORD lists (the dist-info folder alone when there is no RECORD to read) */
  bytes: number;
  /** Bytes of __pycache__ files compiled from its modules after the install (RECORD does not list them) */
  bytecodeBytes: number;
  /** Index of the last layer that wrote one of the files it installed (bytecode compiled later aside) */
  layer: number;
}

const DIST_INFO = /^(.+?)-([^-]+)\.dist-info$/;
const SITE_PACKAGES = /\/(site|dist)-packages$/;

function folderBytes(tree: FsTree, node: FsNode): { bytes: number; layer: number } {
  let bytes = 0;
  let layer = node.layer;
  tree.walk(node, (child) => {
    if (child.kind === "file") {
      bytes += child.size;
      if (child.layer > layer) layer = child.layer;
    }
    return true;
  });
  return { bytes, layer };
}

/**
 * Bytecode of `module.py` that RECORD does not list: `__pycache__/module.<tag>.pyc` beside it. compileall run
 * after `pip install` or `poetry install` (as couplet's own Dockerfiles do) writes these.
 */
function bytecodeOf(tree: FsTree, file: string, listed: Set<string>): number {
  let bytes = 0;
  const cache = tree.get(`${path.posix.dirname(file)}/__pycache__`);
  if (!cache?.children) return bytes;
  const prefix = `${path.posix.basename(file, ".py")}.`;
  for (const child of cache.children.values()) {
    if (child.kind !== "file" || !child.name.startsWith(prefix) || !child.name.endsWith(".pyc")) continue;
    // A module name with dots in it (`a.b.py`) cannot be imported, so `prefix` never matches another module's.
    const at = `${path.posix.dirname(file)}/__pycache__/${child.name}`;
    if (!listed.has(at)) bytes += child.size;
  }
  return bytes;
}

/**
 * Every `*.dist-info` folder directly in a site-packages or dist-packages folder, sized by the RECORD it holds
 * (`records`: RECORD path -> the paths it lists, relative to site-packages) when there is one.
 */
export function installedPackages(tree: FsTree, records: Map<string, string[]>): InstalledPackage[] {
  const out: InstalledPackage[] = [];
  tree.walk(tree.root, (node, at) => {
    if (node.kind !== "directory") return true;
    if (!SITE_PACKAGES.test(at)) return !at.includes("-packages/");
    for (const child of node.children?.values() ?? []) {
      const match = DIST_INFO.exec(child.name);
      if (!match || child.kind !== "directory") continue;
      const dir = `${at}/${child.name}`;
      const record = records.get(`${dir}/RECORD`);
      let bytes = 0;
      let bytecodeBytes = 0;
      let layer = child.layer;
      if (record) {
        // Paths are relative to site-packages, except where an installer wrote absolute ones (Poetry does for
        // the project's own editable install).
        const listed = new Set(
          record.map((file) => path.posix.normalize(file.startsWith("/") ? file : `${at}/${file}`)),
        );
        for (const file of listed) {
          const found = tree.get(file);
          if (found?.kind !== "file") continue;
          bytes += found.size;
          layer = Math.max(layer, found.layer);
          if (file.endsWith(".py")) bytecodeBytes += bytecodeOf(tree, file, listed);
        }
      } else ({ bytes, layer } = folderBytes(tree, child));
      out.push({
        name: normalizeName(match[1] as string),
        version: match[2] as string,
        dir,
        sitePackages: at,
        bytes,
        bytecodeBytes,
        layer,
      });
    }
    return false;
  });
  return out;
}
