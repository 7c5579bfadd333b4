// `couplet assemble`: a Poetry project's image from its lock, a base image and downloaded wheels, no engine.
import path from "node:path";
import { defaultTag } from "../engine/project-build.js";
import { UserError } from "../errors.js";
import type { MissingLibrary } from "../image/libraries.js";
import { type Generated, generateFor } from "../pipeline.js";
import { containerCommand } from "../plan/command.js";
import { imageWarnings } from "../plan/plan.js";
import type { Plan } from "../plan/types.js";
import { analyze } from "../project/analyze.js";
import type { Project } from "../project/types.js";
import { type BaseImage, isRegistryReference } from "./base.js";
import { readBaseCached } from "./base-cache.js";
import { warmBaseGzip, warmLocalBaseGzip } from "./base-gzip.js";
import { BytecodeCompiler, findHostPython } from "./bytecode.js";
import { AssembleCache } from "./cache.js";
import { type PreparedDependencies, prepareDependencies } from "./dependencies.js";
import { cacheRoot, type WheelRequest } from "./download.js";
import { sourceDateEpoch } from "./epoch.js";
import {
  type Assembled,
  type BaseLayer,
  buildImage,
  checkReplaceable,
  type ImageSettings,
  type OwnLayer,
  writeDockerArchive,
  writeOciLayout,
} from "./image.js";
import { buildIndex, pushIndex, writeIndexArchive, writeIndexLayout } from "./index-image.js";
import { type LayerTree, packLayer } from "./layer.js";
import {
  debianPackagesFor,
  describeProblem,
  librariesOf,
  missingLibraries,
  type PackageProblem,
} from "./libraries.js";
import { buildahReference, type LocalWheel, readWheelDir } from "./local-wheels.js";
import { chooseWheels, platformOf, productionPackages, selectionFor } from "./packages.js";
import { type BlobTransfer, formatPlatform, type Platform, parsePlatform } from "./pull.js";
import { type PushReport, parsePushReference, pushImage } from "./push.js";
import { compileProject, projectLayer, setupLayer, venvFor } from "./runtime.js";
import {
  derivedBaseCommand,
  describeRuntimePackage,
  type RuntimePackage,
  runtimePackagesIn,
} from "./runtime-packages.js";
import type { Venv } from "./wheel.js";

export interface AssembleOptions {
  /**
   * A registry reference (host/name:tag, name@sha256:…), or a docker-archive, OCI archive or OCI layout on disk;
   * several as `linux/arm64=REF`, one per platform
   */
  base: string | string[];
  /** Write a docker-archive here */
  output?: string;
  /** Write an OCI image layout folder here */
  ociLayout?: string;
  /** Push to this registry reference (host[:port]/name[:tag]) */
  push?: string;
  tag?: string;
  /** "linux/amd64" or "linux/amd64,linux/arm64": one image per platform and an index over them */
  platform?: string;
  /** Seconds since the epoch for every timestamp; default SOURCE_DATE_EPOCH, else the project's last commit */
  sourceDateEpoch?: number;
  /**
   * Write the image even when the base lacks what the code needs at run time: a shared library a package links
   * to, or a Debian package the plan installs at run time (each is still printed, and listed in the report): for
   * a base the image will be extended from, or a module never imported
   */
  allowMissingLibraries?: boolean;
  /** Download cache; default COUPLET_CACHE or ~/.cache/couplet */
  cacheDir?: string;
  /**
   * Compile the venv's and the code's bytecode with a host CPython of the base's minor version (default true);
   * false, or no such interpreter on PATH: no .pyc, and a note says what that costs
   */
  bytecode?: boolean;
  /**
   * A folder of wheels built once (pip wheel in the base) for packages whose lock has no wheel that fits; a
   * package with a locked wheel never takes one from here
   */
  wheels?: string;
  /**
   * The container command, as `couplet init --cmd` takes it once parsed (words; one word with spaces, or
   * operators, is run by sh): replaces the command the plan would choose, and becomes the config's Cmd
   */
  cmd?: string[];
  onProgress?: (line: string) => void;
  /** A base layer's bytes as they download (many calls per layer: throttle what is shown) */
  onTransfer?: (transfer: BlobTransfer) => void;
}

export interface PlatformReport {
  /** linux/amd64 */
  platform: string;
  /** The image id: digest of its config */
  configDigest: string;
  manifestDigest: string;
  base: {
    source: string;
    python: string;
    executable: string;
    glibc: string;
    architecture: string;
    /** Its facts and layer digests came from the cache (the same archive, or registry manifest, was read before) */
    cached: boolean;
  };
  /** `reused`: the layer's blob came from the cache, made by an earlier run from the same inputs */
  layers: { holds: string; digest: string; diffId: string; size: number; reused: boolean }[];
  /** `sha256`: the file's, checked against the lock; for a wheel from --wheels (`local` is its path), its own */
  packages: {
    name: string;
    version: string;
    wheel: string;
    sha256: string;
    cached: boolean;
    local?: string;
  }[];
  /** Empty unless --allow-missing-libraries let the image be written without them */
  missingLibraries: (MissingLibrary & { package: string })[];
  /**
   * The Debian packages the plan installs at run time (what `couplet build` apt-installs), each with why and
   * whether the base has it: `missing` only when --allow-missing-libraries let the image be written without it
   */
  runtimePackages: RuntimePackage[];
  /** What the container runs: the config's Entrypoint and Cmd as written (a key left out is unset) */
  command: ImageCommand;
}

export interface ImageCommand {
  entrypoint?: string[];
  cmd?: string[];
  /** Where it came from: --cmd, [tool.couplet] cmd, a console script, a detected app; or `the base image` */
  source: string;
}

export interface BytecodeReport {
  /** The layers carry .pyc for the packages' and the project's modules */
  compiled: boolean;
  /** The interpreter that compiled them, e.g. { command: "/usr/bin/python3.11", version: "3.11.7" } */
  python?: { command: string; version: string };
  /** Modules compiled by this run (layers reused from the cache were compiled by the run that made them) */
  files?: number;
  /** Modules left without bytecode because they do not compile (templates shipped as .py), as pip skips them */
  skipped?: number;
  /** Why there is no bytecode */
  reason?: string;
}

export interface AssembleReport extends Omit<PlatformReport, "platform"> {
  tag: string;
  /** What the tag names: the image's manifest, or with several platforms the index over them */
  digest: string;
  created: string;
  /** One per platform, in the order asked for; the fields above repeat the first */
  images: PlatformReport[];
  bytecode: BytecodeReport;
  /** What `couplet plan` warns of about this image (printed as `warning:` lines too) */
  warnings: string[];
  outputs: { dockerArchive?: string; ociArchive?: string; ociLayout?: string; pushed?: PushReport };
}

/** The image config's settings from the plan: user, env, workdir, command, labels, ports. */
export function settingsFor(plan: Plan, created: Date): ImageSettings {
  const venvBin = `${plan.layout.venv}/bin`;
  const entry = plan.entrypoint;
  const user = plan.layout.user ? `${plan.layout.user.uid}:${plan.layout.user.uid}` : undefined;
  const volumes = plan.writable.map((dir) => path.posix.join(plan.layout.workdir, dir));
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
    volumes,
    settingsHistory: [
      `ENV VIRTUAL_ENV=${plan.layout.venv} PATH=${venvBin}:$PATH`,
      user ? `USER ${user}` : "",
      `WORKDIR ${plan.layout.workdir}`,
      volumes.length ? `VOLUME ${JSON.stringify(volumes)}` : "",
      command,
    ]
      .filter(Boolean)
      .join(", "),
  };
}

/** `--base` as given: `REF`, or `linux/arm64=REF` for one platform of several. */
export function parseBaseArgument(text: string): { platform?: Platform; ref: string } {
  const found = /^(linux\/[^=]+)=(.+)$/.exec(text);
  return found ? { platform: parsePlatform(found[1] as string), ref: found[2] as string } : { ref: text };
}

function samePlatform(a: Platform, b: Platform): boolean {
  return a.architecture === b.architecture && (a.variant ?? "") === (b.variant ?? "");
}

interface Target {
  /** Set when platforms were asked for (--platform, or --base PLATFORM=REF) */
  platform: Platform | undefined;
  source: string;
  base: BaseImage;
  baseLayers: BaseLayer[];
  /** The base's facts came from the cache */
  cached: boolean;
}

function transfer(options: AssembleOptions): { onTransfer?: (transfer: BlobTransfer) => void } {
  return options.onTransfer ? { onTransfer: options.onTransfer } : {};
}

/**
 * The base for each platform asked for: a `--base PLATFORM=REF` for that platform, else the one plain `--base`
 * (a registry index or an OCI layout with an index gives each platform its own image). No platform asked for:
 * the one base, whose architecture decides.
 */
async function targetsFor(
  options: AssembleOptions,
  cacheDir: string,
  cache: AssembleCache,
  progress: (line: string) => void,
): Promise<Target[]> {
  const given = (Array.isArray(options.base) ? options.base : [options.base]).map(parseBaseArgument);
  const plain = given.filter((entry) => !entry.platform);
  if (plain.length > 1)
    throw new UserError(`--base given ${plain.length} times without a platform`, {
      hint: "give one --base REF, or one --base linux/ARCH=REF per platform",
    });
  const platforms = options.platform
    ? options.platform.split(",").map((text) => parsePlatform(text.trim()))
    : given.some((entry) => entry.platform)
      ? given.flatMap((entry) => (entry.platform ? [entry.platform] : []))
      : undefined;
  if (!platforms) {
    const source = plain[0]?.ref as string;
    const read = await readBaseCached(source, cache, { cacheDir, progress, ...transfer(options) });
    return [{ platform: undefined, source, base: read.base, baseLayers: read.layers, cached: read.cached }];
  }
  platforms.forEach((platform, index) => {
    if (platforms.findIndex((other) => samePlatform(other, platform)) !== index)
      throw new UserError(`--platform ${formatPlatform(platform)} is named twice`);
  });
  const targets: Target[] = [];
  for (const platform of platforms) {
    const entry = given.find((e) => e.platform && samePlatform(e.platform, platform)) ?? plain[0];
    if (!entry)
      throw new UserError(`${formatPlatform(platform)}: no --base for this platform`, {
        hint: `give --base ${formatPlatform(platform)}=REF, or one --base whose index holds every platform`,
      });
    const read = await readBaseCached(entry.ref, cache, {
      cacheDir,
      progress,
      platform,
      ...transfer(options),
    });
    const base = read.base;
    if (base.architecture !== platform.architecture)
      throw new UserError(
        `--platform ${formatPlatform(platform)}: the base image ${entry.ref} is linux/${base.architecture}`,
        { hint: `give a base for that platform: --base ${formatPlatform(platform)}=REF` },
      );
    targets.push({ platform, source: entry.ref, base, baseLayers: read.layers, cached: read.cached });
  }
  return targets;
}

/**
 * The plan and .dockerignore `couplet init` would write for this base's interpreter and platform, with the same
 * --cmd: the same pipeline, so the image starts as the Dockerfile's would.
 */
export function planFor(project: Project, base: BaseImage, cmd: string[] | undefined): Generated {
  // The base's own Debian release names the runtime packages: python:3.12-slim is trixie, where couplet's
  // Dockerfile for 3.12 would start from bookworm, and bookworm's names are missing from trixie's archive.
  const release = base.libraries?.release;
  return generateFor(project, {
    python: `${base.python.major}.${base.python.minor}`,
    platforms: [platformOf(base)],
    ...(cmd ? { cmd } : {}),
    ...(release === "bookworm" || release === "trixie" ? { debian: release } : {}),
  });
}

/** A platform's image before any layer is packed: what the library check needs, and what packing then uses. */
interface Prepared {
  target: Target;
  plan: Plan;
  venv: Venv;
  dependencies: PreparedDependencies;
  project: LayerTree;
  problems: PackageProblem[];
  runtime: RuntimePackage[];
  /** The base as buildah names it, for the commands a refusal prints */
  baseRef: string;
}

type LocalWheels = { dir: string; wheels: LocalWheel[] };

interface Built {
  target: Target;
  image: Assembled;
  command: ImageCommand;
  layers: OwnLayer[];
  packages: { request: WheelRequest; downloaded: boolean }[];
  problems: PackageProblem[];
  runtime: RuntimePackage[];
}

/**
 * A platform's plan, its wheels installed (or their facts from the cache) and the project's files, and the shared
 * libraries they need that the image would lack: all decided before a layer is packed or an output written.
 */
async function prepareOne(
  project: Project,
  cmd: string[] | undefined,
  target: Target,
  created: Date,
  cacheDir: string,
  cache: AssembleCache,
  compiler: BytecodeCompiler | undefined,
  local: LocalWheels | undefined,
  progress: (line: string) => void,
): Promise<Prepared> {
  const { base, source } = target;
  progress(
    `base ${source}: CPython ${base.python.version} (${base.python.executable}), glibc ${base.glibc.major}.${base.glibc.minor}, ${base.architecture}`,
  );
  const { plan, files } = planFor(project, base, cmd);
  const venv = venvFor(plan, base);
  const selection = selectionFor(project, base);
  const baseRef = await buildahReference(source, base.opened.format);
  const wheels = chooseWheels(productionPackages(project, selection), selection, base, {
    ...(local ? { local } : {}),
    baseRef,
  });
  const dependencies = await prepareDependencies(wheels, {
    venv,
    python: base.python,
    created,
    ...(compiler ? { compiler } : {}),
    cacheDir,
    cache,
    progress,
  });
  const projectTree = await projectLayer(project, plan, venv, files.dockerignore);
  if (compiler) await compileProject(projectTree, compiler, project, plan, venv);
  const problems = missingLibraries(base.libraries, [
    ...dependencies.installed.map(({ request, libraries }) => ({
      label: `${request.name} ${request.version}`,
      libraries,
    })),
    { label: projectLabel(project), libraries: librariesOf(projectTree) },
  ]);
  const runtime = runtimePackagesIn(plan, base.dpkg, base.architecture);
  return { target, plan, venv, dependencies, project: projectTree, problems, runtime, baseRef };
}

function projectLabel(project: Project): string {
  return `the project ${project.name} ${project.version ?? ""}`.trim();
}

/** One image: the venv's layers, the dependencies' and the project's, config and manifest. */
async function assembleOne(
  project: Project,
  prepared: Prepared,
  created: Date,
  progress: (line: string) => void,
): Promise<Built> {
  const { target, plan, venv } = prepared;
  const base = target.base;
  const dependencies = await prepared.dependencies.layers();
  const layers: OwnLayer[] = [];
  const own = async (tree: LayerTree, holds: string) => {
    const { tar: _tar, ...packed } = await packLayer(tree, created);
    layers.push({ packed, holds });
    progress(`layer ${packed.digest.slice(7, 19)} ${(packed.gzip.length / 1024).toFixed(0)} KiB: ${holds}`);
  };
  await own(setupLayer(plan, base, venv), `runtime user and an empty venv at ${venv.root}`);
  layers.push(...dependencies.layers);
  await own(prepared.project, projectLabel(project));
  const image = buildImage(base, target.baseLayers, layers, settingsFor(plan, created));
  return {
    target,
    image,
    command: commandOf(image, plan),
    layers,
    packages: dependencies.packages,
    problems: prepared.problems,
    runtime: prepared.runtime,
  };
}

/** The config's Entrypoint and Cmd as written, which may be the base's, and where they came from. */
export function commandOf(image: Assembled, plan: Plan): ImageCommand {
  const { config } = JSON.parse(image.config.toString("utf8")) as {
    config: { Entrypoint?: string[] | null; Cmd?: string[] | null };
  };
  return {
    ...(config.Entrypoint ? { entrypoint: config.Entrypoint } : {}),
    ...(config.Cmd ? { cmd: config.Cmd } : {}),
    source: plan.entrypoint?.source ?? "the base image",
  };
}

/** What one platform's base lacks, for the refusal. */
export interface BaseLack {
  /** linux/amd64 */
  platform: string;
  /** Shared libraries that packages link to (DT_NEEDED) and the base lacks */
  problems: PackageProblem[];
  /** The plan's runtime Debian packages that the base's package database does not list as installed */
  runtime?: RuntimePackage[];
  /** The base as buildah names it: with it, the hint prints the commands that make a base with the packages */
  baseRef?: string;
  /** false when the base has no apt-get to install them with */
  aptGet?: boolean;
}

/**
 * What every platform's base lacks, as one line: the plan's runtime packages it does not have (each with why it
 * is wanted), then each package with the files and sonames it lacks (the platform named when there are several);
 * the hint gives the way through: the buildah commands that make a base with the Debian packages, the --base to
 * assemble onto it, or `couplet build`.
 */
export function baseLacksError(lacks: BaseLack[]): UserError {
  const several = lacks.length > 1;
  const prefix = (platform: string) => (several ? `${platform}: ` : "");
  const runtime = lacks.flatMap(({ platform, runtime }) =>
    runtime?.length
      ? [
          `${prefix(platform)}the base lacks Debian packages the plan installs at run time: ${runtime.map(describeRuntimePackage).join(", ")}`,
        ]
      : [],
  );
  const libraries = lacks.flatMap(({ platform, problems }) =>
    problems.map((problem) => `${prefix(platform)}${describeProblem(problem)}`),
  );
  const message = runtime.length
    ? `cannot assemble: ${runtime.join("; ")}${libraries.length ? `; and an image that would fail at import: ${libraries.join("; ")}` : ""}`
    : `cannot assemble an image that would fail at import: ${libraries.join("; ")}`;
  const { unknown } = debianPackagesFor(lacks.flatMap(({ problems }) => problems));
  const commands: string[] = [];
  const bases: string[] = [];
  let noApt = false;
  for (const lack of lacks) {
    const wanted = [
      ...new Set([
        ...(lack.runtime ?? []).map(({ name }) => name),
        ...debianPackagesFor(lack.problems).packages,
      ]),
    ].sort();
    if (wanted.length === 0) continue;
    if (lack.aptGet === false || !lack.baseRef) {
      noApt ||= lack.aptGet === false;
      continue;
    }
    const arch = lack.platform.replace(/^linux\//, "").replace(/\//g, "-");
    const output = several ? `base-with-packages-${arch}.tar` : "base-with-packages.tar";
    commands.push(`\`${derivedBaseCommand(wanted, lack.baseRef, output, several ? arch : undefined)}\``);
    bases.push(several ? `--base ${lack.platform}=${output}` : `--base ${output}`);
  }
  const way = commands.length
    ? `make a base that has them: ${commands.join(" and ")}, then assemble onto it: \`couplet assemble ${bases.join(" ")}\` with your other options`
    : noApt
      ? "the base has no apt-get to install them with: assemble onto a base that has them"
      : "assemble onto a base that has them";
  const find = unknown.length ? `; no Debian package is known for ${unknown.join(", ")}` : "";
  return new UserError(message, {
    hint: `${way}; or use \`couplet build\`, whose runtime stage installs the packages couplet knows a package needs${find}; --allow-missing-libraries writes the image anyway`,
  });
}

/**
 * What each platform's base lacks, decided before anything is written: a refusal (one line for every platform),
 * or with `allow` a warning per missing runtime package and one for the missing libraries. A runtime package
 * that cannot be checked (the base has no package database) is a warning either way.
 */
export function baseVerdict(
  bases: (Omit<BaseLack, "runtime"> & { source: string; runtime: RuntimePackage[] })[],
  allow: boolean,
): { warnings: string[]; error?: UserError } {
  const warnings = bases.flatMap(({ source, runtime }) =>
    runtime
      .filter(({ base }) => base === "unchecked")
      .map(
        (item) =>
          `warning: the base ${source} has no Debian package database (/var/lib/dpkg/status or status.d), so couplet cannot check that it has ${describeRuntimePackage(item)}, which the plan installs at run time`,
      ),
  );
  const failing = bases
    .map((entry) => ({ ...entry, runtime: entry.runtime.filter(({ base }) => base === "missing") }))
    .filter(({ problems, runtime }) => problems.length > 0 || runtime.length > 0);
  if (failing.length === 0) return { warnings };
  if (!allow) return { warnings, error: baseLacksError(failing) };
  const several = bases.length > 1;
  for (const { platform, runtime } of failing)
    for (const item of runtime)
      warnings.push(
        `warning: --allow-missing-libraries: ${several ? `${platform}: ` : ""}the base lacks ${describeRuntimePackage(item)}, which the plan installs at run time: the image is written without it`,
      );
  const libraries = failing.filter(({ problems }) => problems.length > 0);
  if (libraries.length > 0)
    warnings.push(
      `warning: --allow-missing-libraries: ${baseLacksError(libraries.map(({ platform, problems }) => ({ platform, problems }))).message.replace(/^cannot assemble/, "assembling")}`,
    );
  return { warnings };
}

/**
 * The compiler for a base's interpreter: a host CPython of its minor version, found once per minor version;
 * undefined when bytecode is off or there is none (with one note line saying what that costs).
 */
async function compilerFor(
  base: BaseImage,
  wanted: boolean,
  found: Map<string, Promise<BytecodeCompiler | undefined>>,
  progress: (line: string) => void,
): Promise<BytecodeCompiler | undefined> {
  const minor = `${base.python.major}.${base.python.minor}`;
  let compiler = found.get(minor);
  if (!compiler) {
    compiler = (async () => {
      const cost =
        "the image has no .pyc, so every start compiles each module it imports (up to about twice the time to the first answer, see docs/startup.md)";
      if (!wanted) {
        progress(`note: --no-bytecode: ${cost}`);
        return undefined;
      }
      const python = await findHostPython(base.python.major, base.python.minor);
      if (!python) {
        progress(`note: no python${minor} on PATH to compile the base's bytecode with: ${cost}`);
        return undefined;
      }
      return new BytecodeCompiler(python);
    })();
    found.set(minor, compiler);
  }
  return compiler;
}

function imageReport(built: Built): PlatformReport {
  const { image, target, layers, packages, problems, command, runtime } = built;
  const base = target.base;
  return {
    platform: `linux/${base.architecture}`,
    configDigest: image.configDigest,
    manifestDigest: image.manifestDigest,
    base: {
      source: target.source,
      python: base.python.version,
      executable: base.python.executable,
      glibc: `${base.glibc.major}.${base.glibc.minor}`,
      architecture: base.architecture,
      cached: target.cached,
    },
    layers: layers.map((layer) => ({
      holds: layer.holds,
      digest: layer.packed.digest,
      diffId: layer.packed.diffId,
      size: layer.packed.gzip.length,
      reused: layer.reused === true,
    })),
    packages: packages.map(({ request, downloaded }) => ({
      name: request.name,
      version: request.version,
      wheel: request.filename,
      sha256: request.sha256,
      cached: !downloaded,
      ...(request.path ? { local: request.path } : {}),
    })),
    missingLibraries: problems.flatMap(({ label, missing }) =>
      missing.map((item) => ({ package: label, ...item })),
    ),
    runtimePackages: runtime,
    command,
  };
}

/** The one --base when it names an archive or layout on disk and no platform is asked for; else undefined. */
async function singleLocalBase(options: AssembleOptions): Promise<string | undefined> {
  const given = Array.isArray(options.base) ? options.base : [options.base];
  if (options.platform || given.length !== 1) return undefined;
  const { platform, ref } = parseBaseArgument(given[0] as string);
  return platform || (await isRegistryReference(ref)) ? undefined : ref;
}

/** Assemble the project in `dir` onto the base (one image, or one per platform and an index) and write the outputs. */
export async function assemble(dir: string, options: AssembleOptions): Promise<AssembleReport> {
  if (!options.output && !options.ociLayout && !options.push)
    throw new UserError(
      "nothing to write: give --output FILE (docker-archive), --oci-layout DIR or --push REF",
    );
  // A bad reference or an output that must not be replaced is refused before any download.
  if (options.push) parsePushReference(options.push);
  // A command that cannot be the container's main process is refused as init refuses it, before any download.
  if (options.cmd) {
    if (options.cmd.length === 0) throw new UserError("--cmd is empty", { hint: "name the program to run" });
    containerCommand(options.cmd, "--cmd");
  }
  if (options.output) await checkReplaceable(options.output, "file");
  if (options.ociLayout) await checkReplaceable(options.ociLayout, "oci-layout");
  const progress = options.onProgress ?? (() => {});
  const cacheDir = options.cacheDir ?? cacheRoot();
  const cache = new AssembleCache(cacheDir);
  // A --wheels folder that cannot be read is refused before anything starts.
  const localWheels = options.wheels
    ? { dir: options.wheels, wheels: await readWheelDir(options.wheels) }
    : undefined;
  // A docker-archive carries non-gzip base layers as gzip copies (base-gzip.ts), made on worker threads while
  // this one reads the base and installs the wheels, rather than after; stopped if the run fails. A base on
  // disk is compressed from the start; one from a registry once it is pulled.
  const stopWarming = new AbortController();
  const local = options.output ? await singleLocalBase(options) : undefined;
  let warming = local ? warmLocalBaseGzip(local, cache, stopWarming.signal) : undefined;
  const prepared: Prepared[] = [];
  const compilers = new Map<string, Promise<BytecodeCompiler | undefined>>();
  const used = new Set<BytecodeCompiler | undefined>();
  let project: Project;
  let created: Date;
  try {
    project = await analyze(dir);
    const epoch = await sourceDateEpoch(project.dir, options.sourceDateEpoch);
    created = new Date(epoch * 1000);
    const targets = await targetsFor(options, cacheDir, cache, progress);
    const only = targets.length === 1 ? targets[0] : undefined;
    if (!warming && options.output && only)
      warming = warmBaseGzip(only.base.opened.source, only.baseLayers, cache, stopWarming.signal);
    for (const target of targets) {
      const compiler = await compilerFor(target.base, options.bytecode !== false, compilers, progress);
      used.add(compiler);
      prepared.push(
        await prepareOne(
          project,
          options.cmd,
          target,
          created,
          cacheDir,
          cache,
          compiler,
          localWheels,
          progress,
        ),
      );
    }
    for (const warning of warningsOf(prepared)) progress(`warning: ${warning}`);
    const verdict = baseVerdict(
      prepared.map(({ target, problems, runtime, baseRef }) => ({
        platform: `linux/${target.base.architecture}`,
        source: target.source,
        problems,
        runtime,
        baseRef,
        aptGet: target.base.dpkg?.aptGet ?? true,
      })),
      options.allowMissingLibraries === true,
    );
    for (const line of verdict.warnings) progress(line);
    if (verdict.error) throw verdict.error;
  } catch (error) {
    stopWarming.abort();
    await warming;
    throw error;
  }
  try {
    return await packAndWrite(project, prepared, used, created, options, cache, warming, progress);
  } finally {
    // A failure while packing, writing or pushing stops the compression rather than waiting for it (a no-op
    // after success, where writing the archive has awaited it).
    stopWarming.abort();
    await warming;
  }
}

/** The plans' warnings about the image (its command, Django's static files...), once each. */
function warningsOf(prepared: Prepared[]): string[] {
  return [...new Set(prepared.flatMap(({ plan }) => imageWarnings(plan)))];
}

async function packAndWrite(
  project: Project,
  prepared: Prepared[],
  used: Set<BytecodeCompiler | undefined>,
  created: Date,
  options: AssembleOptions,
  cache: AssembleCache,
  warming: Promise<void> | undefined,
  progress: (line: string) => void,
): Promise<AssembleReport> {
  const built: Built[] = [];
  for (const one of prepared) built.push(await assembleOne(project, one, created, progress));
  const bytecode = bytecodeReport([...used], options.bytecode !== false);
  if (bytecode.compiled)
    progress(
      `bytecode: ${bytecode.files} modules compiled with ${bytecode.python?.command} (${bytecode.python?.version})${bytecode.skipped ? `, ${bytecode.skipped} skipped (not Python)` : ""}`,
    );
  const tag = options.tag ?? defaultTag(project.name);
  const images = built.map(imageReport);
  const first = built[0] as Built;
  const outputs: AssembleReport["outputs"] = {};
  let digest = first.image.manifestDigest;
  if (built.length === 1) {
    const image = first.image;
    if (options.output) {
      await warming;
      await writeDockerArchive(image, options.output, tag, created, cache);
      progress(`wrote ${options.output} (docker-archive, ${tag})`);
      outputs.dockerArchive = options.output;
    }
    if (options.ociLayout) {
      await writeOciLayout(image, options.ociLayout, tag);
      progress(`wrote ${options.ociLayout} (OCI layout, ${tag})`);
      outputs.ociLayout = options.ociLayout;
    }
    if (options.push) outputs.pushed = await pushImage(image, options.push, progress);
  } else {
    const index = buildIndex(
      built.map(({ target, image }) => ({
        platform: target.platform ?? { os: "linux", architecture: target.base.architecture },
        image,
      })),
    );
    digest = index.digest;
    const names = index.images.map(({ platform }) => formatPlatform(platform)).join(", ");
    if (options.output) {
      await writeIndexArchive(index, options.output, tag, created);
      progress(
        `wrote ${options.output} (OCI archive with an index over ${names}: a docker-archive holds one image, not an index)`,
      );
      outputs.ociArchive = options.output;
    }
    if (options.ociLayout) {
      await writeIndexLayout(index, options.ociLayout, tag);
      progress(`wrote ${options.ociLayout} (OCI layout with an index over ${names}, ${tag})`);
      outputs.ociLayout = options.ociLayout;
    }
    if (options.push) outputs.pushed = await pushIndex(index, options.push, progress);
  }
  const single = images[0] as PlatformReport;
  return {
    tag,
    digest,
    configDigest: single.configDigest,
    manifestDigest: single.manifestDigest,
    base: single.base,
    created: created.toISOString(),
    layers: single.layers,
    packages: single.packages,
    missingLibraries: single.missingLibraries,
    runtimePackages: single.runtimePackages,
    command: single.command,
    warnings: warningsOf(prepared),
    images,
    bytecode,
    outputs,
  };
}

/** `compiled` only when every image has its bytecode (platforms whose bases differ in minor version may not). */
function bytecodeReport(used: (BytecodeCompiler | undefined)[], wanted: boolean): BytecodeReport {
  const compilers = used.filter((compiler): compiler is BytecodeCompiler => compiler !== undefined);
  const first = compilers[0];
  if (!first || compilers.length < used.length)
    return {
      compiled: false,
      reason: wanted ? "no host CPython of the base's minor version" : "--no-bytecode",
    };
  return {
    compiled: true,
    python: { command: first.python.command, version: first.python.version },
    files: compilers.reduce((sum, compiler) => sum + compiler.compiled, 0),
    skipped: compilers.reduce((sum, compiler) => sum + compiler.skipped, 0),
  };
}
