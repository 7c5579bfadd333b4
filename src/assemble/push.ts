// Push an assembled image with the OCI distribution API: blobs the registry has are not sent, base layers are mounted.
import type { Readable } from "node:stream";
import { UserError } from "../errors.js";
import type { Assembled } from "./image.js";
import {
  formatReference,
  type ImageReference,
  parseReference,
  RegistryClient,
  unexpected,
} from "./registry.js";

/** A push target: the registry must be named, and it takes a tag (the digest is the manifest's own). */
export function parsePushReference(text: string): ImageReference & { tag: string } {
  const ref = parseReference(text, "--push");
  if (ref.digest !== undefined)
    throw new UserError(`--push ${text}: give a tag, not a digest (the digest is the pushed manifest's)`);
  return { ...ref, tag: ref.tag ?? "latest" };
}

export interface PushedBlob {
  digest: string;
  size: number;
  what: string;
  /** sent: uploaded now; present: the repository had it; mounted: linked from the base's repository, not sent */
  how: "sent" | "present" | "mounted";
}

export interface PushReport {
  reference: string;
  digest: string;
  /** Blobs sent, and blobs the registry already had (or mounted from the base's repository) */
  uploaded: number;
  reused: number;
  blobs: PushedBlob[];
}

export interface Blob {
  digest: string;
  size: number;
  open: () => Buffer | Readable;
  /** The blob as a whole file on disk, for writers that can copy a file (an OCI layout) */
  file?: string;
  what: string;
  /** A repository on the same registry that holds the blob (the base's), for a cross-repository mount */
  mountFrom?: string;
}

/** The blobs of one assembled image: base layers (mountable from the base's repository), ours, the config. */
export function blobsOf(image: Assembled, registry: string): Blob[] {
  const origin = image.base.origin;
  const mountFrom = origin && origin.registry === registry ? origin.repository : undefined;
  return [
    ...image.baseLayers.map((layer) => ({
      digest: layer.digest,
      size: layer.size,
      open: () => image.base.opened.source.open(layer.blob),
      ...(image.base.opened.source.fileOf ? { file: image.base.opened.source.fileOf(layer.blob) } : {}),
      what: "base layer",
      ...(mountFrom ? { mountFrom } : {}),
    })),
    ...image.layers.map((layer) => ({
      digest: layer.packed.digest,
      size: layer.packed.gzip.length,
      open: () => layer.packed.gzip,
      what: layer.holds,
    })),
    { digest: image.configDigest, size: image.config.length, open: () => image.config, what: "config" },
  ];
}

/** A client for pushing to `ref`, allowed to read the repositories that blobs are mounted from. */
export function pushClient(ref: ImageReference, blobs: Blob[]): RegistryClient {
  const from = [...new Set(blobs.flatMap((blob) => (blob.mountFrom ? [blob.mountFrom] : [])))].filter(
    (repository) => repository !== ref.repository,
  );
  return new RegistryClient(ref.registry, [
    `repository:${ref.repository}:pull,push`,
    ...from.map((repository) => `repository:${repository}:pull`),
  ]);
}

/** Put one blob unless the repository has it: HEAD, then a mount from the base's repository, then a monolithic PUT. */
export async function pushBlob(
  client: RegistryClient,
  ref: ImageReference,
  blob: Blob,
  progress: (line: string) => void,
): Promise<PushedBlob> {
  const done = (how: PushedBlob["how"]): PushedBlob => ({
    digest: blob.digest,
    size: blob.size,
    what: blob.what,
    how,
  });
  const head = await client.request("HEAD", `${ref.repository}/blobs/${blob.digest}`);
  head.drop();
  if (head.status === 200) return done("present");
  if (head.status !== 404) throw await unexpected(ref.registry, `checking ${blob.digest}`, head);
  const mounting = blob.mountFrom !== undefined && blob.mountFrom !== ref.repository;
  const query = mounting
    ? `?mount=${encodeURIComponent(blob.digest)}&from=${encodeURIComponent(blob.mountFrom as string)}`
    : "";
  const start = await client.request("POST", `${ref.repository}/blobs/uploads/${query}`, {
    "content-length": 0,
  });
  start.drop();
  if (mounting && start.status === 201) {
    progress(`mounted ${blob.digest.slice(7, 19)} from ${blob.mountFrom}: ${blob.what}`);
    return done("mounted");
  }
  // A registry that cannot mount (or may not: no read access to the source) starts a plain upload instead.
  if (start.status !== 202 || !start.headers.location)
    throw await unexpected(ref.registry, "starting an upload", start);
  const location = new URL(start.headers.location, client.root);
  location.searchParams.set("digest", blob.digest);
  const put = await client.request(
    "PUT",
    location,
    { "content-type": "application/octet-stream", "content-length": blob.size },
    blob.open,
  );
  if (put.status !== 201) throw await unexpected(ref.registry, `uploading ${blob.digest}`, put);
  put.drop();
  progress(`pushed ${blob.digest.slice(7, 19)} ${(blob.size / 1024).toFixed(0)} KiB: ${blob.what}`);
  return done("sent");
}

export async function putManifest(
  client: RegistryClient,
  ref: ImageReference,
  reference: string,
  mediaType: string,
  body: Buffer,
): Promise<void> {
  const answer = await client.request(
    "PUT",
    `${ref.repository}/manifests/${reference}`,
    { "content-type": mediaType, "content-length": body.length },
    () => body,
  );
  if (answer.status !== 201) throw await unexpected(ref.registry, "putting the manifest", answer);
  answer.drop();
}

export function summarize(reference: string, digest: string, blobs: PushedBlob[]): PushReport {
  return {
    reference,
    digest,
    uploaded: blobs.filter((blob) => blob.how === "sent").length,
    reused: blobs.filter((blob) => blob.how !== "sent").length,
    blobs,
  };
}

/** Upload what the registry lacks, then the manifest under the tag. */
export async function pushImage(
  image: Assembled,
  target: string,
  progress: (line: string) => void,
): Promise<PushReport> {
  const ref = parsePushReference(target);
  const blobs = blobsOf(image, ref.registry);
  const client = pushClient(ref, blobs);
  const pushed: PushedBlob[] = [];
  for (const blob of blobs) pushed.push(await pushBlob(client, ref, blob, progress));
  await putManifest(client, ref, ref.tag, "application/vnd.oci.image.manifest.v1+json", image.manifest);
  const report = summarize(formatReference(ref), image.manifestDigest, pushed);
  progress(
    `pushed ${target}@${image.manifestDigest} (${report.uploaded} blobs sent, ${report.reused} already there or mounted)`,
  );
  return report;
}
