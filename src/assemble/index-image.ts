// A multi-platform image: an OCI image index over one assembled image per platform, as a layout, an archive or a push.
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { pack } from "tar-stream";
import { type Assembled, atomically, hex, ociRefName } from "./image.js";
import { type LayoutBlob, placeBlobs } from "./layout-blobs.js";
import { formatPlatform, MEDIA, type Platform } from "./pull.js";
import {
  blobsOf,
  type PushedBlob,
  type PushReport,
  parsePushReference,
  pushBlob,
  pushClient,
  putManifest,
  summarize,
} from "./push.js";
import { formatReference } from "./registry.js";

export interface PlatformImage {
  platform: Platform;
  image: Assembled;
}

export interface ImageIndex {
  images: PlatformImage[];
  body: Buffer;
  digest: string;
}

/** The index, its entries in the order the platforms were asked for (so the same request gives the same bytes). */
export function buildIndex(images: PlatformImage[]): ImageIndex {
  const index = {
    schemaVersion: 2,
    mediaType: MEDIA.ociIndex,
    manifests: images.map(({ platform, image }) => ({
      mediaType: MEDIA.ociManifest,
      digest: image.manifestDigest,
      size: image.manifest.length,
      platform: {
        architecture: platform.architecture,
        os: platform.os,
        ...(platform.variant ? { variant: platform.variant } : {}),
      },
    })),
  };
  const body = Buffer.from(JSON.stringify(index));
  return { images, body, digest: `sha256:${createHash("sha256").update(body).digest("hex")}` };
}

/** Every blob of the index once: layers shared by platforms (the project's, often) are written once. */
function layoutBlobs(index: ImageIndex): LayoutBlob[] {
  const seen = new Map<string, LayoutBlob>();
  const add = (blob: LayoutBlob) => {
    if (!seen.has(blob.digest)) seen.set(blob.digest, blob);
  };
  for (const { image } of index.images) {
    for (const blob of blobsOf(image, "")) add(blob);
    add({ digest: image.manifestDigest, size: image.manifest.length, open: () => image.manifest });
  }
  add({ digest: index.digest, size: index.body.length, open: () => index.body });
  return [...seen.values()];
}

function topIndex(index: ImageIndex, tag: string): Buffer {
  return Buffer.from(
    `${JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA.ociIndex,
      manifests: [
        {
          mediaType: MEDIA.ociIndex,
          digest: index.digest,
          size: index.body.length,
          annotations: { "org.opencontainers.image.ref.name": ociRefName(tag) },
        },
      ],
    })}\n`,
  );
}

const LAYOUT = Buffer.from(`${JSON.stringify({ imageLayoutVersion: "1.0.0" })}\n`);

/** An OCI layout whose index.json names the image index by the tag; buildah and skopeo pick a platform from it. */
export async function writeIndexLayout(index: ImageIndex, target: string, tag: string): Promise<void> {
  await atomically(target, "oci-layout", async (temporary) => {
    const blobs = path.join(temporary, "blobs", "sha256");
    await mkdir(blobs, { recursive: true });
    await placeBlobs(blobs, path.join(target, "blobs", "sha256"), layoutBlobs(index));
    await writeFile(path.join(temporary, "oci-layout"), LAYOUT);
    await writeFile(path.join(temporary, "index.json"), topIndex(index, tag));
  });
}

/**
 * The same layout as one tar (an OCI archive: `buildah pull oci-archive:FILE`, `skopeo copy`), entries in a fixed
 * order with fixed owners and times. A docker-archive cannot hold an index, so this is --output's form for several
 * platforms.
 */
export async function writeIndexArchive(
  index: ImageIndex,
  target: string,
  tag: string,
  mtime: Date,
): Promise<void> {
  await atomically(target, "file", async (temporary) => {
    const packer = pack();
    const written = pipeline(packer, createWriteStream(temporary));
    written.catch(() => {});
    const header = { mtime, uid: 0, gid: 0, uname: "", gname: "" };
    const add = (name: string, data: Buffer) =>
      new Promise<void>((resolve, reject) =>
        packer.entry({ ...header, mode: 0o644, name, size: data.length }, data, (error) =>
          error ? reject(error) : resolve(),
        ),
      );
    const dir = (name: string) =>
      new Promise<void>((resolve, reject) =>
        packer.entry({ ...header, mode: 0o755, name, type: "directory" }, (error) =>
          error ? reject(error) : resolve(),
        ),
      );
    await add("oci-layout", LAYOUT);
    await add("index.json", topIndex(index, tag));
    await dir("blobs/");
    await dir("blobs/sha256/");
    for (const blob of layoutBlobs(index)) {
      const name = `blobs/sha256/${hex(blob.digest)}`;
      const data = blob.open();
      if (Buffer.isBuffer(data)) await add(name, data);
      else await pipeline(data, packer.entry({ ...header, mode: 0o644, name, size: blob.size }));
    }
    packer.finalize();
    await written;
  });
}

/** Push every platform's blobs and manifest (by digest), then the index under the tag. */
export async function pushIndex(
  index: ImageIndex,
  target: string,
  progress: (line: string) => void,
): Promise<PushReport> {
  const ref = parsePushReference(target);
  const perImage = index.images.map(({ image }) => blobsOf(image, ref.registry));
  const client = pushClient(ref, perImage.flat());
  const done = new Map<string, PushedBlob>();
  for (const blobs of perImage)
    for (const blob of blobs)
      if (!done.has(blob.digest)) done.set(blob.digest, await pushBlob(client, ref, blob, progress));
  for (const { image, platform } of index.images) {
    await putManifest(client, ref, image.manifestDigest, MEDIA.ociManifest, image.manifest);
    progress(`pushed the ${formatPlatform(platform)} manifest ${image.manifestDigest}`);
  }
  await putManifest(client, ref, ref.tag, MEDIA.ociIndex, index.body);
  const report = summarize(formatReference(ref), index.digest, [...done.values()]);
  progress(
    `pushed ${target}@${index.digest}: an index over ${index.images.map(({ platform }) => formatPlatform(platform)).join(", ")} (${report.uploaded} blobs sent, ${report.reused} already there or mounted)`,
  );
  return report;
}
