// Stream one layer blob (plain, gzip or zstd tar, told apart by its first bytes) entry by entry, without touching disk.
import path from "node:path";
import { pipeline, Readable, Transform } from "node:stream";
import { createGunzip } from "node:zlib";
import { Decompress } from "fzstd";
import { type BlobReader, readAhead } from "./source.js";
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
async function* copied(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  for await (const chunk of chunks) yield Buffer.from(chunk);
}

/**
 * Bytes read at a time from an uncompressed layer. Between reads the parser passes over whatever no sink wants
 * (the data of every file but the few inspect looks into), so most of a layer's bytes are never read; smaller
 * windows skip more, larger ones cost fewer reads.
 */
const WINDOW = 256 * 1024;

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

/** Bytes of a blob as a stream, for callers that have no random access. */
async function* fromStart(first: Buffer, rest: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  yield first;
  for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
}

/**
 * Read every entry of a layer blob. With random access (a BlobReader, which the caller closes) the data of
 * uncompressed layers that no sink wants is skipped; a stream of chunks is read whole. Rejects when the data
 * is corrupt or truncated.
 */
export async function readLayer(
  blob: BlobReader | AsyncIterable<Buffer>,
  onEntry: EntryHandler,
): Promise<Compression> {
  if (Symbol.asyncIterator in blob) {
    const iterator = blob[Symbol.asyncIterator]();
    try {
      const first = await iterator.next();
      if (first.done) return "none";
      return await parseStream(fromStart(first.value, iterator), detectCompression(first.value), onEntry);
    } finally {
      // On a corrupt layer the reading stops early: close the blob's file now, not when the collector finds it.
      await iterator.return?.();
    }
  }
  const head = Buffer.alloc(4);
  const compression = detectCompression(head.subarray(0, await blob.read(head, 4, 0)));
  if (compression !== "none") return parseStream(readAhead(blob), compression, onEntry);
  const parser = parserFor(onEntry);
  const window = Buffer.allocUnsafe(Math.min(WINDOW, blob.size));
  let pos = 0;
  while (pos < blob.size && !parser.done) {
    const skip = Math.min(parser.skippable(), blob.size - pos);
    parser.skip(skip);
    pos += skip;
    if (pos >= blob.size) break;
    const read = await blob.read(window, window.length, pos);
    if (read === 0) break;
    parser.push(window.subarray(0, read));
    pos += read;
  }
  parser.end();
  return compression;
}

async function parseStream(
  chunks: AsyncIterable<Buffer>,
  compression: Compression,
  onEntry: EntryHandler,
): Promise<Compression> {
  const parser = parserFor(onEntry);
  const decoded: AsyncIterable<Buffer> =
    compression === "none"
      ? chunks
      : pipeline(
          Readable.from(copied(chunks)),
          compression === "gzip" ? createGunzip({ chunkSize: 1 << 20 }) : createZstdDecompress(),
          noop,
        );
  for await (const chunk of decoded) parser.push(chunk);
  parser.end();
  return compression;
}

function parserFor(onEntry: EntryHandler): TarParser {
  return new TarParser((header) => {
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
}

function noop(): void {}
