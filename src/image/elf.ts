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

function parseHeader(bytes: Retained, fileSize: number): Header | "need-more" | undefined {
  const ident = bytes.read(0, 20);
  if (!ident) return fileSize < 20 ? undefined : "need-more";
  if (!isElfMagic(ident)) return undefined;
  const cls = ident[4] === 2 ? 64 : ident[4] === 1 ? 32 : undefined;
  const le = ident[5] === 1;
  if (!cls) return undefined;
  const ehsize = cls === 64 ? 64 : 52;
  const eh = bytes.read(0, ehsize);
  if (!eh) return fileSize < ehsize ? undefined : "need-more";
  const machine = num(eh, 18, 2, le);
  const phoff = cls === 64 ? num(eh, 32, 8, le) : num(eh, 28, 4, le);
  const phentsize = num(eh, cls === 64 ? 54 : 42, 2, le);
  const phnum = num(eh, cls === 64 ? 56 : 44, 2, le);
  if (phnum === 0) return { class: cls, le, machine, segments: [] };
  // Entries shorter than the fields read from them are not a program header table ld.so would load.
  if (phentsize < (cls === 64 ? 56 : 32)) return undefined;
  const table = bytes.read(phoff, phentsize * phnum);
  if (!table) return phoff + phentsize * phnum > fileSize ? undefined : "need-more";
  const segments: Segment[] = [];
  for (let i = 0; i < phnum; i++) {
    const at = i * phentsize;
    if (cls === 64)
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
  return { class: cls, le, machine, segments };
}

/** A cap on what one file may make us hold; past it the file is reported as unreadable rather than exhausting memory. */
const MAX_RETAINED = 256 * 1024 * 1024;

/**
 * Feed a file's bytes in order with push(), then call finish(). Executable segments (code) are dropped as they
 * stream past unless they hold the headers, because the dynamic string table is never there in modern layouts;
 * everything else is kept until the dynamic section has been seen.
 */
export class ElfScanner {
  private bytes = new Retained();
  private seen = 0;
  private header: Header | undefined;
  private notElf = false;
  private overflow = false;
  private outside: string | undefined;

  constructor(private readonly fileSize: number) {}

  /** Why the file's libraries could not be read although it is an ELF file (undefined when they could). */
  get problem(): string | undefined {
    return this.overflow
      ? `more than ${MAX_RETAINED / 1024 / 1024} MiB would have to be kept to find its dynamic section`
      : this.outside;
  }

  get done(): boolean {
    return this.notElf || this.overflow;
  }

  push(chunk: Buffer): void {
    if (this.done) return;
    const start = this.seen;
    this.seen += chunk.length;
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
    if (this.bytes.size > MAX_RETAINED) this.overflow = true;
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
    if (!dynamic) return { ...base, needed: [], soname: undefined, runpath: [], rpath: [] };
    if (dynamic.offset + dynamic.filesz > this.fileSize) {
      this.outside = `its dynamic section (${dynamic.filesz} bytes at ${dynamic.offset}) runs past the end of the file`;
      return undefined;
    }
    const table = this.bytes.read(dynamic.offset, dynamic.filesz);
    if (!table) return undefined;
    const entrySize = cls === 64 ? 16 : 8;
    const word = cls === 64 ? 8 : 4;
    const entries: { tag: number; value: number }[] = [];
    for (let at = 0; at + entrySize <= table.length; at += entrySize) {
      const tag = num(table, at, word, le);
      if (tag === 0) break;
      entries.push({ tag, value: num(table, at + word, word, le) });
    }
    const strtabAddr = entries.find((e) => e.tag === DT_STRTAB)?.value;
    const strsz = entries.find((e) => e.tag === DT_STRSZ)?.value ?? 0;
    if (strtabAddr === undefined) return { ...base, needed: [], soname: undefined, runpath: [], rpath: [] };
    const load = segments.find(
      (s) => s.type === PT_LOAD && strtabAddr >= s.vaddr && strtabAddr < s.vaddr + s.filesz,
    );
    // Unlinked objects store file offsets rather than addresses; fall back to that.
    const strtabOffset = load ? strtabAddr - load.vaddr + load.offset : strtabAddr;
    if (strtabOffset + strsz > this.fileSize) {
      this.outside = `its string table (${strsz} bytes at ${strtabOffset}) runs past the end of the file`;
      return undefined;
    }
    const strtab = this.bytes.read(strtabOffset, strsz);
    if (!strtab) return undefined;
    const str = (offset: number) => {
      const end = strtab.indexOf(0, offset);
      return strtab.toString("utf8", offset, end === -1 ? strtab.length : end);
    };
    const list = (tag: number) =>
      entries
        .filter((e) => e.tag === tag)
        .flatMap((e) => str(e.value).split(":"))
        .filter((p) => p !== "");
    return {
      ...base,
      needed: entries.filter((e) => e.tag === DT_NEEDED).map((e) => str(e.value)),
      soname: entries.find((e) => e.tag === DT_SONAME)
        ? str(entries.find((e) => e.tag === DT_SONAME)?.value ?? 0)
        : undefined,
      runpath: list(DT_RUNPATH),
      rpath: list(DT_RPATH),
    };
  }
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
