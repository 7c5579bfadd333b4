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

/** A folder's node, and its `__pycache__`'s .pyc files by the module name they were compiled from. */
interface Folder {
  node: FsNode | undefined;
  bytecode: Map<string, FsNode[]> | undefined;
}

/**
 * The folders of one package's files, each looked up once: a RECORD lists hundreds of files in a few dozen
 * folders, and a walk from the root per file showed in profiles.
 */
class Folders {
  private readonly known = new Map<string, Folder>();
  constructor(private readonly tree: FsTree) {}

  get(dir: string): Folder {
    let folder = this.known.get(dir);
    if (!folder) {
      folder = { node: this.tree.get(dir), bytecode: undefined };
      this.known.set(dir, folder);
    }
    return folder;
  }

  /** The .pyc files in `dir/__pycache__` whose name starts with `stem.` (stem without dots). */
  bytecode(folder: Folder, stem: string): FsNode[] {
    if (!folder.bytecode) {
      folder.bytecode = new Map();
      const cache = folder.node?.children?.get("__pycache__");
      if (cache?.kind === "directory" && cache.children)
        for (const child of cache.children.values()) {
          if (child.kind !== "file" || !child.name.endsWith(".pyc")) continue;
          const dot = child.name.indexOf(".");
          const key = child.name.slice(0, dot);
          const list = folder.bytecode.get(key);
          if (list) list.push(child);
          else folder.bytecode.set(key, [child]);
        }
    }
    return folder.bytecode.get(stem) ?? [];
  }
}

/**
 * Bytecode of `module.py` that RECORD does not list: `__pycache__/module.<tag>.pyc` beside it. compileall run
 * after `pip install` or `poetry install` (as couplet's own Dockerfiles do) writes these.
 */
function bytecodeOf(tree: FsTree, file: string, listed: Set<string>, folders: Folders): number {
  let bytes = 0;
  const slash = file.lastIndexOf("/");
  const dir = file.slice(0, slash);
  const name = file.slice(slash + 1);
  // As path.basename(file, ".py"), which keeps a name that is only the extension.
  const stem = name === ".py" ? name : name.slice(0, -".py".length);
  // A module name with dots in it (`a.b.py`) cannot be imported, so `stem.` never matches another module's.
  const candidates = stem.includes(".")
    ? [...(tree.get(`${dir}/__pycache__`)?.children?.values() ?? [])].filter(
        (child) => child.kind === "file" && child.name.startsWith(`${stem}.`) && child.name.endsWith(".pyc"),
      )
    : folders.bytecode(folders.get(dir), stem);
  for (const child of candidates) if (!listed.has(`${dir}/__pycache__/${child.name}`)) bytes += child.size;
  return bytes;
}

/** The node at a clean absolute path, its folder looked up through `folders`. */
function lookup(tree: FsTree, file: string, folders: Folders): FsNode | undefined {
  const slash = file.lastIndexOf("/");
  if (slash <= 0 || slash === file.length - 1) return tree.get(file);
  return folders.get(file.slice(0, slash)).node?.children?.get(file.slice(slash + 1));
}

/** A joined path that normalizing would change: doubled slashes, "." or ".." components (RECORD's `../../bin`). */
const UNCLEAN = /\/\/|\/\.\.?(\/|$)/;

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
          record.map((file) => {
            const joined = file.startsWith("/") ? file : `${at}/${file}`;
            return UNCLEAN.test(joined) ? path.posix.normalize(joined) : joined;
          }),
        );
        const folders = new Folders(tree);
        for (const file of listed) {
          const found = lookup(tree, file, folders);
          if (found?.kind !== "file") continue;
          bytes += found.size;
          layer = Math.max(layer, found.layer);
          if (file.endsWith(".py")) bytecodeBytes += bytecodeOf(tree, file, listed, folders);
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
