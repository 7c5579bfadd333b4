// One way to read the files of an image archive, whether it is a tar (read in place by offset) or a directory.
import { createReadStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { indexTar, type TarEntry } from "./tar-index.js";

export interface BlobSource {
  /** What the user named, for messages */
  readonly label: string;
  has(name: string): Promise<boolean>;
  size(name: string): Promise<number>;
  readText(name: string): Promise<string>;
  open(name: string): Readable;
}

/** Files inside a tar, found through its header index; symlinks and hardlinks between entries are followed. */
export class TarSource implements BlobSource {
  private constructor(
    readonly label: string,
    private readonly file: string,
    private readonly entries: Map<string, TarEntry>,
  ) {}

  static async open(file: string): Promise<TarSource> {
    return new TarSource(file, file, await indexTar(file));
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  private resolve(name: string): TarEntry | undefined {
    let current = name.replace(/^\.?\//, "");
    for (let hops = 0; hops < 16; hops++) {
      const entry = this.entries.get(current);
      if (!entry || entry.type === "file") return entry;
      // Old docker save writes layer.tar as a symlink to an identical layer of another image.
      current =
        entry.type === "symlink"
          ? path.posix.normalize(path.posix.join(path.posix.dirname(current), entry.linkname))
          : entry.linkname.replace(/^\.?\//, "");
    }
    return undefined;
  }

  async has(name: string): Promise<boolean> {
    return this.resolve(name) !== undefined;
  }

  async size(name: string): Promise<number> {
    return this.resolve(name)?.size ?? 0;
  }

  async readText(name: string): Promise<string> {
    const entry = this.resolve(name);
    if (!entry) throw new Error(`${name} is not in ${this.label}`);
    const chunks: Buffer[] = [];
    for await (const chunk of this.open(name)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  }

  open(name: string): Readable {
    const entry = this.resolve(name);
    if (!entry) throw new Error(`${name} is not in ${this.label}`);
    if (entry.size === 0) return Readable.from([]);
    return createReadStream(this.file, {
      start: entry.offset,
      end: entry.offset + entry.size - 1,
      highWaterMark: 1 << 20,
    });
  }
}

/** Files of an OCI layout (or unpacked docker save) directory. */
export class DirSource implements BlobSource {
  constructor(
    readonly label: string,
    private readonly dir: string,
  ) {}

  private full(name: string): string {
    const resolved = path.resolve(this.dir, name);
    if (!resolved.startsWith(path.resolve(this.dir) + path.sep))
      throw new Error(`${name} escapes ${this.dir}`);
    return resolved;
  }

  async has(name: string): Promise<boolean> {
    try {
      return (await stat(this.full(name))).isFile();
    } catch {
      return false;
    }
  }

  async size(name: string): Promise<number> {
    return (await stat(this.full(name))).size;
  }

  async readText(name: string): Promise<string> {
    return readFile(this.full(name), "utf8");
  }

  open(name: string): Readable {
    return createReadStream(this.full(name), { highWaterMark: 1 << 20 });
  }
}
