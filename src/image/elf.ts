// Read an ELF file's dynamic section (DT_NEEDED, DT_SONAME, DT_RUNPATH/DT_RPATH) from a stream, keeping only the bytes it needs.

export interface ElfInfo {
  class: 32 | 64;
  littleEndian: boolean;
  /** e_machine: 62 = x86-64, 183 = aarch64, ... */
  machine: number;
  needed: string[];
  soname: string | undefined;
  runpath: string[];
  rpath: string[];
}

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PF_X = 1;
const DT_NEEDED = 1;
const DT_STRTAB = 5;
const DT_STRSZ = 10;
const DT_SONAME = 14;
const DT_RPATH = 15;
const DT_RUNPATH = 29;

interface Segment {
  type: number;
  flags: number;
  offset: number;
  vaddr: number;
  filesz: number;
}

interface Header {
  class: 32 | 64;
  le: boolean;
  machine: number;
  segments: Segment[];
}

export function isElfMagic(head: Uint8Array): boolean {
  return head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46;
}

/** Bytes at arbitrary offsets of a file seen once, front to back. */
class Retained {
  private chunks: { offset: number; data: Buffer }[] = [];

  add(offset: number, data: Buffer): void {
    // Copied: the caller's buffer is reused after push() returns.
    this.chunks.push({ offset, data: Buffer.from(data) });
  }

  get size(): number {
    let total = 0;
    for (const chunk of this.chunks) total += chunk.data.length;
    return total;
  }

  drop(keep: (start: number, end: number) => boolean): void {
    this.chunks = this.chunks.filter((c) => keep(c.offset, c.offset + c.data.length));
  }

  read(offset: number, length: number): Buffer | undefined {
    // A header may claim any size; nothing longer than what is held can be read, so do not allocate for it.
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || length < 0 || length > this.size)
      return undefined;
    const out = Buffer.alloc(length);
    let filled = 0;
    for (const chunk of this.chunks) {
      const start = Math.max(offset, chunk.offset);
      const end = Math.min(offset + length, chunk.offset + chunk.data.length);
      if (start >= end) continue;
      chunk.data.copy(out, start - offset, start - chunk.offset, end - chunk.offset);
      filled += end - start;
    }
    return filled === length ? out : undefined;
  }
}

function num(buf: Buffer, at: number, size: 2 | 4 | 8, le: boolean): number {
  if (size === 2) return le ? buf.readUInt16LE(at) : buf.readUInt16BE(at);
  if (size === 4) return le ? buf.readUInt32LE(at) : buf.readUInt32BE(at);
  return Number(le ? buf.readBigUInt64LE(at) : buf.readBigUInt64BE(at));
}

/** Where the program header table is, from the first 64 bytes (or fewer: the file's start). */
interface Ident {
  class: 32 | 64;
  le: boolean;
  machine: number;
  phoff: number;
  phentsize: number;
  phnum: number;
}

/** Bytes of the ELF header for each class. */
const EH_SIZE = { 32: 52, 64: 64 } as const;

/** undefined: not an ELF file (or one with a program header table ld.so would not load); "short": need more bytes. */
function parseIdent(eh: Buffer): Ident | "short" | undefined {
  if (eh.length < 20) return "short";
  if (!isElfMagic(eh)) return undefined;
  const cls = eh[4] === 2 ? 64 : eh[4] === 1 ? 32 : undefined;
  if (!cls) return undefined;
  if (eh.length < EH_SIZE[cls]) return "short";
  const le = eh[5] === 1;
  const phentsize = num(eh, cls === 64 ? 54 : 42, 2, le);
  const phnum = num(eh, cls === 64 ? 56 : 44, 2, le);
  // Entries shorter than the fields read from them are not a program header table ld.so would load.
  if (phnum > 0 && phentsize < (cls === 64 ? 56 : 32)) return undefined;
  return {
    class: cls,
    le,
    machine: num(eh, 18, 2, le),
    phoff: cls === 64 ? num(eh, 32, 8, le) : num(eh, 28, 4, le),
    phentsize,
    phnum,
  };
}

function parseSegments(table: Buffer, ident: Ident): Segment[] {
  const { le, phentsize } = ident;
  const segments: Segment[] = [];
  for (let i = 0; i < ident.phnum; i++) {
    const at = i * phentsize;
    if (ident.class === 64)
      segments.push({
        type: num(table, at, 4, le),
        flags: num(table, at + 4, 4, le),
        offset: num(table, at + 8, 8, le),
        vaddr: num(table, at + 16, 8, le),
        filesz: num(table, at + 32, 8, le),
      });
    else
      segments.push({
        type: num(table, at, 4, le),
        offset: num(table, at + 4, 4, le),
        vaddr: num(table, at + 8, 4, le),
        filesz: num(table, at + 16, 4, le),
        flags: num(table, at + 24, 4, le),
      });
  }
  return segments;
}

function parseHeader(bytes: Retained, fileSize: number): Header | "need-more" | undefined {
  const ident = parseIdent(bytes.read(0, Math.min(64, fileSize)) ?? Buffer.alloc(0));
  if (ident === "short")
    return fileSize < 20 || bytes.size >= Math.min(64, fileSize) ? undefined : "need-more";
  if (!ident) return undefined;
  const { class: cls, le, machine } = ident;
  if (ident.phnum === 0) return { class: cls, le, machine, segments: [] };
  const table = bytes.read(ident.phoff, ident.phentsize * ident.phnum);
  if (!table) return ident.phoff + ident.phentsize * ident.phnum > fileSize ? undefined : "need-more";
  return { class: cls, le, machine, segments: parseSegments(table, ident) };
}

interface DynamicEntry {
  tag: number;
  value: number;
}

function parseDynamic(table: Buffer, cls: 32 | 64, le: boolean): DynamicEntry[] {
  const entrySize = cls === 64 ? 16 : 8;
  const word = cls === 64 ? 8 : 4;
  const entries: DynamicEntry[] = [];
  for (let at = 0; at + entrySize <= table.length; at += entrySize) {
    const tag = num(table, at, word, le);
    if (tag === 0) break;
    entries.push({ tag, value: num(table, at + word, word, le) });
  }
  return entries;
}

/** Where DT_STRTAB's address lands in the file, and DT_STRSZ; undefined when there is no string table. */
function stringTable(
  entries: DynamicEntry[],
  segments: Segment[],
): { offset: number; size: number } | undefined {
  const address = entries.find((e) => e.tag === DT_STRTAB)?.value;
  if (address === undefined) return undefined;
  const size = entries.find((e) => e.tag === DT_STRSZ)?.value ?? 0;
  const load = segments.find((s) => s.type === PT_LOAD && address >= s.vaddr && address < s.vaddr + s.filesz);
  // Unlinked objects store file offsets rather than addresses; fall back to that.
  return { offset: load ? address - load.vaddr + load.offset : address, size };
}

function infoOf(
  base: Omit<ElfInfo, "needed" | "soname" | "runpath" | "rpath">,
  entries: DynamicEntry[],
  strtab: Buffer,
): ElfInfo {
  const str = (offset: number) => {
    const end = strtab.indexOf(0, offset);
    return strtab.toString("utf8", offset, end === -1 ? strtab.length : end);
  };
  const list = (tag: number) =>
    entries
      .filter((e) => e.tag === tag)
      .flatMap((e) => str(e.value).split(":"))
      .filter((p) => p !== "");
  const soname = entries.find((e) => e.tag === DT_SONAME);
  return {
    ...base,
    needed: entries.filter((e) => e.tag === DT_NEEDED).map((e) => str(e.value)),
    soname: soname ? str(soname.value) : undefined,
    runpath: list(DT_RUNPATH),
    rpath: list(DT_RPATH),
  };
}

const noLibraries = { needed: [], soname: undefined, runpath: [], rpath: [] };

const dynamicPastEnd = (dynamic: Segment) =>
  `its dynamic section (${dynamic.filesz} bytes at ${dynamic.offset}) runs past the end of the file`;
const stringsPastEnd = (at: { offset: number; size: number }) =>
  `its string table (${at.size} bytes at ${at.offset}) runs past the end of the file`;

/** A cap on what one file may make us hold; past it the file is reported as unreadable rather than exhausting memory. */
const MAX_RETAINED = 256 * 1024 * 1024;
const tooLarge = `more than ${MAX_RETAINED / 1024 / 1024} MiB would have to be kept to find its dynamic section`;

/**
 * Feed a file's bytes in order with push(), then call finish(). Executable segments (code) are dropped as they
 * stream past unless they hold the headers, because the dynamic string table is never there in modern layouts;
 * everything else is kept until the dynamic section has been seen. From then on only the string table it names
 * is kept: what follows the dynamic section (the rest of the data segment, symbol tables, debug information) was
 * copied and held to the end of the file before, on the corpus's scientific image 123 MB of copies for 288 MB of
 * shared objects streamed.
 */
export class ElfScanner {
  private bytes = new Retained();
  private seen = 0;
  private header: Header | undefined;
  /** The dynamic section's entries, once it has been seen whole */
  private entries: DynamicEntry[] | undefined;
  /** Where the string table is, once the dynamic section has been read (undefined: it names none) */
  private strings: { offset: number; size: number } | undefined;
  private notElf = false;
  private overflow = false;
  private outside: string | undefined;

  constructor(private readonly fileSize: number) {}

  /** Why the file's libraries could not be read although it is an ELF file (undefined when they could). */
  get problem(): string | undefined {
    return this.overflow ? tooLarge : this.outside;
  }

  get done(): boolean {
    return this.notElf || this.overflow;
  }

  /** Bytes held now (the copies of what may still be needed). */
  get retained(): number {
    return this.bytes.size;
  }

  push(chunk: Buffer): void {
    if (this.done) return;
    const start = this.seen;
    this.seen += chunk.length;
    if (this.entries) {
      // Only the string table is still wanted: copy the part of the chunk inside it, if any.
      const at = this.strings;
      if (!at) return;
      const from = Math.max(start, at.offset);
      const to = Math.min(this.seen, at.offset + at.size);
      if (from < to) this.bytes.add(from, chunk.subarray(from - start, to - start));
      return;
    }
    if (this.header) {
      if (!this.worthKeeping(start, this.seen)) return;
    }
    this.bytes.add(start, chunk);
    if (!this.header) {
      const parsed = parseHeader(this.bytes, this.fileSize);
      if (parsed === undefined) {
        this.notElf = true;
        return;
      }
      if (parsed !== "need-more") {
        this.header = parsed;
        this.bytes.drop((s, e) => s < 4096 || this.worthKeeping(s, e));
      }
    }
    if (this.header) this.readDynamic(this.header);
    if (this.bytes.size > MAX_RETAINED) this.overflow = true;
  }

  /** Once the dynamic section has streamed past whole: parse it and keep only the string table it names. */
  private readDynamic(header: Header): void {
    const dynamic = header.segments.find((s) => s.type === PT_DYNAMIC);
    if (!dynamic || dynamic.offset + dynamic.filesz > this.fileSize) return;
    if (this.seen < dynamic.offset + dynamic.filesz) return;
    const table = this.bytes.read(dynamic.offset, dynamic.filesz);
    if (!table) return;
    this.entries = parseDynamic(table, header.class, header.le);
    const at = stringTable(this.entries, header.segments);
    this.strings = at;
    this.bytes.drop((s, e) => at !== undefined && s < at.offset + at.size && e > at.offset);
  }

  private worthKeeping(start: number, end: number): boolean {
    const header = this.header;
    if (!header) return true;
    for (const segment of header.segments) {
      if (segment.type !== PT_LOAD || !(segment.flags & PF_X) || segment.offset === 0) continue;
      if (start >= segment.offset && end <= segment.offset + segment.filesz) {
        const dynamic = header.segments.find((s) => s.type === PT_DYNAMIC);
        const overlapsDynamic = dynamic && start < dynamic.offset + dynamic.filesz && end > dynamic.offset;
        return Boolean(overlapsDynamic);
      }
    }
    return true;
  }

  /** undefined: not an ELF file, no dynamic section, or its string table could not be kept. */
  finish(): ElfInfo | undefined {
    if (this.notElf || this.overflow) return undefined;
    if (!this.header) {
      const parsed = parseHeader(this.bytes, this.fileSize);
      if (!parsed || parsed === "need-more") return undefined;
      this.header = parsed;
    }
    const { le, segments } = this.header;
    const cls = this.header.class;
    const dynamic = segments.find((s) => s.type === PT_DYNAMIC);
    const base = { class: cls, littleEndian: le, machine: this.header.machine };
    if (!dynamic) return { ...base, ...noLibraries };
    if (dynamic.offset + dynamic.filesz > this.fileSize) {
      this.outside = dynamicPastEnd(dynamic);
      return undefined;
    }
    let entries = this.entries;
    if (!entries) {
      const table = this.bytes.read(dynamic.offset, dynamic.filesz);
      if (!table) return undefined;
      entries = parseDynamic(table, cls, le);
    }
    const at = stringTable(entries, segments);
    if (!at) return { ...base, ...noLibraries };
    if (at.offset + at.size > this.fileSize) {
      this.outside = stringsPastEnd(at);
      return undefined;
    }
    const strtab = this.bytes.read(at.offset, at.size);
    if (!strtab) return undefined;
    return infoOf(base, entries, strtab);
  }
}

/** Reads `length` bytes at `offset` of one file; resolves with fewer only at its end. */
export type ReadAt = (offset: number, length: number) => Promise<Buffer>;

/**
 * The same facts as ElfScanner, from a file that can be read anywhere: its header, program headers, dynamic
 * section and string table, a few kilobytes however large the file. undefined info with no problem: not an
 * ELF file, or one with no dynamic section ld.so could use.
 */
export async function readElfAt(
  read: ReadAt,
  fileSize: number,
): Promise<{ info: ElfInfo | undefined; problem?: string }> {
  const none = { info: undefined };
  if (fileSize < 20) return none;
  const ident = parseIdent(await read(0, Math.min(64, fileSize)));
  if (!ident || ident === "short") return none;
  const base = { class: ident.class, littleEndian: ident.le, machine: ident.machine };
  if (ident.phnum === 0) return { info: { ...base, ...noLibraries } };
  const tableSize = ident.phentsize * ident.phnum;
  if (ident.phoff + tableSize > fileSize) return none;
  const segments = parseSegments(await read(ident.phoff, tableSize), ident);
  const dynamic = segments.find((s) => s.type === PT_DYNAMIC);
  if (!dynamic) return { info: { ...base, ...noLibraries } };
  if (dynamic.offset + dynamic.filesz > fileSize)
    return { info: undefined, problem: dynamicPastEnd(dynamic) };
  if (dynamic.filesz > MAX_RETAINED) return { info: undefined, problem: tooLarge };
  const entries = parseDynamic(await read(dynamic.offset, dynamic.filesz), ident.class, ident.le);
  const at = stringTable(entries, segments);
  if (!at) return { info: { ...base, ...noLibraries } };
  if (at.offset + at.size > fileSize) return { info: undefined, problem: stringsPastEnd(at) };
  if (at.size > MAX_RETAINED) return { info: undefined, problem: tooLarge };
  return { info: infoOf(base, entries, await read(at.offset, at.size)) };
}

/** Convenience for whole buffers (tests, small files). */
export function readElf(data: Buffer): ElfInfo | undefined {
  const scanner = new ElfScanner(data.length);
  for (let at = 0; at < data.length; at += 65536) scanner.push(data.subarray(at, at + 65536));
  return scanner.finish();
}

/** Debian's multiarch directory for an ELF machine. */
export function multiarchTriplet(machine: number, cls: 32 | 64): string | undefined {
  switch (machine) {
    case 62:
      return "x86_64-linux-gnu";
    case 183:
      return "aarch64-linux-gnu";
    case 3:
      return "i386-linux-gnu";
    case 40:
      return "arm-linux-gnueabihf";
    case 21:
      return cls === 64 ? "powerpc64le-linux-gnu" : undefined;
    case 22:
      return "s390x-linux-gnu";
    default:
      return undefined;
  }
}
