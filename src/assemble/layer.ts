// A layer as plain data (sorted paths, fixed owners, modes and times) and its deterministic tar and gzip bytes.
import { createHash } from "node:crypto";
import path from "node:path";
import { gzip } from "node:zlib";
import { pack } from "tar-stream";

export interface LayerEntry {
  /** Absolute path in the image, e.g. /app/.venv/bin/python */
  path: string;
  type: "file" | "directory" | "symlink";
  mode: number;
  uid: number;
  gid: number;
  data?: Buffer;
  linkname?: string;
}

/** The entries of one layer; parent folders are added as root-owned 0755 unless given. */
export class LayerTree {
  private readonly entries = new Map<string, LayerEntry>();

  add(entry: LayerEntry): void {
    const clean = path.posix.normalize(entry.path);
    if (!clean.startsWith("/") || clean === "/") throw new Error(`bad layer path ${entry.path}`);
    for (let dir = path.posix.dirname(clean); dir !== "/"; dir = path.posix.dirname(dir))
      if (!this.entries.has(dir))
        this.entries.set(dir, { path: dir, type: "directory", mode: 0o755, uid: 0, gid: 0 });
    this.entries.set(clean, { ...entry, path: clean });
  }

  file(file: string, data: Buffer | string, mode = 0o644, owner = 0): void {
    this.add({ path: file, type: "file", mode, uid: owner, gid: owner, data: Buffer.from(data) });
  }

  dir(dir: string, mode = 0o755, owner = 0): void {
    this.add({ path: dir, type: "directory", mode, uid: owner, gid: owner });
  }

  symlink(link: string, target: string): void {
    this.add({ path: link, type: "symlink", mode: 0o777, uid: 0, gid: 0, linkname: target });
  }

  has(file: string): boolean {
    return this.entries.has(file);
  }

  get size(): number {
    let total = 0;
    for (const entry of this.entries.values()) total += entry.data?.length ?? 0;
    return total;
  }

  get count(): number {
    return this.entries.size;
  }

  /** Byte order of the paths: the same on every machine, whatever its locale. */
  sorted(): LayerEntry[] {
    return [...this.entries.values()].sort((a, b) =>
      Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)),
    );
  }

  merge(other: LayerTree): void {
    for (const entry of other.entries.values()) this.add(entry);
  }
}

export interface PackedLayer {
  /** sha256 of the uncompressed tar */
  diffId: string;
  /** gzip of the tar: the blob every output stores */
  gzip: Buffer;
  digest: string;
}

function sha256(data: Buffer): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

/**
 * Pack the entries in sorted order with one timestamp and numeric owners only, then gzip with fixed settings:
 * Node's zlib writes no file name and a zero mtime in the gzip header, so equal tars give equal blobs.
 */
export async function packLayer(tree: LayerTree, mtime: Date): Promise<PackedLayer & { tar: Buffer }> {
  const packer = pack();
  const chunks: Buffer[] = [];
  packer.on("data", (chunk) => chunks.push(chunk as Buffer));
  const done = new Promise<void>((resolve, reject) => {
    packer.on("end", resolve);
    packer.on("error", reject);
  });
  for (const entry of tree.sorted()) {
    const header = {
      name: entry.path.slice(1),
      mode: entry.mode,
      uid: entry.uid,
      gid: entry.gid,
      uname: "",
      gname: "",
      mtime,
    };
    if (entry.type === "file")
      packer.entry({ ...header, type: "file", size: entry.data?.length ?? 0 }, entry.data ?? Buffer.alloc(0));
    else if (entry.type === "directory") packer.entry({ ...header, type: "directory" });
    else packer.entry({ ...header, type: "symlink", linkname: entry.linkname ?? "" });
  }
  packer.finalize();
  await done;
  const tar = Buffer.concat(chunks);
  const compressed = await new Promise<Buffer>((resolve, reject) =>
    gzip(tar, { level: 6 }, (error, result) => (error ? reject(error) : resolve(result))),
  );
  return { tar, diffId: sha256(tar), gzip: compressed, digest: sha256(compressed) };
}
