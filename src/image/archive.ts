// Open an image archive (docker save tar, OCI archive tar or OCI layout directory): its config and ordered layer blobs.
import { stat } from "node:fs/promises";
import * as v from "valibot";
import { UserError } from "../errors.js";
import {
  type Descriptor,
  describeIssues,
  dockerManifest,
  type ImageConfig,
  imageConfig,
  MAX_JSON_BYTES,
  ociIndex,
  ociManifest,
  oneLine,
} from "./schemas.js";
import { type BlobSource, DirSource, TarSource } from "./source.js";
import { TarFormatError } from "./tar-index.js";

export type { HistoryEntry, ImageConfig } from "./schemas.js";

export interface LayerBlob {
  /** Path of the blob inside the archive */
  blob: string;
  /** Media type from the manifest (docker save's manifest.json has none) */
  mediaType: string | undefined;
  /** Bytes of the blob as stored (compressed or not) */
  storedSize: number;
}

export interface OpenedImage {
  format: "docker-archive" | "oci";
  source: BlobSource;
  config: ImageConfig;
  layers: LayerBlob[];
  tags: string[];
}

export const LAYER_MEDIA_TYPES = new Set([
  "application/vnd.oci.image.layer.v1.tar",
  "application/vnd.oci.image.layer.v1.tar+gzip",
  "application/vnd.oci.image.layer.v1.tar+zstd",
  "application/vnd.oci.image.layer.nondistributable.v1.tar",
  "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
  "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
  "application/vnd.docker.image.rootfs.diff.tar",
  "application/vnd.docker.image.rootfs.diff.tar.gzip",
  "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
]);
const MANIFEST_TYPES = new Set([
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
]);
const INDEX_TYPES = new Set([
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
]);

function bad(label: string, message: string): UserError {
  return new UserError(oneLine(`${label}: ${message}`), { exitCode: 2 });
}

/** Where a blob lives in an OCI layout; the digest was validated, so the path cannot leave blobs/. */
function blobPath(digest: string): string {
  const [alg, hex] = digest.split(":");
  return `blobs/${alg}/${hex}`;
}

/** Read `name` from the archive, parse it and check it against `schema`; one line naming the file otherwise. */
async function json<S extends v.GenericSchema>(
  source: BlobSource,
  name: string,
  schema: S,
): Promise<v.InferOutput<S>> {
  if (!(await source.has(name))) throw bad(source.label, `${name} is missing`);
  const size = await source.size(name);
  if (size > MAX_JSON_BYTES)
    throw bad(source.label, `${name} is ${size} bytes, more than any image document (${MAX_JSON_BYTES})`);
  let value: unknown;
  try {
    value = JSON.parse(await source.readText(name));
  } catch {
    throw bad(source.label, `${name} is not valid JSON`);
  }
  const parsed = v.safeParse(schema, value);
  if (!parsed.success) throw bad(source.label, `${name}: ${describeIssues(parsed.issues)}`);
  return parsed.output;
}

const hostArch = process.arch === "x64" ? "amd64" : process.arch;

async function openDockerArchive(source: BlobSource): Promise<OpenedImage> {
  const [first] = await json(source, "manifest.json", dockerManifest);
  if (!first) throw bad(source.label, "manifest.json lists no image");
  const config: ImageConfig = await json(source, first.Config, imageConfig);
  const layers: LayerBlob[] = [];
  for (const blob of first.Layers) {
    if (!(await source.has(blob))) throw bad(source.label, `layer ${blob} named in manifest.json is missing`);
    layers.push({ blob, mediaType: undefined, storedSize: await source.size(blob) });
  }
  return { format: "docker-archive", source, config, layers, tags: first.RepoTags ?? [] };
}

async function openOci(source: BlobSource, architecture?: string): Promise<OpenedImage> {
  let indexName = "index.json";
  let index = await json(source, indexName, ociIndex);
  const tags: string[] = [];
  for (let depth = 0; depth < 4; depth++) {
    const candidates: Descriptor[] = index.manifests;
    const forPlatform = (arch: string) =>
      candidates.find((d) => d.platform?.os === "linux" && d.platform.architecture === arch);
    // Asked for an architecture: that one (an entry without a platform may be a nested index or the only image).
    const chosen = architecture
      ? (forPlatform(architecture) ?? candidates.find((d) => !d.platform))
      : (forPlatform(hostArch) ??
        candidates.find((d) => d.platform?.architecture !== "unknown") ??
        candidates[0]);
    if (!chosen)
      throw bad(
        source.label,
        architecture ? `${indexName} has no image for linux/${architecture}` : `${indexName} lists no image`,
      );
    const ref = chosen.annotations?.["org.opencontainers.image.ref.name"];
    if (ref) tags.push(ref);
    const mediaType = chosen.mediaType;
    if (mediaType && INDEX_TYPES.has(mediaType)) {
      indexName = blobPath(chosen.digest);
      index = await json(source, indexName, ociIndex);
      continue;
    }
    const manifestName = blobPath(chosen.digest);
    const manifest = await json(source, manifestName, ociManifest);
    const type = mediaType ?? manifest.mediaType;
    if (type && !MANIFEST_TYPES.has(type))
      throw bad(source.label, `${manifestName}: unknown manifest media type ${type}`);
    const config: ImageConfig = await json(source, blobPath(manifest.config.digest), imageConfig);
    const layers: LayerBlob[] = [];
    for (const layer of manifest.layers) {
      if (!layer.mediaType || !LAYER_MEDIA_TYPES.has(layer.mediaType))
        throw bad(source.label, `${manifestName}: unknown layer media type ${layer.mediaType ?? "(none)"}`);
      const blob = blobPath(layer.digest);
      if (!(await source.has(blob))) throw bad(source.label, `layer blob ${layer.digest} is missing`);
      layers.push({ blob, mediaType: layer.mediaType, storedSize: await source.size(blob) });
    }
    return { format: "oci", source, config, layers, tags };
  }
  throw bad(source.label, "OCI indexes nest too deep");
}

/**
 * Open a docker-archive or OCI archive tar, or an OCI layout directory; UserError (exit 2) for anything else.
 * From an OCI index, the image for `architecture` (default: this machine's, else the first).
 */
export async function openImageArchive(target: string, architecture?: string): Promise<OpenedImage> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(target);
  } catch {
    throw new UserError(`${target}: no such file or directory`, { exitCode: 2 });
  }
  let source: BlobSource;
  // A FIFO or a device would be read forever (or block): only a regular file or a folder can be an image archive.
  if (!info.isDirectory() && !info.isFile())
    throw bad(
      target,
      "not a regular file or folder (give a docker-archive tar, an OCI archive or an OCI layout)",
    );
  if (info.isDirectory()) source = new DirSource(target, target);
  else {
    try {
      source = await TarSource.open(target);
    } catch (error) {
      if (error instanceof TarFormatError) throw bad(target, `not a valid image archive (${error.message})`);
      const code = (error as NodeJS.ErrnoException).code;
      if (code) throw bad(target, `cannot read it (${code})`);
      throw error;
    }
  }
  if (await source.has("manifest.json")) return openDockerArchive(source);
  if (await source.has("index.json")) return openOci(source, architecture);
  throw bad(target, "neither a docker-archive (no manifest.json) nor an OCI layout (no index.json)");
}
