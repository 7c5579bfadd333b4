// A plain ustar writer onto a file handle: headers by hand, contents copied through reused buffers, nothing kept.
import { type FileHandle, open } from "node:fs/promises";

const BLOCK = 512;

function octal(value: number, width: number): string {
  const text = value.toString(8);
  if (text.length > width - 1) throw new Error(`tar field overflow: ${value} in ${width} bytes`);
  return `${text.padStart(width - 1, "0")}\0`;
}

/**
 * One ustar header for a regular file owned by root with mode 0644. The names couplet writes (digests,
 * manifest.json) fit the 100-byte name field, so no pax extension is needed; a longer one is a bug.
 */
export function fileHeader(name: string, size: number, mtime: Date): Buffer {
  const header = Buffer.alloc(BLOCK);
  if (Buffer.byteLength(name) > 100) throw new Error(`tar name too long: ${name}`);
  header.write(name, 0, 100, "utf8");
  header.write(octal(0o644, 8), 100, "latin1");
  header.write(octal(0, 8), 108, "latin1");
  header.write(octal(0, 8), 116, "latin1");
  header.write(octal(size, 12), 124, "latin1");
  header.write(octal(Math.floor(mtime.getTime() / 1000), 12), 136, "latin1");
  header.write("        ", 148, "latin1");
  header.write("0", 156, "latin1");
  header.write("ustar\u000000", 257, "latin1");
  header.write(octal(0, 8), 329, "latin1");
  header.write(octal(0, 8), 337, "latin1");
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "latin1");
  return header;
}

/** Writes entries in order; every failure carries the file's path, so the caller can name the output. */
export class TarWriter {
  private constructor(
    private readonly handle: FileHandle,
    private readonly file: string,
    private readonly mtime: Date,
  ) {}

  static async create(file: string, mtime: Date): Promise<TarWriter> {
    return new TarWriter(await open(file, "w"), file, mtime);
  }

  private async write(data: Buffer): Promise<void> {
    try {
      await this.handle.write(data);
    } catch (error) {
      // A FileHandle's errors name no path; the output's writer reports by path.
      throw Object.assign(error as Error, { path: this.file });
    }
  }

  /** One file entry: `content` as bytes, or chunks (each written before the next is asked for). */
  async add(name: string, size: number, content: Buffer | AsyncIterable<Buffer>): Promise<void> {
    await this.write(fileHeader(name, size, this.mtime));
    let written = 0;
    if (Buffer.isBuffer(content)) {
      await this.write(content);
      written = content.length;
    } else
      for await (const chunk of content) {
        await this.write(chunk);
        written += chunk.length;
      }
    if (written !== size) throw new Error(`${name}: wrote ${written} bytes of ${size}`);
    const pad = (BLOCK - (size % BLOCK)) % BLOCK;
    if (pad) await this.write(Buffer.alloc(pad));
  }

  /** The two zero blocks that end an archive. */
  async finish(): Promise<void> {
    await this.write(Buffer.alloc(2 * BLOCK));
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}
