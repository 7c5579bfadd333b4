// Reading an uncompressed layer passes over the data nobody wants: same entries, far fewer bytes read.
import { describe, expect, it } from "vitest";
import { gzip, makeTar } from "../../test/support/image-archive.js";
import { type LayerEntry, readLayer } from "./layer.js";
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
): Promise<{ entries: LayerEntry[]; wanted: string }> {
  const entries: LayerEntry[] = [];
  let wanted = "";
  await readLayer(blob, (entry) => {
    entries.push(entry);
    if (entry.path !== "/app/wanted.txt") return undefined;
    return { data: (chunk) => (wanted += chunk.toString()), end: () => undefined };
  });
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
