// Reading an uncompressed layer passes over the data nobody wants: same entries, far fewer bytes read.
import { describe, expect, it } from "vitest";
import { gzip, makeTar, zstd } from "../../test/support/image-archive.js";
import { type LayerEntry, type ReadLayerOptions, readLayer, systemZstd, zstdProcess } from "./layer.js";
import type { BlobReader } from "./source.js";

/** A blob in memory that counts the bytes asked of it. */
function memoryBlob(data: Buffer): BlobReader & { bytesRead: number } {
  return {
    size: data.length,
    bytesRead: 0,
    async read(into, length, position) {
      const n = data.copy(into, 0, position, Math.min(position + length, data.length));
      this.bytesRead += n;
      return n;
    },
    async close() {},
  };
}

const big = Buffer.alloc(6 * 1024 * 1024, 7);
const items = [
  { name: "usr/lib/big.bin", body: big },
  { name: "etc/os-release", body: "VERSION_CODENAME=bookworm\n" },
  { name: "usr/lib/big2.bin", body: big },
  { name: "app/wanted.txt", body: "keep me\n" },
];

async function entriesOf(
  blob: BlobReader | AsyncIterable<Buffer>,
  options: ReadLayerOptions = {},
): Promise<{ entries: LayerEntry[]; wanted: string }> {
  const entries: LayerEntry[] = [];
  let wanted = "";
  await readLayer(
    blob,
    (entry) => {
      entries.push(entry);
      if (entry.path !== "/app/wanted.txt") return undefined;
      return { data: (chunk) => (wanted += chunk.toString()), end: () => undefined };
    },
    options,
  );
  return { entries, wanted };
}

describe("readLayer on an uncompressed layer", () => {
  it("reads the same entries as from a gzip layer (which must be read whole), and under a tenth of the bytes", async () => {
    const tar = await makeTar(items);
    const plain = memoryBlob(tar);
    const fromPlain = await entriesOf(plain);
    const fromGzip = await entriesOf(memoryBlob(gzip(tar)));
    expect(fromPlain).toEqual(fromGzip);
    expect(fromPlain.wanted).toBe("keep me\n");
    expect(fromPlain.entries.map((e) => [e.path, e.size])).toEqual([
      ["/usr/lib/big.bin", big.length],
      ["/etc/os-release", 26],
      ["/usr/lib/big2.bin", big.length],
      ["/app/wanted.txt", 8],
    ]);
    expect(plain.bytesRead).toBeLessThan(tar.length / 10);
  });

  it("reads the same entries from a stream of chunks, which it cannot skip in", async () => {
    const tar = await makeTar(items);
    const stream = (async function* () {
      for (let at = 0; at < tar.length; at += 100_000) yield tar.subarray(at, at + 100_000);
    })();
    expect(await entriesOf(stream)).toEqual(await entriesOf(memoryBlob(tar)));
  });

  it("still finds a layer cut inside a file it skips", async () => {
    const tar = await makeTar(items);
    await expect(entriesOf(memoryBlob(tar.subarray(0, 3 * 1024 * 1024)))).rejects.toThrow(/truncated/);
  });
});

describe("sinks that read in place", () => {
  /** Reads bytes 10..19 and the last 5 of /usr/lib/big2.bin, in place when offered, else from the stream. */
  async function pieces(blob: BlobReader): Promise<{ inPlace: boolean; head: string; tail: string }> {
    const result = { inPlace: false, head: "", tail: "" };
    await readLayer(blob, (entry) => {
      if (entry.path !== "/usr/lib/big2.bin") return undefined;
      const streamed: Buffer[] = [];
      return {
        data: (chunk) => {
          streamed.push(Buffer.from(chunk));
        },
        end: () => {
          const all = Buffer.concat(streamed);
          result.head = all.subarray(10, 20).toString("hex");
          result.tail = all.subarray(all.length - 5).toString("hex");
        },
        inPlace: async (read) => {
          result.inPlace = true;
          result.head = (await read(10, 10)).toString("hex");
          result.tail = (await read(entry.size - 5, 100)).toString("hex");
        },
      };
    });
    return result;
  }

  // Distinct bytes at each offset, so that a read at the wrong place shows.
  const counting = Buffer.alloc(3 * 1024 * 1024);
  for (let i = 0; i < counting.length; i++) counting[i] = (i * 7 + (i >> 8)) & 0xff;
  const layered = [
    items[0],
    items[1],
    { name: "usr/lib/big2.bin", body: counting },
    items[3],
  ] as typeof items;

  it("reads the entry's bytes at offsets within it, and no more than it asks (the read stops at its end)", async () => {
    const tar = await makeTar(layered);
    const plain = memoryBlob(tar);
    const read = await pieces(plain);
    expect(read).toEqual({
      inPlace: true,
      head: counting.subarray(10, 20).toString("hex"),
      tail: counting.subarray(counting.length - 5).toString("hex"),
    });
    expect(plain.bytesRead).toBeLessThan(tar.length / 10);
  });

  it("gets the same bytes as data() from a gzip layer, which cannot be read in place", async () => {
    const tar = await makeTar(layered);
    const fromGzip = await pieces(memoryBlob(gzip(tar)));
    expect(fromGzip.inPlace).toBe(false);
    expect({ ...fromGzip, inPlace: true }).toEqual(await pieces(memoryBlob(tar)));
  });

  it("waits for reads in place before returning, and passes their failure on", async () => {
    const tar = await makeTar(layered);
    let pending = 0;
    await expect(
      readLayer(memoryBlob(tar), (entry) =>
        entry.path === "/usr/lib/big2.bin"
          ? {
              data: () => undefined,
              end: () => undefined,
              inPlace: async (read) => {
                pending += 1;
                await new Promise((resolve) => setTimeout(resolve, 50));
                await read(0, 10);
                pending -= 1;
                throw new Error("could not make sense of it");
              },
            }
          : undefined,
      ),
    ).rejects.toThrow("could not make sense of it");
    expect(pending).toBe(0);
  });
});

describe("readLayer on a zstd layer", () => {
  const command = systemZstd();
  // Incompressible bytes (a fixed LCG), so that a cut in the compressed layer falls inside file data.
  const noise = Buffer.alloc(2 * 1024 * 1024);
  for (let i = 0, x = 12345; i < noise.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    noise[i] = x >>> 24;
  }
  const noisy = [...items, { name: "usr/lib/noise.bin", body: noise }, { name: "z/last", body: "end\n" }];

  it("finds the zstd command on PATH (installed by scripts/install-test-deps)", () => {
    expect(command).toMatch(/\/zstd$/);
  });

  it("reads the same entries and data through the zstd command as through the built-in decoder", async () => {
    const tar = await makeTar(items);
    const compressed = zstd(tar);
    const builtIn = await entriesOf(memoryBlob(compressed), { zstd: false });
    expect(await entriesOf(memoryBlob(compressed), { zstd: command as string })).toEqual(builtIn);
    expect(builtIn.wanted).toBe("keep me\n");
  });

  it("gives the layer back byte for byte, across many reused input chunks", async () => {
    const data = Buffer.concat([await makeTar(items), Buffer.from("x".repeat(100_000))]);
    const compressed = zstd(data);
    // One reused buffer, as the archive reader hands chunks over: each must be written before it is refilled.
    async function* chunks() {
      const reused = Buffer.alloc(4096);
      for (let at = 0; at < compressed.length; at += reused.length) {
        const n = compressed.copy(reused, 0, at, at + reused.length);
        yield reused.subarray(0, n);
      }
    }
    const out: Buffer[] = [];
    for await (const chunk of zstdProcess(command as string, chunks())) out.push(Buffer.from(chunk));
    expect(Buffer.concat(out).equals(data)).toBe(true);
  });

  it("refuses a cut zstd layer with zstd's reason, as the built-in decoder refuses it", async () => {
    const cut = zstd(await makeTar(noisy)).subarray(0, 1024 * 1024);
    await expect(entriesOf(memoryBlob(cut), { zstd: command as string })).rejects.toThrow(/^zstd: .+/);
    await expect(entriesOf(memoryBlob(cut), { zstd: false })).rejects.toThrow();
  });

  it("passes on a failure to read the blob rather than zstd's complaint about the missing rest", async () => {
    const compressed = zstd(await makeTar(noisy));
    const failing: BlobReader = {
      size: compressed.length,
      async read(into, length, position) {
        if (position > 0) throw new Error("disk on fire");
        return compressed.copy(into, 0, 0, Math.min(length, 4096));
      },
      async close() {},
    };
    await expect(entriesOf(failing, { zstd: command as string })).rejects.toThrow("disk on fire");
  });
});

describe("readLayer on a gzip layer", () => {
  // Incompressible bytes (a fixed LCG): zlib then needs many input chunks per output chunk and the reverse.
  const noise = Buffer.alloc(3 * 1024 * 1024);
  for (let i = 0, x = 777; i < noise.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    noise[i] = x >>> 24;
  }
  const noisy = [...items, { name: "usr/lib/noise.bin", body: noise }, { name: "z/last", body: "end\n" }];

  /** The compressed bytes in one reused buffer, refilled whenever the next chunk is asked for. */
  async function* reusedChunks(compressed: Buffer, size: number): AsyncGenerator<Buffer> {
    const reused = Buffer.alloc(size);
    for (let at = 0; at < compressed.length; at += size) {
      const n = compressed.copy(reused, 0, at, at + size);
      yield reused.subarray(0, n);
      reused.fill(0xee);
    }
  }

  it("gives every file back byte for byte from a reused input buffer (zlib reads each chunk in place)", async () => {
    const compressed = gzip(await makeTar(noisy));
    for (const size of [4096, 300_000]) {
      const got: Buffer[] = [];
      const paths: string[] = [];
      await readLayer(reusedChunks(compressed, size), (entry) => {
        paths.push(entry.path);
        if (entry.path !== "/usr/lib/noise.bin") return undefined;
        return { data: (chunk) => got.push(Buffer.from(chunk)), end: () => undefined };
      });
      expect(Buffer.concat(got).equals(noise)).toBe(true);
      expect(paths.at(-1)).toBe("/z/last");
    }
  });

  it("passes on a failure to read the blob, and reads nothing once it has rejected", async () => {
    const compressed = gzip(await makeTar(noisy));
    let readsAfter = 0;
    let rejected = false;
    const failing: BlobReader = {
      size: compressed.length,
      async read(into, length, position) {
        if (rejected) readsAfter += 1;
        if (position > 64 * 1024) throw new Error("disk on fire");
        return compressed.copy(into, 0, position, Math.min(position + length, 64 * 1024 + 1));
      },
      async close() {},
    };
    await expect(
      entriesOf(failing).finally(() => {
        rejected = true;
      }),
    ).rejects.toThrow("disk on fire");
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(readsAfter).toBe(0);
  });

  it("stops inflating when the tar inside is corrupt, with the tar's reason", async () => {
    const tar = await makeTar(noisy);
    // The second entry's header, garbled: its checksum no longer matches.
    const at = 512 + Math.ceil(big.length / 512) * 512;
    tar.fill(0x41, at, at + 100);
    await expect(entriesOf(memoryBlob(gzip(tar)))).rejects.toThrow(/checksum/);
  });
});
