// Open an image archive (docker save tar, OCI archive tar or OCI layout directory): its config and ordered layer blobs.
import { stat } from "node:fs/promises";
import { UserError } from "../errors.js";
import { type BlobSource, DirSource, TarSource } from "./source.js";
import { TarFormatError } from "./tar-index.js";

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  comment?: string;
  empty_layer?: boolean;
}

export interface ImageConfig {
  architecture?: string;
  os?: string;
  config?: { Env?: string[]; User?: string; Cmd?: string[]; Entrypoint?: string[]; WorkingDir?: string };
  history?: HistoryEntry[];
  rootfs?: { diff_ids?: string[] };
}

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

interface Descriptor {
  mediaType?: string;
  digest: string;
  size?: number;
  platform?: { os?: string; architecture?: string };
}

function bad(label: string, message: string): UserError {
  return new UserError(`${label}: ${message}`, { exitCode: 2 });
}

function blobPath(digest: string): string {
  const [alg, hex] = digest.split(":");
  if (!alg || !hex || !/^[a-z0-9]+$/.test(alg) || !/^[a-f0-9]+$/.test(hex))
    throw new Error(`bad digest ${digest}`);
  return `blobs/${alg}/${hex}`;
}

async function json<T>(source: BlobSource, name: string): Promise<T> {
  if (!(await source.has(name))) throw bad(source.label, `${name} is missing`);
  const text = await source.readText(name);
  try {
    return JSON.parse(text) as T;
  } catch {
    throw bad(source.label, `${name} is not valid JSON`);
  }
}

const hostArch = process.arch === "x64" ? "amd64" : process.arch;

async function openDockerArchive(source: BlobSource): Promise<OpenedImage> {
  const manifests = await json<{ Config: string; RepoTags?: string[] | null; Layers: string[] }[]>(
    source,
    "manifest.json",
  );
  const first = manifests[0];
  if (!Array.isArray(manifests) || !first || typeof first.Config !== "string" || !Array.isArray(first.Layers))
    throw bad(source.label, "manifest.json does not describe an image");
  const config = await json<ImageConfig>(source, first.Config);
  const layers: LayerBlob[] = [];
  for (const blob of first.Layers) {
    if (!(await source.has(blob))) throw bad(source.label, `layer ${blob} named in manifest.json is missing`);
    layers.push({ blob, mediaType: undefined, storedSize: await source.size(blob) });
  }
  return { format: "docker-archive", source, config, layers, tags: first.RepoTags ?? [] };
}

async function openOci(source: BlobSource): Promise<OpenedImage> {
  let index = await json<{ mediaType?: string; manifests?: Descriptor[] }>(source, "index.json");
  const tags: string[] = [];
  for (let depth = 0; depth < 4; depth++) {
    const candidates = index.manifests ?? [];
    const chosen =
      candidates.find((d) => d.platform?.os === "linux" && d.platform.architecture === hostArch) ??
      candidates.find((d) => d.platform?.architecture !== "unknown") ??
      candidates[0];
    if (!chosen) throw bad(source.label, "the OCI index lists no image");
    const ref = (chosen as { annotations?: Record<string, string> }).annotations?.[
      "org.opencontainers.image.ref.name"
    ];
    if (ref) tags.push(ref);
    const mediaType = chosen.mediaType;
    if (mediaType && INDEX_TYPES.has(mediaType)) {
      index = await json(source, blobPath(chosen.digest));
      continue;
    }
    const manifest = await json<{ mediaType?: string; config?: Descriptor; layers?: Descriptor[] }>(
      source,
      blobPath(chosen.digest),
    );
    const type = mediaType ?? manifest.mediaType;
    if (type && !MANIFEST_TYPES.has(type)) throw bad(source.label, `unknown manifest media type ${type}`);
    if (!manifest.config || !Array.isArray(manifest.layers))
      throw bad(source.label, "the OCI manifest has no config or layers");
    const config = await json<ImageConfig>(source, blobPath(manifest.config.digest));
    const layers: LayerBlob[] = [];
    for (const layer of manifest.layers) {
      if (!layer.mediaType || !LAYER_MEDIA_TYPES.has(layer.mediaType))
        throw bad(source.label, `unknown layer media type ${layer.mediaType ?? "(none)"}`);
      const blob = blobPath(layer.digest);
      if (!(await source.has(blob))) throw bad(source.label, `layer blob ${layer.digest} is missing`);
      layers.push({ blob, mediaType: layer.mediaType, storedSize: await source.size(blob) });
    }
    return { format: "oci", source, config, layers, tags };
  }
  throw bad(source.label, "OCI indexes nest too deep");
}

/** Open a docker-archive or OCI archive tar, or an OCI layout directory; UserError (exit 2) for anything else. */
export async function openImageArchive(target: string): Promise<OpenedImage> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(target);
  } catch {
    throw new UserError(`${target}: no such file or directory`, { exitCode: 2 });
  }
  let source: BlobSource;
  if (info.isDirectory()) source = new DirSource(target, target);
  else {
    try {
      source = await TarSource.open(target);
    } catch (error) {
      if (error instanceof TarFormatError) throw bad(target, `not a valid image archive (${error.message})`);
      throw error;
    }
  }
  if (await source.has("manifest.json")) return openDockerArchive(source);
  if (await source.has("index.json")) return openOci(source);
  throw bad(target, "neither a docker-archive (no manifest.json) nor an OCI layout (no index.json)");
}
