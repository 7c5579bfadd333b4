// Index an outer image tar (docker save, OCI archive) by reading only its headers, so blobs can be streamed in any order.
import { open } from "node:fs/promises";

/** Where one regular file's bytes sit inside the tar. */
export interface TarEntry {
  name: string;
  offset: number;
  size: number;
  /** "file", "symlink", "link", "directory", ... (only files and links are indexed) */
  type: "file" | "symlink" | "link";
  linkname: string;
}

/** Raised for anything that is not a well-formed tar; the caller turns it into one line for the user. */
export class TarFormatError extends Error {}

const BLOCK = 512;

function cstring(buf: Buffer, start: number, length: number): string {
  const end = buf.indexOf(0, start);
  return buf.toString("utf8", start, end === -1 || end > start + length ? start + length : end);
}

function octal(buf: Buffer, start: number, length: number): number {
  // GNU base-256 for sizes over 8 GiB: high bit of the first byte set.
  if ((buf[start] ?? 0) & 0x80) {
    let value = (buf[start] ?? 0) & 0x7f;
    for (let i = start + 1; i < start + length; i++) value = value * 256 + (buf[i] ?? 0);
    return value;
  }
  const text = cstring(buf, start, length).trim();
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) throw new TarFormatError(`bad octal number ${JSON.stringify(text)}`);
  return Number.parseInt(text, 8);
}

function checksumOk(header: Buffer): boolean {
  const stored = octal(header, 148, 8);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : (header[i] ?? 0);
  return sum === stored;
}

/** Parse pax extended header records: "<len> <key>=<value>\n" repeated. */
export function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space === -1) break;
    const len = Number.parseInt(data.toString("ascii", pos, space), 10);
    if (!Number.isFinite(len) || len <= 0) throw new TarFormatError("bad pax record");
    const record = data.toString("utf8", space + 1, pos + len - 1);
    const eq = record.indexOf("=");
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    pos += len;
  }
  return out;
}

function normalize(name: string): string {
  return name.replace(/^(\.\/)+/, "").replace(/^\/+/, "");
}

/**
 * Read the headers of the tar at `path` (skipping over file data with positioned reads) and return its files.
 * Throws TarFormatError when a header is corrupt or the file ends inside an entry.
 */
export async function indexTar(path: string): Promise<Map<string, TarEntry>> {
  const handle = await open(path, "r");
  try {
    const { size: fileSize } = await handle.stat();
    const entries = new Map<string, TarEntry>();
    const header = Buffer.alloc(BLOCK);
    let offset = 0;
    let longName: string | undefined;
    let longLink: string | undefined;
    let pax: Record<string, string> = {};
    let globalPax: Record<string, string> = {};
    const readData = async (at: number, size: number): Promise<Buffer> => {
      if (at + size > fileSize) throw new TarFormatError("truncated: archive ends inside an entry");
      const data = Buffer.alloc(size);
      await handle.read(data, 0, size, at);
      return data;
    };
    for (;;) {
      if (offset + BLOCK > fileSize) {
        // Tolerate a missing end-of-archive marker only when the file ends exactly after an entry.
        if (offset === fileSize && entries.size > 0) break;
        throw new TarFormatError("truncated: archive ends inside a header");
      }
      await handle.read(header, 0, BLOCK, offset);
      if (header.every((b) => b === 0)) break;
      if (!checksumOk(header)) throw new TarFormatError(`corrupt tar header at byte ${offset}`);
      const typeflag = String.fromCharCode(header[156] ?? 0);
      const size = pax.size !== undefined ? Number(pax.size) : octal(header, 124, 12);
      const dataAt = offset + BLOCK;
      const next = dataAt + Math.ceil(size / BLOCK) * BLOCK;
      if (dataAt + size > fileSize) throw new TarFormatError("truncated: archive ends inside an entry");
      if (typeflag === "x") {
        pax = { ...globalPax, ...parsePax(await readData(dataAt, size)) };
      } else if (typeflag === "g") {
        globalPax = { ...globalPax, ...parsePax(await readData(dataAt, size)) };
      } else if (typeflag === "L") {
        longName = cstring(await readData(dataAt, size), 0, size);
      } else if (typeflag === "K") {
        longLink = cstring(await readData(dataAt, size), 0, size);
      } else {
        const isUstar = header.toString("ascii", 257, 262) === "ustar";
        const prefix = isUstar ? cstring(header, 345, 155) : "";
        const base = cstring(header, 0, 100);
        const name = normalize(
          pax.path ?? globalPax.path ?? longName ?? (prefix ? `${prefix}/${base}` : base),
        );
        const linkname = pax.linkpath ?? longLink ?? cstring(header, 157, 100);
        const type =
          typeflag === "0" || typeflag === "\0" || typeflag === "7"
            ? "file"
            : typeflag === "2"
              ? "symlink"
              : typeflag === "1"
                ? "link"
                : undefined;
        if (type)
          entries.set(name, { name, offset: dataAt, size: type === "file" ? size : 0, type, linkname });
        pax = {};
        longName = undefined;
        longLink = undefined;
      }
      offset = next;
    }
    return entries;
  } finally {
    await handle.close();
  }
}
