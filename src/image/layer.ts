// Stream one layer blob (plain, gzip or zstd tar, told apart by its first bytes) entry by entry, without touching disk.
import path from "node:path";
import { type Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { Decompress } from "fzstd";
import tar from "tar-stream";

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

/**
 * Called once per entry in tar order. To read the content, consume `content` fully before the returned promise
 * settles; content left unread is skipped.
 */
export type EntryHandler = (entry: LayerEntry, content: Readable) => Promise<void> | void;

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

/** Wait for the first bytes of a stream and put them back, so the stream can still be piped from its start. */
function peek(stream: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      stream.off("readable", onReadable);
      stream.off("end", onEnd);
      stream.off("error", onError);
    };
    const onReadable = () => {
      const chunk = stream.read() as Buffer | null;
      if (chunk === null) return;
      cleanup();
      stream.unshift(chunk);
      resolve(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.alloc(0));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    stream.on("readable", onReadable);
    stream.on("end", onEnd);
    stream.on("error", onError);
  });
}

export function normalizeEntryPath(name: string): string {
  const clean = path.posix.normalize(`/${name}`);
  return clean.length > 1 && clean.endsWith("/") ? clean.slice(0, -1) : clean;
}

function kindOf(type: string | null | undefined): EntryKind {
  switch (type) {
    case "file":
    case "contiguous-file":
      return "file";
    case "directory":
      return "directory";
    case "symlink":
      return "symlink";
    case "link":
      return "link";
    default:
      return "other";
  }
}

/** Read every entry of a layer blob. Rejects with a message naming the layer when the data is corrupt or truncated. */
export async function readLayer(blob: Readable, onEntry: EntryHandler): Promise<Compression> {
  const head = await peek(blob);
  const compression = detectCompression(head);
  if (head.length === 0) return compression;
  const extract = tar.extract();
  const stages: NodeJS.ReadWriteStream[] = [];
  if (compression === "gzip") stages.push(createGunzip());
  if (compression === "zstd") stages.push(createZstdDecompress());
  // The 'entry' event API: tar-stream's async iterator costs about three times as much per entry.
  extract.on("entry", (header, entry, next) => {
    const name = normalizeEntryPath(header.name);
    const kind = kindOf(header.type);
    const layerEntry: LayerEntry = {
      path: name,
      kind,
      size: kind === "file" ? header.size : 0,
      linkname: kind === "link" ? normalizeEntryPath(header.linkname ?? "") : (header.linkname ?? ""),
      mode: header.mode ?? 0,
    };
    // Move on once the handler is done and the entry has ended (the handler may have read it to the end).
    let handlerDone = false;
    let ended = false;
    let moved = false;
    const go = () => {
      if (moved) return;
      moved = true;
      next();
    };
    entry.once("end", () => {
      ended = true;
      if (handlerDone) go();
    });
    const handled = name === "/" ? undefined : onEntry(layerEntry, entry as unknown as Readable);
    const finish = () => {
      handlerDone = true;
      // Skip whatever the handler left unread.
      entry.resume();
      if (ended) go();
    };
    if (handled instanceof Promise) handled.then(finish, (error: Error) => extract.destroy(error));
    else finish();
  });
  // tar-stream's extract is a streamx Writable, which Node's pipeline accepts but its types do not name.
  const piping = pipeline([blob, ...stages, extract as unknown as NodeJS.WritableStream]);
  await piping;
  return compression;
}
