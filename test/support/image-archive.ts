// Builders for crafted image archives (layer tars, docker-archive, OCI layout) shared by the image-reader tests.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import tar from "tar-stream";

export interface TarItem {
  name: string;
  type?: "file" | "directory" | "symlink" | "link";
  body?: Buffer | string;
  linkname?: string;
  pax?: Record<string, string>;
  /** Write this entry's name with a GNU longname ('L') record, which tar-stream's pack cannot produce. */
  gnuLongName?: boolean;
}

const END = Buffer.alloc(1024);

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, "0")}\0`;
}

/** A GNU-format header block (magic "ustar  "), for the ././@LongLink record and the entry that follows it. */
function gnuHeader(name: string, size: number, typeflag: string): Buffer {
  const block = Buffer.alloc(512);
  block.write(name.slice(0, 99), 0, "utf8");
  block.write(octal(0o644, 8), 100, "ascii");
  block.write(octal(0, 8), 108, "ascii");
  block.write(octal(0, 8), 116, "ascii");
  block.write(octal(size, 12), 124, "ascii");
  block.write(octal(0, 12), 136, "ascii");
  block.write(typeflag, 156, "ascii");
  block.write("ustar  \0", 257, "ascii");
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "ascii");
  return block;
}

function padded(data: Buffer): Buffer {
  const rest = data.length % 512;
  return rest === 0 ? data : Buffer.concat([data, Buffer.alloc(512 - rest)]);
}

async function packPart(items: TarItem[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    pack.on("data", (chunk) => {
      chunks.push(chunk as Buffer);
    });
    pack.on("end", () => resolve());
    pack.on("error", reject);
  });
  for (const item of items) {
    const body = item.body === undefined ? undefined : Buffer.from(item.body);
    const header = {
      name: item.name,
      type: item.type ?? "file",
      mode: item.type === "directory" ? 0o755 : 0o644,
      ...(item.linkname ? { linkname: item.linkname } : {}),
      ...(item.pax ? { pax: item.pax } : {}),
      ...(body ? { size: body.length } : {}),
    };
    await new Promise<void>((resolve, reject) =>
      body
        ? pack.entry(header, body, (e) => (e ? reject(e) : resolve()))
        : pack.entry(header, (e) => (e ? reject(e) : resolve())).end(undefined),
    );
  }
  pack.finalize();
  await done;
  const all = Buffer.concat(chunks);
  return all.subarray(0, all.length - END.length);
}

/** A tar holding the items in order (GNU longname items are written by hand, the rest by tar-stream). */
export async function makeTar(items: TarItem[]): Promise<Buffer> {
  const parts: Buffer[] = [];
  let run: TarItem[] = [];
  for (const item of items) {
    if (!item.gnuLongName) {
      run.push(item);
      continue;
    }
    if (run.length) parts.push(await packPart(run));
    run = [];
    const body = Buffer.from(item.body ?? "");
    const longName = Buffer.from(`${item.name}\0`);
    parts.push(gnuHeader("././@LongLink", longName.length, "L"), padded(longName));
    parts.push(gnuHeader(item.name.slice(0, 99), body.length, "0"), padded(body));
  }
  if (run.length) parts.push(await packPart(run));
  parts.push(END);
  return Buffer.concat(parts);
}

export function zstd(data: Buffer): Buffer {
  // The zstd command-line tool from Debian's zstd package (fzstd only decompresses).
  return execFileSync("zstd", ["-q", "-c", "-3"], { input: data, maxBuffer: 1 << 30 });
}

export const gzip = (data: Buffer): Buffer => gzipSync(data);

export function sha256(data: Buffer | string): string {
  return createHash("sha256").update(data).digest("hex");
}

export interface TestLayer {
  data: Buffer;
  mediaType: string;
}

export function configFor(layers: number, history: { created_by: string; empty_layer?: boolean }[]): string {
  return JSON.stringify({
    architecture: "amd64",
    os: "linux",
    config: { Env: ["PATH=/usr/bin"] },
    rootfs: {
      type: "layers",
      diff_ids: Array.from({ length: layers }, (_, i) => `sha256:${sha256(String(i))}`),
    },
    history,
  });
}

/** A `docker save` style tar with the layers written before manifest.json, to prove the order does not matter. */
export async function dockerArchive(layers: Buffer[], config: string): Promise<Buffer> {
  const names = layers.map((data) => `${sha256(data)}/layer.tar`);
  return makeTar([
    ...layers.map((data, i) => ({ name: names[i] as string, body: data })),
    { name: `${sha256(config)}.json`, body: config },
    {
      name: "manifest.json",
      body: JSON.stringify([
        { Config: `${sha256(config)}.json`, RepoTags: ["test/image:latest"], Layers: names },
      ]),
    },
  ]);
}

/** The files of an OCI layout (relative path -> content). */
export function ociLayout(layers: TestLayer[], config: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const blob = (data: Buffer | string) => {
    const digest = sha256(data);
    files.set(`blobs/sha256/${digest}`, Buffer.from(data));
    return { digest: `sha256:${digest}`, size: Buffer.byteLength(data) };
  };
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", ...blob(config) },
    layers: layers.map((layer) => ({ mediaType: layer.mediaType, ...blob(layer.data) })),
  });
  files.set(
    "index.json",
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", ...blob(manifest) }],
      }),
    ),
  );
  files.set("oci-layout", Buffer.from('{"imageLayoutVersion":"1.0.0"}'));
  return files;
}
