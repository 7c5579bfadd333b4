// Pull a base image from a registry: the platform's manifest (through an index), its config and layers into the CAS cache.
import { createHash, randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import * as v from "valibot";
import { describeFsError, OutputFileError, UserError } from "../errors.js";
import { LAYER_MEDIA_TYPES, type LayerBlob, type OpenedImage } from "../image/archive.js";
import {
  type Descriptor,
  describeIssues,
  type ImageConfig,
  imageConfig,
  MAX_JSON_BYTES,
  ociIndex,
  ociManifest,
} from "../image/schemas.js";
import { DirSource } from "../image/source.js";
import {
  formatReference,
  type ImageReference,
  parseReference,
  RegistryClient,
  unexpected,
} from "./registry.js";

export const MEDIA = {
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
};
const ACCEPT = [MEDIA.ociManifest, MEDIA.ociIndex, MEDIA.dockerManifest, MEDIA.dockerList].join(", ");
const INDEXES = new Set([MEDIA.ociIndex, MEDIA.dockerList]);

export interface Platform {
  os: "linux";
  architecture: string;
  variant?: string;
}

/** `linux/amd64`, `linux/arm64`, `linux/arm64/v8`. */
export function parsePlatform(text: string): Platform {
  const [os, architecture, variant, ...more] = text.split("/");
  if (os !== "linux" || !architecture || more.length > 0)
    throw new UserError(`--platform ${text}: expected linux/<architecture>, e.g. linux/amd64 or linux/arm64`);
  return { os, architecture, ...(variant ? { variant } : {}) };
}

export function formatPlatform(platform: { os?: string; architecture?: string; variant?: string }): string {
  return [
    platform.os ?? "?",
    platform.architecture ?? "?",
    ...(platform.variant ? [platform.variant] : []),
  ].join("/");
}

/** Whether an index entry is for the platform; arm64's only variant is v8, so an entry without one matches too. */
export function matchesPlatform(entry: Descriptor["platform"], wanted: Platform): boolean {
  if (entry?.os !== wanted.os || entry.architecture !== wanted.architecture) return false;
  const variant = (entry as { variant?: unknown }).variant;
  if (wanted.variant === undefined || variant === undefined) return true;
  return variant === wanted.variant;
}

/** Where the pulled image came from, so a push to the same registry can mount its layers instead of sending them. */
export interface Origin {
  registry: string;
  repository: string;
  /** The platform's manifest digest */
  manifestDigest: string;
}

/** Bytes of one blob received so far, reported as they arrive (the caller throttles what it shows). */
export interface BlobTransfer {
  /** What the blob is, for a person: `base layer 0123456789ab of REF` */
  label: string;
  done: number;
  /** From the manifest; undefined when it does not say */
  total: number | undefined;
}

export interface PulledBase {
  opened: OpenedImage;
  origin: Origin;
}

interface Fetched {
  body: Buffer;
  digest: string;
  mediaType: string | undefined;
}

function sha256(data: Buffer): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

/** A JSON document's media type: its own field, else the Content-Type the registry sent. */
function mediaTypeOf(body: Buffer, contentType: string | undefined): string | undefined {
  try {
    const parsed = JSON.parse(body.toString("utf8")) as { mediaType?: unknown };
    if (typeof parsed.mediaType === "string") return parsed.mediaType;
  } catch {
    // reported by the caller's schema check
  }
  return contentType?.split(";")[0]?.trim();
}

async function fetchManifest(
  client: RegistryClient,
  ref: ImageReference,
  reference: string,
): Promise<Fetched> {
  const answer = await client.request("GET", `${ref.repository}/manifests/${reference}`, { accept: ACCEPT });
  if (answer.status === 404) {
    answer.drop();
    throw new UserError(`${formatReference(ref)}: not found in the registry (${reference})`, {
      hint: "check the name and tag",
    });
  }
  if (answer.status !== 200)
    throw await unexpected(ref.registry, `reading the manifest ${reference}`, answer);
  const body = Buffer.from(await answer.text(MAX_JSON_BYTES), "utf8");
  const digest = sha256(body);
  const claimed = answer.headers["docker-content-digest"];
  if (
    reference.startsWith("sha256:") ? digest !== reference : typeof claimed === "string" && claimed !== digest
  )
    throw new UserError(
      `${formatReference(ref)}: the manifest's sha256 is ${digest}, not ${reference.startsWith("sha256:") ? reference : claimed}`,
      { hint: "the registry served different bytes than it names; try again, or report it to the registry" },
    );
  return { body, digest, mediaType: mediaTypeOf(body, answer.headers["content-type"]) };
}

function parseJson<S extends v.GenericSchema>(
  label: string,
  what: string,
  body: Buffer,
  schema: S,
): v.InferOutput<S> {
  let value: unknown;
  try {
    value = JSON.parse(body.toString("utf8"));
  } catch {
    throw new UserError(`${label}: the ${what} is not valid JSON`);
  }
  const parsed = v.safeParse(schema, value);
  if (!parsed.success) throw new UserError(`${label}: the ${what}: ${describeIssues(parsed.issues)}`);
  return parsed.output;
}

export function blobFile(cacheDir: string, digest: string): string {
  return path.join(cacheDir, "blobs", "sha256", digest.slice("sha256:".length));
}

/** A blob into the cache, streamed and hashed on the way; kept only when its sha256 and size are the ones named. */
async function fetchBlob(
  client: RegistryClient,
  ref: ImageReference,
  descriptor: Descriptor,
  cacheDir: string,
  onBytes: (done: number) => void = () => {},
): Promise<boolean> {
  const file = blobFile(cacheDir, descriptor.digest);
  const present = await stat(file).catch(() => undefined);
  if (present?.isFile() && (descriptor.size === undefined || present.size === descriptor.size)) return false;
  const answer = await client.request("GET", `${ref.repository}/blobs/${descriptor.digest}`);
  if (answer.status !== 200)
    throw await unexpected(ref.registry, `reading the blob ${descriptor.digest}`, answer);
  const temporary = `${file}.${randomBytes(6).toString("hex")}.tmp`;
  const hash = createHash("sha256");
  let size = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      size += chunk.length;
      onBytes(size);
      done(null, chunk);
    },
  });
  try {
    await mkdir(path.dirname(file), { recursive: true });
    await pipeline(answer.stream, counter, createWriteStream(temporary));
  } catch (error) {
    await rm(temporary, { force: true });
    if ((error as NodeJS.ErrnoException).path)
      throw new OutputFileError(`cannot write the blob cache: ${describeFsError(error)}`, {
        location: { file: path.dirname(file) },
        hint: "set COUPLET_CACHE to a writable folder",
      });
    throw answer.failure(error);
  }
  const digest = `sha256:${hash.digest("hex")}`;
  if (digest !== descriptor.digest || (descriptor.size !== undefined && size !== descriptor.size)) {
    await rm(temporary, { force: true });
    throw new UserError(
      `${formatReference(ref)}: the blob ${descriptor.digest} arrived as ${digest} (${size} bytes); nothing was kept`,
      { hint: "the registry served different bytes than the manifest names; try again" },
    );
  }
  await rename(temporary, file);
  return true;
}

/** The entries of an index as `linux/arm64`, for a message. */
function listed(manifests: Descriptor[]): string {
  return manifests
    .map((entry) => entry.platform)
    .filter((platform) => platform && platform.architecture !== "unknown")
    .map((platform) => formatPlatform(platform ?? {}))
    .join(", ");
}

/** The platforms an image reference offers (one, unnamed, when it is a single manifest). */
export async function platformsOf(text: string): Promise<Platform[] | undefined> {
  const ref = parseReference(text, "--base", true);
  const client = new RegistryClient(ref.registry, [`repository:${ref.repository}:pull`]);
  const top = await fetchManifest(client, ref, ref.digest ?? ref.tag ?? "latest");
  if (!top.mediaType || !INDEXES.has(top.mediaType)) return undefined;
  const index = parseJson(formatReference(ref), "index", top.body, ociIndex);
  return index.manifests
    .filter((entry) => entry.platform?.os === "linux" && entry.platform.architecture !== "unknown")
    .map((entry) => ({
      os: "linux" as const,
      architecture: entry.platform?.architecture as string,
      ...((entry.platform as { variant?: string }).variant
        ? { variant: (entry.platform as { variant: string }).variant }
        : {}),
    }));
}

/**
 * Pull `text` for `platform`: through an index (OCI or Docker manifest list) to the platform's manifest (OCI or
 * Docker schema 2), then its config and layers into `cacheDir/blobs/sha256/`, each fetched once and verified.
 */
export async function pullBase(
  text: string,
  asked: Platform | undefined,
  cacheDir: string,
  progress: (line: string) => void,
  onTransfer: (transfer: BlobTransfer) => void = () => {},
): Promise<PulledBase> {
  // Not asked: an index gives this machine's platform, a single image is taken as it is.
  const platform: Platform = asked ?? {
    os: "linux",
    architecture: process.arch === "arm64" ? "arm64" : "amd64",
  };
  const ref = parseReference(text, "--base", true);
  const label = formatReference(ref);
  const client = new RegistryClient(ref.registry, [`repository:${ref.repository}:pull`]);
  let fetched = await fetchManifest(client, ref, ref.digest ?? ref.tag ?? "latest");
  if (fetched.mediaType && INDEXES.has(fetched.mediaType)) {
    const index = parseJson(label, "index", fetched.body, ociIndex);
    const chosen = index.manifests.find((entry) => matchesPlatform(entry.platform, platform));
    if (!chosen)
      throw new UserError(
        `${label}: no image for ${formatPlatform(platform)} (it has ${listed(index.manifests) || "none named"})`,
        {
          hint: "give a base image for that platform",
        },
      );
    fetched = await fetchManifest(client, ref, chosen.digest);
  }
  if (fetched.mediaType !== MEDIA.ociManifest && fetched.mediaType !== MEDIA.dockerManifest)
    throw new UserError(`${label}: unsupported manifest type ${fetched.mediaType ?? "(none)"}`, {
      hint: "couplet reads OCI and Docker schema 2 manifests; push the base again with a current engine",
    });
  const manifest = parseJson(label, "manifest", fetched.body, ociManifest);
  for (const layer of manifest.layers)
    if (!layer.mediaType || !LAYER_MEDIA_TYPES.has(layer.mediaType))
      throw new UserError(`${label}: unknown layer media type ${layer.mediaType ?? "(none)"}`);
  await fetchBlob(client, ref, manifest.config, cacheDir);
  const source = new DirSource(label, cacheDir);
  const configName = path.posix.join("blobs", "sha256", manifest.config.digest.slice(7));
  const config: ImageConfig = parseJson(
    label,
    "image config",
    Buffer.from(await source.readText(configName), "utf8"),
    imageConfig,
  );
  // A single-platform image for another platform: say so before pulling its layers.
  if (asked && config.architecture && config.architecture !== asked.architecture)
    throw new UserError(`${label}: the image is linux/${config.architecture}, not ${formatPlatform(asked)}`, {
      hint: `give a base for that platform: --base ${formatPlatform(asked)}=REF`,
    });
  const layers: LayerBlob[] = [];
  for (const layer of manifest.layers) {
    const what = `base layer ${layer.digest.slice(7, 19)} of ${label}`;
    const fresh = await fetchBlob(client, ref, layer, cacheDir, (done) =>
      onTransfer({ label: what, done, total: layer.size }),
    );
    const blob = path.posix.join("blobs", "sha256", layer.digest.slice(7));
    const storedSize = await source.size(blob);
    progress(
      `${fresh ? "pulled" : "cached"} ${layer.digest.slice(7, 19)} ${(storedSize / 1048576).toFixed(1)} MiB: base layer of ${label}`,
    );
    layers.push({ blob, mediaType: layer.mediaType, storedSize });
  }
  return {
    opened: { format: "oci", source, config, layers, tags: ref.tag ? [ref.tag] : [] },
    origin: { registry: ref.registry, repository: ref.repository, manifestDigest: fetched.digest },
  };
}
