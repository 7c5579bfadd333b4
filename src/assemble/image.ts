// The assembled image's config and manifest, and its two on-disk forms: a docker-archive and an OCI layout.
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { lstat, mkdir, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { describeFsError, OutputFileError, RefusedError, UserError } from "../errors.js";
import { detectCompression } from "../image/layer.js";
import type { BaseImage } from "./base.js";
import { gzippedBaseLayer } from "./base-gzip.js";
import type { AssembleCache } from "./cache.js";
import type { PackedLayer } from "./layer.js";
import { placeBlobs } from "./layout-blobs.js";
import { TarWriter } from "./tar-writer.js";

export interface BaseLayer {
  blob: string;
  /** sha256 of the blob as stored */
  digest: string;
  size: number;
  compression: "gzip" | "zstd" | "none";
  diffId: string;
}

export interface OwnLayer {
  packed: PackedLayer;
  /** What it holds, for the history and the report */
  holds: string;
  /** Taken from the cache of an earlier run rather than packed now */
  reused?: boolean;
}

export interface Assembled {
  base: BaseImage;
  baseLayers: BaseLayer[];
  layers: OwnLayer[];
  config: Buffer;
  configDigest: string;
  manifest: Buffer;
  manifestDigest: string;
}

const MEDIA = {
  manifest: "application/vnd.oci.image.manifest.v1+json",
  index: "application/vnd.oci.image.index.v1+json",
  config: "application/vnd.oci.image.config.v1+json",
  tar: "application/vnd.oci.image.layer.v1.tar",
  gzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  zstd: "application/vnd.oci.image.layer.v1.tar+zstd",
};

function digestOf(data: Buffer): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

/** Digest, size and compression of each base layer as stored (hashed from the blob when its name is not a digest). */
export async function describeBaseLayers(base: BaseImage): Promise<BaseLayer[]> {
  // The archive reader checks only what inspect needs; the diff_ids go into our config, so check them here.
  const rootfs = (base.opened.config as { rootfs?: { diff_ids?: unknown } }).rootfs;
  const listed = Array.isArray(rootfs?.diff_ids) ? (rootfs.diff_ids as unknown[]) : [];
  if (!listed.every((id): id is string => typeof id === "string" && /^sha256:[0-9a-f]{64}$/.test(id)))
    throw new UserError(`${base.label}: the image config's rootfs.diff_ids are not sha256 digests`);
  const diffIds = listed as string[];
  if (diffIds.length !== base.opened.layers.length)
    throw new UserError(
      `${base.label}: the config lists ${diffIds.length} layers but the manifest ${base.opened.layers.length}`,
    );
  const out: BaseLayer[] = [];
  for (const [index, layer] of base.opened.layers.entries()) {
    const hash = createHash("sha256");
    let head: Buffer | undefined;
    for await (const chunk of base.opened.source.chunks(layer.blob)) {
      head ??= Buffer.from(chunk.subarray(0, 4));
      hash.update(chunk);
    }
    const digest = `sha256:${hash.digest("hex")}`;
    // In an OCI layout (and the pull cache) a blob is named by its digest: a damaged copy must not reach an image.
    const named = /^blobs\/sha256\/([0-9a-f]{64})$/.exec(layer.blob);
    if (named && `sha256:${named[1]}` !== digest)
      throw new UserError(`${base.label}: the blob ${layer.blob} hashes to ${digest}: damaged`, {
        hint: base.origin
          ? "remove that file from the cache (COUPLET_CACHE) and run again"
          : "rewrite the OCI layout",
      });
    out.push({
      blob: layer.blob,
      digest,
      size: layer.storedSize,
      compression: head ? detectCompression(head) : "none",
      diffId: diffIds[index] as string,
    });
  }
  return out;
}

export interface ImageSettings {
  created: Date;
  env: Record<string, string>;
  user: string | undefined;
  workdir: string;
  entrypoint: string[] | undefined;
  cmd: string[] | undefined;
  labels: Record<string, string>;
  exposed: number[];
  /** Folders declared as volumes (the Dockerfile's VOLUME): the app's writable folders */
  volumes?: string[];
  /** Summary of the settings for the history */
  settingsHistory: string;
}

/** Config JSON (keys in a fixed order) and the OCI manifest over base layers as stored and ours gzipped. */
export function buildImage(
  base: BaseImage,
  baseLayers: BaseLayer[],
  layers: OwnLayer[],
  settings: ImageSettings,
): Assembled {
  const inherited = base.opened.config;
  const env = new Map<string, string>();
  for (const line of inherited.config?.Env ?? []) {
    const at = line.indexOf("=");
    if (at > 0) env.set(line.slice(0, at), line.slice(at + 1));
  }
  for (const [key, value] of Object.entries(settings.env))
    env.set(key, value.replace(/\$PATH/, env.get("PATH") ?? ""));
  const created = settings.created.toISOString().replace(/\.000Z$/, "Z");
  const inheritedConfig = (inherited.config ?? {}) as Record<string, unknown>;
  const config: Record<string, unknown> = {
    ...inheritedConfig,
    Env: [...env].map(([key, value]) => `${key}=${value}`),
    WorkingDir: settings.workdir,
    Labels: { ...((inheritedConfig.Labels as Record<string, string> | undefined) ?? {}), ...settings.labels },
  };
  if (settings.user) config.User = settings.user;
  // As in a Dockerfile: ENTRYPOINT resets the inherited CMD; CMD alone keeps the inherited ENTRYPOINT.
  if (settings.entrypoint) {
    config.Entrypoint = settings.entrypoint;
    delete config.Cmd;
  }
  if (settings.cmd) config.Cmd = settings.cmd;
  if (settings.exposed.length > 0)
    config.ExposedPorts = {
      ...((inheritedConfig.ExposedPorts as Record<string, object> | undefined) ?? {}),
      ...Object.fromEntries(settings.exposed.map((port) => [`${port}/tcp`, {}])),
    };
  if (settings.volumes?.length)
    config.Volumes = {
      ...((inheritedConfig.Volumes as Record<string, object> | undefined) ?? {}),
      ...Object.fromEntries(settings.volumes.map((volume) => [volume, {}])),
    };
  const history = [
    ...(inherited.history ?? []),
    ...layers.map((layer) => ({
      created,
      created_by: `couplet assemble: ${layer.holds}`,
      comment: "couplet",
    })),
    {
      created,
      created_by: `couplet assemble: ${settings.settingsHistory}`,
      comment: "couplet",
      empty_layer: true,
    },
  ];
  const configJson: Record<string, unknown> = {
    created,
    architecture: base.architecture,
    os: "linux",
    config,
    rootfs: {
      type: "layers",
      diff_ids: [...baseLayers.map((layer) => layer.diffId), ...layers.map((layer) => layer.packed.diffId)],
    },
    history,
  };
  const configBytes = Buffer.from(JSON.stringify(configJson));
  const configDigest = digestOf(configBytes);
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA.manifest,
    config: { mediaType: MEDIA.config, digest: configDigest, size: configBytes.length },
    layers: [
      ...baseLayers.map((layer) => ({
        mediaType: MEDIA[layer.compression === "none" ? "tar" : layer.compression],
        digest: layer.digest,
        size: layer.size,
      })),
      ...layers.map((layer) => ({
        mediaType: MEDIA.gzip,
        digest: layer.packed.digest,
        size: layer.packed.gzip.length,
      })),
    ],
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  return {
    base,
    baseLayers,
    layers,
    config: configBytes,
    configDigest,
    manifest: manifestBytes,
    manifestDigest: digestOf(manifestBytes),
  };
}

export function hex(digest: string): string {
  return digest.slice("sha256:".length);
}

/**
 * What may be replaced at `target`: nothing, or an earlier output of the same kind (a file for a
 * docker-archive; an empty folder or one holding `oci-layout` for a layout). The replace is recursive,
 * so `--oci-layout .` or `--output ~` must be refused rather than remove the user's folder.
 */
export async function checkReplaceable(target: string, kind: "file" | "oci-layout"): Promise<void> {
  // Outputs go into an existing folder: a mistyped path must not grow a tree of new folders.
  const parent = path.dirname(target);
  const folder = await stat(parent).catch(() => undefined);
  if (!folder?.isDirectory())
    throw new OutputFileError(
      `cannot write: ${parent} ${folder ? "is not a folder" : "does not exist"}; nothing was written`,
      { location: { file: target }, hint: "create the folder first, or give another path" },
    );
  const info = await lstat(target).catch(() => undefined);
  if (!info) return;
  const refuse = (what: string): never => {
    throw new RefusedError(`${what}; assemble replaces only an earlier output, nothing was written`, {
      location: { file: target },
      hint: `give a new path for the ${kind === "file" ? "docker-archive" : "OCI layout"}`,
    });
  };
  if (kind === "file") {
    if (!info.isFile()) refuse("exists and is not a file");
    return;
  }
  if (!info.isDirectory()) refuse("exists and is not a folder");
  const names = await readdir(target);
  if (names.length > 0 && !names.includes("oci-layout")) refuse("is a folder that is not an OCI layout");
}

/** Write `target` through a temporary sibling and a rename: a failure never leaves a half-written output. */
export async function atomically(
  target: string,
  kind: "file" | "oci-layout",
  write: (temporary: string) => Promise<void>,
): Promise<void> {
  await checkReplaceable(target, kind);
  const temporary = path.join(
    path.dirname(target),
    `.${path.basename(target)}.${randomBytes(6).toString("hex")}.tmp`,
  );
  try {
    await write(temporary);
    await rm(target, { recursive: true, force: true });
    await rename(temporary, target);
  } catch (error) {
    // Where the temporary could not even be made, removing it fails too (ENOTDIR): the first error is the one to tell.
    await rm(temporary, { recursive: true, force: true }).catch(() => undefined);
    // A failure to write the output (a file where a folder goes, no permission, a full disk) is the user's
    // to fix: one line naming the output. Other failures (reading the base) keep their own message.
    const failed = (error as NodeJS.ErrnoException | undefined)?.path;
    if (typeof failed === "string" && (failed.startsWith(temporary) || failed === target))
      throw new OutputFileError(`cannot write: ${describeFsError(error)}; nothing was written`, {
        location: { file: target },
        hint: "check that the folder exists and is writable",
      });
    // A typed failure that names the temporary (a scratch folder beside it) names a path that is gone: the output.
    if (error instanceof OutputFileError && error.location?.file.startsWith(temporary))
      throw new OutputFileError(error.message, {
        location: { file: target },
        ...(error.hint ? { hint: error.hint } : {}),
      });
    throw error;
  }
}

/**
 * A docker-archive (`docker save` form): loadable by docker, podman and buildah, which all accept a gzip layer
 * file as well as a plain tar (and docker 20.10 no zstd). Ours go in as their gzip blob; a gzip base layer as
 * stored; any other base layer as a gzip copy kept in `cache` (see base-gzip.ts), so a rebuild copies ~100 MB
 * of gzip rather than a ~260 MB plain base layer, and nothing is recompressed twice. The image's digests are
 * unchanged by this: a docker-archive names layers by diff_id, and the config is the same.
 */
export async function writeDockerArchive(
  image: Assembled,
  target: string,
  tag: string,
  mtime: Date,
  cache?: AssembleCache,
): Promise<void> {
  await atomically(target, "file", async (temporary) => {
    const scratch = `${temporary}.layers`;
    const tar = await TarWriter.create(temporary, mtime);
    try {
      const layerNames: string[] = [];
      for (const layer of image.baseLayers) {
        if (layer.compression === "gzip") {
          const name = `${hex(layer.digest)}.tar.gz`;
          layerNames.push(name);
          await tar.add(name, layer.size, image.base.opened.source.chunks(layer.blob));
          continue;
        }
        const gzipped = await gzippedBaseLayer(image.base.opened.source, layer, cache, scratch);
        const name = `${hex(gzipped.digest)}.tar.gz`;
        layerNames.push(name);
        await tar.add(name, gzipped.size, createReadStream(gzipped.file, { highWaterMark: 4 << 20 }));
      }
      for (const layer of image.layers) {
        const name = `${hex(layer.packed.digest)}.tar.gz`;
        layerNames.push(name);
        await tar.add(name, layer.packed.gzip.length, layer.packed.gzip);
      }
      await tar.add(`${hex(image.configDigest)}.json`, image.config.length, image.config);
      const manifest = Buffer.from(
        JSON.stringify([{ Config: `${hex(image.configDigest)}.json`, RepoTags: [tag], Layers: layerNames }]),
      );
      await tar.add("manifest.json", manifest.length, manifest);
      await tar.finish();
    } finally {
      await tar.close();
      await rm(scratch, { recursive: true, force: true });
    }
  });
}

/**
 * The index's `org.opencontainers.image.ref.name`: the tag part of `[host[:port]/]name[:tag]`, as buildah and
 * skopeo read `oci:DIR:TAG`. A colon before the last slash is a registry's port, not a tag.
 */
export function ociRefName(tag: string): string {
  const name = tag.slice(tag.lastIndexOf("/") + 1);
  const colon = name.lastIndexOf(":");
  return colon >= 0 ? name.slice(colon + 1) : "latest";
}

/**
 * An OCI image layout folder: base blobs as stored, ours gzipped, one index entry named by the tag. Rewriting
 * an earlier layout links the blobs it already holds (placeBlobs), so a rebuild writes only what changed.
 */
export async function writeOciLayout(image: Assembled, target: string, tag: string): Promise<void> {
  await atomically(target, "oci-layout", async (temporary) => {
    const blobs = path.join(temporary, "blobs", "sha256");
    await mkdir(blobs, { recursive: true });
    const source = image.base.opened.source;
    await placeBlobs(blobs, path.join(target, "blobs", "sha256"), [
      ...image.baseLayers.map((layer) => ({
        digest: layer.digest,
        size: layer.size,
        ...(source.fileOf ? { file: source.fileOf(layer.blob) } : {}),
        open: () => source.open(layer.blob),
      })),
      ...image.layers.map((layer) => ({
        digest: layer.packed.digest,
        size: layer.packed.gzip.length,
        open: () => layer.packed.gzip,
      })),
      { digest: image.configDigest, size: image.config.length, open: () => image.config },
      { digest: image.manifestDigest, size: image.manifest.length, open: () => image.manifest },
    ]);
    await writeFile(
      path.join(temporary, "oci-layout"),
      `${JSON.stringify({ imageLayoutVersion: "1.0.0" })}\n`,
    );
    const ref = ociRefName(tag);
    const index = {
      schemaVersion: 2,
      mediaType: MEDIA.index,
      manifests: [
        {
          mediaType: MEDIA.manifest,
          digest: image.manifestDigest,
          size: image.manifest.length,
          platform: { architecture: image.base.architecture, os: "linux" },
          annotations: { "org.opencontainers.image.ref.name": ref },
        },
      ],
    };
    await writeFile(path.join(temporary, "index.json"), `${JSON.stringify(index)}\n`);
  });
}
