// The archive readers on crafted archives: entry order, compression, whiteouts, opaque dirs, links, long names, pax, corruption.

import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  configFor,
  dockerArchive,
  gzip,
  makeTar,
  ociLayout,
  zstd,
} from "../../test/support/image-archive.js";
import { UserError } from "../errors.js";
import { openImageArchive } from "./archive.js";
import { scanImage } from "./inspect.js";
import { type TarEntryHeader, TarParser } from "./tar-parser.js";

// --- the image under test ---
// Layer 1 (gzip) lays out files; layer 2 (zstd) overwrites, deletes a directory, makes /opq opaque, adds a
// hardlink and a GNU longname file; layer 3 (plain tar) deletes a file.
const longPax = `/deep/${"p".repeat(120)}/${"q".repeat(120)}/file.txt`;
const longGnu = `/gnu/${"g".repeat(150)}.txt`;
const layer1 = () =>
  makeTar([
    { name: "app/", type: "directory" },
    { name: "app/keep.txt", body: "0123456789" },
    { name: "app/old.bin", body: Buffer.alloc(100, 1) },
    { name: "app/gone/", type: "directory" },
    { name: "app/gone/a", body: Buffer.alloc(40, 2) },
    { name: "app/gone/b", body: Buffer.alloc(60, 3) },
    { name: "opq/", type: "directory" },
    { name: "opq/x", body: "12345" },
    { name: longPax.slice(1), body: "pax-named" },
    { name: "app/attrs.txt", body: "xattr", pax: { "SCHILY.xattr.user.note": "kept" } },
  ]);
const layer2 = () =>
  makeTar([
    { name: "app/", type: "directory" },
    { name: "app/old.bin", body: Buffer.alloc(30, 4) },
    { name: "app/.wh.gone", body: "" },
    { name: "opq/", type: "directory" },
    { name: "opq/.wh..wh..opq", body: "" },
    { name: "opq/y", body: "1234567" },
    { name: "app/hard", type: "link", linkname: "app/keep.txt" },
    { name: longGnu.slice(1), body: "g".repeat(20), gnuLongName: true },
  ]);
const layer3 = () => makeTar([{ name: "app/.wh.old.bin", body: "" }]);

const history = [
  { created_by: "ADD rootfs /" },
  { created_by: "ENV A=1", empty_layer: true },
  { created_by: "RUN step two" },
  { created_by: "RUN step three" },
];

let dir: string;
let layers: Buffer[];
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "couplet-archive-test-"));
  layers = [await layer1(), await layer2(), await layer3()];
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeDockerArchive(name: string): Promise<string> {
  const file = path.join(dir, name);
  const config = configFor(3, history);
  await writeFile(
    file,
    await dockerArchive([gzip(layers[0] as Buffer), zstd(layers[1] as Buffer), layers[2] as Buffer], config),
  );
  return file;
}

async function writeOciLayout(name: string, mediaTypes?: string[]): Promise<string> {
  const root = path.join(dir, name);
  const config = configFor(3, history);
  const files = ociLayout(
    [
      {
        data: gzip(layers[0] as Buffer),
        mediaType: mediaTypes?.[0] ?? "application/vnd.oci.image.layer.v1.tar+gzip",
      },
      {
        data: zstd(layers[1] as Buffer),
        mediaType: mediaTypes?.[1] ?? "application/vnd.oci.image.layer.v1.tar+zstd",
      },
      { data: layers[2] as Buffer, mediaType: mediaTypes?.[2] ?? "application/vnd.oci.image.layer.v1.tar" },
    ],
    config,
  );
  for (const [rel, data] of files) {
    await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await writeFile(path.join(root, rel), data);
  }
  return root;
}

async function writeOciArchive(name: string): Promise<string> {
  const config = configFor(3, history);
  const files = ociLayout(
    [
      { data: gzip(layers[0] as Buffer), mediaType: "application/vnd.oci.image.layer.v1.tar+gzip" },
      { data: zstd(layers[1] as Buffer), mediaType: "application/vnd.oci.image.layer.v1.tar+zstd" },
      { data: layers[2] as Buffer, mediaType: "application/vnd.oci.image.layer.v1.tar" },
    ],
    config,
  );
  // Blobs first, index.json last: the reader must not depend on the order.
  const names = [...files.keys()].sort((a, b) =>
    a === "index.json" ? 1 : b === "index.json" ? -1 : a.localeCompare(b),
  );
  const file = path.join(dir, name);
  await writeFile(file, await makeTar(names.map((n) => ({ name: n, body: files.get(n) as Buffer }))));
  return file;
}

async function expectUserError(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UserError);
  expect((error as UserError).exitCode).toBe(2);
  expect((error as UserError).message).toMatch(pattern);
}

describe.each([
  ["docker-archive tar", () => writeDockerArchive("image.tar")],
  ["OCI layout folder", () => writeOciLayout("layout")],
  ["OCI archive tar", () => writeOciArchive("oci.tar")],
])("%s", (_label, make) => {
  it("stacks the layers with overlay semantics", async () => {
    const { report, tree } = await scanImage(await openImageArchive(await make()));
    expect(report.layers.map((l) => l.compression)).toEqual(["gzip", "zstd", "none"]);
    expect(tree.get("/app/keep.txt")?.size).toBe(10);
    expect(tree.get("/app/old.bin")).toBeUndefined(); // deleted by layer 3's whiteout
    expect(tree.get("/app/gone")).toBeUndefined(); // whole directory whited out in layer 2
    expect(tree.get("/opq/x")).toBeUndefined(); // hidden by the opaque marker
    expect(tree.get("/opq/y")?.size).toBe(7); // added by the opaque layer itself
    expect(tree.get("/opq/.wh..wh..opq")).toBeUndefined();
    expect(tree.get(longPax)?.size).toBe(9); // name carried by a pax header
    expect(tree.get("/app/attrs.txt")?.size).toBe(5);
    expect(tree.get(longGnu)?.size).toBe(20); // name carried by a GNU longname record
    expect(tree.get("/app/hard")?.kind).toBe("link");
    expect(tree.resolve("/app/hard")?.size).toBe(10);
  });

  it("pairs layers with history entries that made content, skipping empty_layer ones", async () => {
    const { report } = await scanImage(await openImageArchive(await make()));
    expect(report.layers.map((l) => l.createdBy)).toEqual(["ADD rootfs /", "RUN step two", "RUN step three"]);
    // Layer size is the content it carries, as dive counts it.
    expect(report.layers.map((l) => l.size)).toEqual([10 + 100 + 40 + 60 + 5 + 9 + 5, 30 + 7 + 20, 0]);
  });

  it("counts waste the way dive does", async () => {
    const { report } = await scanImage(await openImageArchive(await make()));
    // /app/old.bin is held by three layers: 100 + 30 + 0 (its whiteout) bytes. Deleting /app/gone (a directory)
    // is a single leaf in dive's accounting, so it is not waste; the opaque marker is ignored.
    expect(report.wastedBytes).toBe(130);
    const leaves = { keep: 10, a: 40, b: 60, x: 5, pax: 9, attrs: 5, gone: 100, y: 7, hard: 0, gnu: 20 };
    const others = Object.values(leaves).reduce((s, v) => s + v, 0);
    expect(report.efficiency).toBeCloseTo((others + 0) / (others + 130), 12);
    expect(report.findings.find((f) => f.kind === "waste")).toMatchObject({
      path: "/app/old.bin",
      bytes: 130,
    });
  });
});

describe("bad archives", () => {
  it("says a truncated docker-archive is truncated (exit 2)", async () => {
    const whole = await dockerArchive([layers[0] as Buffer], configFor(1, history.slice(0, 1)));
    const file = path.join(dir, "truncated.tar");
    await writeFile(file, whole.subarray(0, Math.floor(whole.length / 3)));
    await expectUserError(openImageArchive(file), /truncated/);
  });

  it("rejects a file that is not a tar", async () => {
    const file = path.join(dir, "garbage.tar");
    await writeFile(file, Buffer.alloc(4096, 0x41));
    await expectUserError(openImageArchive(file), /not a valid image archive/);
  });

  it("names the layer whose gzip stream is cut short", async () => {
    const gz = gzip(layers[0] as Buffer);
    const file = path.join(dir, "bad-layer.tar");
    await writeFile(
      file,
      await dockerArchive([gz.subarray(0, gz.length - 40)], configFor(1, history.slice(0, 1))),
    );
    const opened = await openImageArchive(file);
    await expectUserError(scanImage(opened), /layer 1 .* corrupt or truncated/);
  });

  it("names the layer whose zstd stream is cut short", async () => {
    const zst = zstd(layers[1] as Buffer);
    const file = path.join(dir, "bad-zstd.tar");
    await writeFile(
      file,
      await dockerArchive([zst.subarray(0, zst.length - 10)], configFor(1, history.slice(0, 1))),
    );
    await expectUserError(scanImage(await openImageArchive(file)), /layer 1 .* corrupt or truncated/);
  });

  it("refuses an unknown layer media type", async () => {
    const root = await writeOciLayout("weird", [
      undefined,
      "application/vnd.example.squashfs",
    ] as unknown as string[]);
    await expectUserError(
      openImageArchive(root),
      /unknown layer media type application\/vnd\.example\.squashfs/,
    );
  });

  it("says when neither manifest.json nor index.json is there", async () => {
    const file = path.join(dir, "plain.tar");
    await writeFile(file, await makeTar([{ name: "hello.txt", body: "hi" }]));
    await expectUserError(openImageArchive(file), /neither a docker-archive/);
  });
});

describe("TarParser", () => {
  function parse(data: Buffer, chunkSize: number): { header: TarEntryHeader; content: string }[] {
    const out: { header: TarEntryHeader; content: string }[] = [];
    const parser = new TarParser((header) => {
      const parts: Buffer[] = [];
      return {
        data: (chunk) => parts.push(Buffer.from(chunk)),
        end: () => out.push({ header, content: Buffer.concat(parts).toString("latin1") }),
      };
    });
    for (let at = 0; at < data.length; at += chunkSize) parser.push(data.subarray(at, at + chunkSize));
    parser.end();
    return out;
  }

  it("gives the same entries whatever the chunk boundaries", async () => {
    for (const layer of [await layer1(), await layer2()]) {
      const whole = parse(layer, layer.length);
      expect(whole.length).toBeGreaterThan(5);
      for (const size of [1, 7, 511, 513, 4096]) expect(parse(layer, size)).toEqual(whole);
    }
  });

  it("stops at the end-of-archive marker and ignores what follows", async () => {
    const layer = Buffer.concat([await layer3(), Buffer.from("trailing junk after the end marker")]);
    expect(parse(layer, 100).map((e) => e.header.name)).toEqual(["app/.wh.old.bin"]);
  });

  it("says a layer cut inside an entry is truncated", async () => {
    const layer = await layer1();
    expect(() => parse(layer.subarray(0, 512 + 5), 64)).toThrow(/unexpected end of data/);
  });
});
