// Decode tar header blocks (ustar, GNU, pax), shared by the outer-archive index and the streaming layer parser.

export const BLOCK = 512;

/** Raised for anything that is not a well-formed tar; callers turn it into one line for the user. */
export class TarFormatError extends Error {}

export function cstring(buf: Buffer, start: number, length: number): string {
  let end = start;
  const limit = start + length;
  while (end < limit && buf[end] !== 0) end++;
  return buf.toString("utf8", start, end);
}

export function octal(buf: Buffer, start: number, length: number): number {
  // GNU base-256 for values that do not fit in octal: high bit of the first byte set.
  if ((buf[start] ?? 0) & 0x80) {
    let value = (buf[start] ?? 0) & 0x7f;
    for (let i = start + 1; i < start + length; i++) value = value * 256 + (buf[i] ?? 0);
    return value;
  }
  let value = 0;
  let seen = false;
  for (let i = start; i < start + length; i++) {
    const c = buf[i] as number;
    if (c === 0 || (c === 0x20 && seen)) break;
    if (c === 0x20) continue;
    if (c < 0x30 || c > 0x37) throw new TarFormatError("invalid tar header (bad octal number)");
    value = value * 8 + (c - 0x30);
    seen = true;
  }
  return value;
}

export function checksumOk(header: Buffer, at = 0): boolean {
  const stored = octal(header, at + 148, 8);
  let sum = 8 * 32;
  for (let i = at; i < at + 148; i++) sum += header[i] as number;
  for (let i = at + 156; i < at + BLOCK; i++) sum += header[i] as number;
  return sum === stored;
}

export function isZeroBlock(buf: Buffer, at = 0): boolean {
  for (let i = at; i < at + BLOCK; i++) if (buf[i] !== 0) return false;
  return true;
}

/** Parse pax extended header records: "<len> <key>=<value>\n" repeated. */
export function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space === -1) break;
    const len = Number.parseInt(data.toString("ascii", pos, space), 10);
    if (!Number.isFinite(len) || len <= 0) throw new TarFormatError("invalid pax record");
    const record = data.toString("utf8", space + 1, pos + len - 1);
    const eq = record.indexOf("=");
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    pos += len;
  }
  return out;
}

/** Longest pax or GNU long-name record accepted: real ones hold a path or two, so this only stops a bomb. */
export const MAX_META = 1024 * 1024;

/** An entry's size: the pax `size` record when there is one (digits only, as POSIX says), else the header's. */
export function entrySize(pax: Record<string, string> | undefined, headerSize: number): number {
  const text = pax?.size;
  if (text === undefined) return headerSize;
  const size = /^[0-9]{1,15}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(size))
    throw new TarFormatError(`invalid pax size ${JSON.stringify(text.slice(0, 40))}`);
  return size;
}

export interface RawHeader {
  /** As stored (ustar prefix joined); pax and GNU long names are applied by the caller */
  name: string;
  typeflag: string;
  size: number;
  linkname: string;
  mode: number;
}

/** Decode the header block at `at`; throws TarFormatError when its checksum is wrong. */
export function decodeHeader(buf: Buffer, at = 0): RawHeader {
  if (!checksumOk(buf, at)) throw new TarFormatError("invalid tar header (checksum mismatch)");
  const isUstar = buf.toString("ascii", at + 257, at + 262) === "ustar";
  // GNU tar writes "ustar  " and uses the prefix field for other things.
  const isPosix = isUstar && buf[at + 262] === 0;
  const prefix = isPosix ? cstring(buf, at + 345, 155) : "";
  const base = cstring(buf, at, 100);
  return {
    name: prefix ? `${prefix}/${base}` : base,
    typeflag: String.fromCharCode(buf[at + 156] || 0x30),
    size: octal(buf, at + 124, 12),
    linkname: cstring(buf, at + 157, 100),
    mode: octal(buf, at + 100, 8),
  };
}
