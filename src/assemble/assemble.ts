// `couplet assemble`: a Poetry project's image from its lock, a base image on disk and downloaded wheels, no engine.
import { createHash } from "node:crypto";
import { defaultTag } from "../engine/project-build.js";
import { UserError } from "../errors.js";
import { generateFor } from "../pipeline.js";
import type { Plan } from "../plan/types.js";
import { analyze } from "../project/analyze.js";
import { type BaseImage, readBase } from "./base.js";
import { cacheRoot, fetchWheel, type WheelRequest } from "./download.js";
import { sourceDateEpoch } from "./epoch.js";
import {
  type Assembled,
  buildImage,
  checkReplaceable,
  describeBaseLayers,
  type OwnLayer,
  writeDockerArchive,
  writeOciLayout,
} from "./image.js";
import { LayerTree, packLayer } from "./layer.js";
import { chooseWheels, platformOf, productionPackages, selectionFor } from "./packages.js";
import { parsePlatform } from "./pull.js";
import { type PushReport, parsePushReference, pushImage } from "./push.js";
import { projectLayer, setupLayer, venvFor } from "./runtime.js";
import { installWheel } from "./wheel.js";

export interface AssembleOptions {
  /** A registry reference (host/name:tag, name@sha256:…), or a docker-archive, OCI archive or OCI layout on disk */
  base: string;
  /** Write a docker-archive here */
  output?: string;
  /** Write an OCI image layout folder here */
  ociLayout?: string;
  /** Push to this registry reference (host[:port]/name[:tag]) */
  push?: string;
  tag?: string;
  /** "linux/amd64": checked against the base, whose architecture decides */
  platform?: string;
  /** Seconds since the epoch for every timestamp; default SOURCE_DATE_EPOCH, else the project's last commit */
  sourceDateEpoch?: number;
  /** Download cache; default COUPLET_CACHE or ~/.cache/couplet */
  cacheDir?: string;
  onProgress?: (line: string) => void;
}

export interface AssembleReport {
  tag: string;
  /** The image id: digest of its config */
  configDigest: string;
  manifestDigest: string;
  base: { source: string; python: string; executable: string; glibc: string; architecture: string };
  created: string;
  layers: { holds: string; digest: string; diffId: string; size: number }[];
  packages: { name: string; version: string; wheel: string; cached: boolean }[];
  outputs: { dockerArchive?: string; ociLayout?: string; pushed?: PushReport };
}

/** A package whose install is at least this big gets a layer of its own; smaller ones share a few buckets. */
const OWN_LAYER_BYTES = 4 * 1024 * 1024;
const BUCKETS = 8;

/** Run `work` over `items` with at most `limit` at once, results in input order. */
async function mapLimit<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function bucketOf(name: string): number {
  return (createHash("sha256").update(name).digest()[0] as number) % BUCKETS;
}

/**
 * Third-party layers: a big package alone, the small ones in buckets chosen by a hash of their name, so that a
 * changed dependency re-creates one small layer and adding one shifts no other package.
 */
function dependencyLayers(
  installed: { request: WheelRequest; tree: LayerTree }[],
): { tree: LayerTree; holds: string }[] {
  const own: { tree: LayerTree; holds: string }[] = [];
  const buckets = new Map<number, { tree: LayerTree; names: string[] }>();
  for (const { request, tree } of installed) {
    const label = `${request.name} ${request.version}`;
    if (tree.size >= OWN_LAYER_BYTES) {
      own.push({ tree, holds: label });
      continue;
    }
    const bucket = bucketOf(request.name);
    const held = buckets.get(bucket) ?? { tree: new LayerTree(), names: [] };
    held.tree.merge(tree);
    held.names.push(label);
    buckets.set(bucket, held);
  }
  const shared = [...buckets.entries()]
    .sort(([a], [b]) => a - b)
    .map(([, held]) => ({ tree: held.tree, holds: held.names.join(", ") }));
  return [...shared, ...own];
}

function settingsFor(plan: Plan, created: Date) {
  const venvBin = `${plan.layout.venv}/bin`;
  const entry = plan.entrypoint;
  const user = plan.layout.user ? `${plan.layout.user.uid}:${plan.layout.user.uid}` : undefined;
  const command = entry
    ? `${entry.form === "entrypoint" ? "ENTRYPOINT" : "CMD"} ${JSON.stringify(entry.command)}`
    : "";
  return {
    created,
    env: {
      PYTHONDONTWRITEBYTECODE: "1",
      PYTHONUNBUFFERED: "1",
      PIP_DISABLE_PIP_VERSION_CHECK: "1",
      VIRTUAL_ENV: plan.layout.venv,
      PATH: `${venvBin}:$PATH`,
    },
    user,
    workdir: plan.layout.workdir,
    entrypoint: entry?.form === "entrypoint" ? entry.command : undefined,
    cmd: entry?.form === "cmd" ? entry.command : undefined,
    labels: plan.labels,
    exposed: plan.expose,
    settingsHistory: [
      `ENV VIRTUAL_ENV=${plan.layout.venv} PATH=${venvBin}:$PATH`,
      user ? `USER ${user}` : "",
      `WORKDIR ${plan.layout.workdir}`,
      command,
    ]
      .filter(Boolean)
      .join(", "),
  };
}

/** Assemble the project in `dir` onto the base and write the outputs asked for. */
export async function assemble(dir: string, options: AssembleOptions): Promise<AssembleReport> {
  if (!options.output && !options.ociLayout && !options.push)
    throw new UserError(
      "nothing to write: give --output FILE (docker-archive), --oci-layout DIR or --push REF",
    );
  // A bad reference or an output that must not be replaced is refused before any download.
  if (options.push) parsePushReference(options.push);
  if (options.output) await checkReplaceable(options.output, "file");
  if (options.ociLayout) await checkReplaceable(options.ociLayout, "oci-layout");
  const progress = options.onProgress ?? (() => {});
  const project = await analyze(dir);
  const epoch = await sourceDateEpoch(project.dir, options.sourceDateEpoch);
  const cacheDir = options.cacheDir ?? cacheRoot();
  const base: BaseImage = await readBase(options.base, {
    cacheDir,
    progress,
    ...(options.platform ? { platform: parsePlatform(options.platform) } : {}),
  });
  if (options.platform && options.platform !== `linux/${base.architecture}`)
    throw new UserError(
      `--platform ${options.platform}: the base image ${options.base} is linux/${base.architecture}`,
      {
        hint: "give a base image for that platform (one platform per run for now)",
      },
    );
  const minor = `${base.python.major}.${base.python.minor}`;
  progress(
    `base ${options.base}: CPython ${base.python.version} (${base.python.executable}), glibc ${base.glibc.major}.${base.glibc.minor}, ${base.architecture}`,
  );
  // The plan and .dockerignore `couplet init` would write for this interpreter and platform: the same pipeline.
  const { plan, files } = generateFor(project, { python: minor, platforms: [platformOf(base)] });
  const venv = venvFor(plan, base);
  const selection = selectionFor(project, base);
  const wheels = chooseWheels(productionPackages(project, selection), selection, base);
  const installed = await mapLimit(wheels, 4, async (request) => {
    const { data, cached } = await fetchWheel(request, cacheDir);
    progress(`${cached ? "cached" : "downloaded"} ${request.filename}`);
    return { request, cached, tree: await installWheel(data, request.filename, venv) };
  });
  const created = new Date(epoch * 1000);
  const trees: { tree: LayerTree; holds: string }[] = [
    { tree: setupLayer(plan, base, venv), holds: `runtime user and an empty venv at ${venv.root}` },
    ...dependencyLayers(installed),
    {
      tree: await projectLayer(project, plan, venv, files.dockerignore),
      holds: `the project ${project.name} ${project.version ?? ""}`.trim(),
    },
  ];
  const layers: OwnLayer[] = [];
  for (const { tree, holds } of trees) {
    const packed = await packLayer(tree, created);
    layers.push({ packed, holds });
    progress(`layer ${packed.digest.slice(7, 19)} ${(packed.gzip.length / 1024).toFixed(0)} KiB: ${holds}`);
  }
  const image: Assembled = buildImage(
    base,
    await describeBaseLayers(base),
    layers,
    settingsFor(plan, created),
  );
  const tag = options.tag ?? defaultTag(project.name);
  if (options.output) {
    await writeDockerArchive(image, options.output, tag, created);
    progress(`wrote ${options.output} (docker-archive, ${tag})`);
  }
  if (options.ociLayout) {
    await writeOciLayout(image, options.ociLayout, tag);
    progress(`wrote ${options.ociLayout} (OCI layout, ${tag})`);
  }
  const pushed = options.push ? await pushImage(image, options.push, progress) : undefined;
  return {
    tag,
    configDigest: image.configDigest,
    manifestDigest: image.manifestDigest,
    base: {
      source: options.base,
      python: base.python.version,
      executable: base.python.executable,
      glibc: `${base.glibc.major}.${base.glibc.minor}`,
      architecture: base.architecture,
    },
    created: created.toISOString(),
    layers: layers.map((layer) => ({
      holds: layer.holds,
      digest: layer.packed.digest,
      diffId: layer.packed.diffId,
      size: layer.packed.gzip.length,
    })),
    packages: installed.map(({ request, cached }) => ({
      name: request.name,
      version: request.version,
      wheel: request.filename,
      cached,
    })),
    outputs: {
      ...(options.output ? { dockerArchive: options.output } : {}),
      ...(options.ociLayout ? { ociLayout: options.ociLayout } : {}),
      ...(pushed ? { pushed } : {}),
    },
  };
}
