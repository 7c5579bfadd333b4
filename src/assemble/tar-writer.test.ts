import { createReadStream } from "node:fs";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { extract } from "tar-stream";
import { describe, expect, it } from "vitest";
import { TarWriter } from "./tar-writer.js";

async function* chunks(...parts: string[]): AsyncGenerator<Buffer> {
  for (const part of parts) yield Buffer.from(part);
}

async function entries(file: string) {
  const found: { name: string; size: number; mtime: number; mode: number; uid: number; body: string }[] = [];
  const reader = extract();
  reader.on("entry", (header, stream, next) => {
    const body: Buffer[] = [];
    stream.on("data", (chunk) => body.push(chunk as Buffer));
    stream.on("end", () => {
      found.push({
        name: header.name,
        size: header.size ?? 0,
        mtime: (header.mtime as Date).getTime() / 1000,
        mode: header.mode ?? 0,
        uid: header.uid ?? -1,
        body: Buffer.concat(body).toString(),
      });
      next();
    });
  });
  await new Promise<void>((resolve, reject) => {
    reader.on("finish", resolve);
    reader.on("error", reject);
    createReadStream(file).pipe(reader);
  });
  return found;
}

describe("TarWriter", () => {
  it("writes entries a tar reader reads back: names, sizes, contents, one mtime, root-owned 0644", async () => {
    const file = path.join(await mkdtemp(path.join(tmpdir(), "couplet-tar-")), "out.tar");
    const tar = await TarWriter.create(file, new Date(1_700_000_000_000));
    await tar.add("a.json", 2, Buffer.from("{}"));
    await tar.add(`${"f".repeat(64)}.tar.gz`, 1030, chunks("x".repeat(1000), "y".repeat(30)));
    await tar.add("empty", 0, Buffer.alloc(0));
    await tar.finish();
    await tar.close();
    expect((await readFile(file)).length % 512).toBe(0);
    const read = await entries(file);
    expect(read.map(({ name, size }) => [name, size])).toEqual([
      ["a.json", 2],
      [`${"f".repeat(64)}.tar.gz`, 1030],
      ["empty", 0],
    ]);
    expect(read[1]?.body).toBe(`${"x".repeat(1000)}${"y".repeat(30)}`);
    expect(new Set(read.map(({ mtime, mode, uid }) => `${mtime} ${mode.toString(8)} ${uid}`))).toEqual(
      new Set(["1700000000 644 0"]),
    );
  });

  it("refuses content shorter than the size its header promised", async () => {
    const file = path.join(await mkdtemp(path.join(tmpdir(), "couplet-tar-")), "out.tar");
    const tar = await TarWriter.create(file, new Date(0));
    await expect(tar.add("short", 10, chunks("abc"))).rejects.toThrow(/wrote 3 bytes of 10/);
    await tar.close();
  });
});
