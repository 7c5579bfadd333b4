// Index an outer image tar (docker save, OCI archive) by reading only its headers, so blobs can be streamed in any order.
import { open } from "node:fs/promises";
import {
  BLOCK,
  checksumOk,
  cstring,
  decodeHeader,
  entrySize,
  MAX_META,
  octal,
  parsePax,
  TarFormatError,
} from "./tar-header.js";

export { TarFormatError };

/** Where one regular file's bytes sit inside the tar. */
export interface TarEntry {
  name: string;
  offset: number;
  size: number;
  /** "file", "symlink", "link", "directory", ... (only files and links are indexed) */
  type: "file" | "symlink" | "link";
  linkname: string;
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
      if (size > MAX_META) throw new TarFormatError(`a ${size}-byte pax or long-name record`);
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
      const size = entrySize(pax, octal(header, 124, 12));
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
        const raw = decodeHeader(header);
        const name = normalize(pax.path ?? globalPax.path ?? longName ?? raw.name);
        const linkname = pax.linkpath ?? longLink ?? raw.linkname;
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
