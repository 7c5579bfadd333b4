// Stream one layer blob (plain, gzip or zstd tar, told apart by its first bytes) entry by entry, without touching disk.
import path from "node:path";
import { pipeline, Readable, Transform } from "node:stream";
import { createGunzip } from "node:zlib";
import { Decompress } from "fzstd";
import { type EntrySink, TarParser } from "./tar-parser.js";

export type EntryKind = "file" | "directory" | "symlink" | "link" | "other";

export interface LayerEntry {
  /** Absolute, normalized: "/usr/lib/x.so" */
  path: string;
  kind: EntryKind;
  /** Bytes of content (0 for everything but regular files) */
  size: number;
  /** Symlink target, or the absolute path a hardlink points at */
  linkname: string;
  mode: number;
}

/** Called once per entry in tar order; return a sink to receive the entry's content (synchronously, in order). */
export type EntryHandler = (entry: LayerEntry) => EntrySink | undefined;

export type Compression = "gzip" | "zstd" | "none";

export function detectCompression(head: Uint8Array): Compression {
  if (head[0] === 0x1f && head[1] === 0x8b) return "gzip";
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return "zstd";
  return "none";
}

/** fzstd's streaming decoder as a Node transform (Node 20's zlib has no zstd). */
export function createZstdDecompress(): Transform {
  let decoder: Decompress;
  const transform = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      try {
        decoder.push(chunk);
        callback();
      } catch (error) {
        callback(new Error(`zstd: ${(error as Error).message}`));
      }
    },
    flush(callback) {
      try {
        decoder.push(new Uint8Array(0), true);
        callback();
      } catch (error) {
        callback(new Error(`zstd: ${(error as Error).message}`));
      }
    },
  });
  decoder = new Decompress((data) => {
    // fzstd may reuse its window buffer after the callback returns: copy.
    if (data.length) transform.push(Buffer.from(data));
  });
  return transform;
}

/** The chunks again, copied: decompressors hold on to their input, and the reader reuses its buffers. */
async function* copied(first: Buffer, rest: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  yield Buffer.from(first);
  for (;;) {
    const next = await rest.next();
    if (next.done) return;
    yield Buffer.from(next.value);
  }
}

export function normalizeEntryPath(name: string): string {
  const clean = path.posix.normalize(`/${name}`);
  return clean.length > 1 && clean.endsWith("/") ? clean.slice(0, -1) : clean;
}

function kindOf(typeflag: string): EntryKind {
  switch (typeflag) {
    case "0":
    case "7":
      return "file";
    case "5":
      return "directory";
    case "2":
      return "symlink";
    case "1":
      return "link";
    default:
      return "other";
  }
}

/** Read every entry of a layer blob. Rejects when the data is corrupt or truncated. */
export async function readLayer(blob: AsyncIterable<Buffer>, onEntry: EntryHandler): Promise<Compression> {
  const iterator = blob[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) return "none";
  const compression = detectCompression(first.value);
  const decoded: AsyncIterable<Buffer> =
    compression === "none"
      ? (async function* () {
          yield first.value;
          for (;;) {
            const next = await iterator.next();
            if (next.done) return;
            yield next.value;
          }
        })()
      : pipeline(
          Readable.from(copied(first.value, iterator)),
          compression === "gzip" ? createGunzip({ chunkSize: 1 << 20 }) : createZstdDecompress(),
          noop,
        );
  const parser = new TarParser((header) => {
    const name = normalizeEntryPath(header.name);
    if (name === "/") return undefined;
    const kind = kindOf(header.typeflag);
    return onEntry({
      path: name,
      kind,
      size: kind === "file" ? header.size : 0,
      linkname: kind === "link" ? normalizeEntryPath(header.linkname) : header.linkname,
      mode: header.mode,
    });
  });
  try {
    for await (const chunk of decoded) parser.push(chunk);
    parser.end();
  } finally {
    // On a corrupt layer the loop stops early: close the blob's file now, not when the collector finds it.
    await iterator.return?.();
  }
  return compression;
}

function noop(): void {}
