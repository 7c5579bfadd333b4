// Runs one build on an engine and reports what happened: image id, time, steps, cache hits, or the failing step.
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { UserError } from "../errors.js";
import { capture, run } from "./exec.js";
import { requestPlatforms } from "./platforms.js";
import { type BuildEvent, BuildTracker } from "./progress.js";
import type { BuildRequest, CommandSpec, Engine } from "./types.js";

export interface BuildOutcome {
  /**
   * The image id; the tag instead for a multi-platform build on buildah or podman (the manifest list's name) and
   * for a request that named no iidfile
   */
  imageId: string;
  /** The platforms built ("linux/amd64", "linux/arm64"); empty when the build named none */
  platforms: string[];
  /** The result is a manifest list (buildah, podman) or image index (buildx) over one image per platform */
  multiPlatform: boolean;
  tag: string;
  seconds: number;
  tracker: BuildTracker;
  logFile: string;
}

export interface BuildRunOptions {
  logFile: string;
  signal?: AbortSignal;
  onEvent?: (event: BuildEvent, tracker: BuildTracker) => void;
  /** Lines of the log shown with a failure */
  tailLines?: number;
}

/** Stopped by the user (Ctrl-C): not a failure of the build. */
export class BuildAborted extends UserError {
  constructor() {
    super("build stopped", { exitCode: 130 });
  }
}

export class BuildFailed extends UserError {
  constructor(
    message: string,
    readonly tail: string[],
    readonly logFile: string,
    /** The step that failed; undefined when the engine failed outside any step */
    readonly failedStep?: string,
    /** What to do about it, when the failure is one couplet recognizes */
    advice?: string,
  ) {
    super(message, { exitCode: 1, hint: [advice, `full log: ${logFile}`].filter(Boolean).join("; ") });
  }
}

/**
 * `# syntax=docker/dockerfile:1` makes BuildKit pull that frontend image before reading the file; without
 * registry access (air-gapped farms, proxies without Docker Hub) the build fails before its first step.
 */
export function frontendAdvice(ref: string): string {
  return (
    `BuildKit could not fetch ${ref}, the Dockerfile frontend named by the file's \`# syntax=\` line ` +
    "(no access to its registry?): delete that line, since the engine's built-in frontend (Docker 20.10+) reads " +
    "everything couplet writes (`couplet init --no-syntax`, or `syntax = false` under [tool.couplet], writes " +
    "the Dockerfile without it; `couplet build` leaves it out of its own), or point it at a mirror you can reach " +
    '([tool.couplet] syntax = "mirror.example/docker/dockerfile:1")'
  );
}

export async function buildImage(
  engine: Engine,
  request: BuildRequest,
  options: BuildRunOptions,
): Promise<BuildOutcome> {
  const platforms = requestPlatforms(request);
  const multiPlatform = platforms.length > 1;
  // buildah and podman add each platform's image to the list a name gives (--manifest): build into a list of a
  // fresh name, so a rebuild does not add to the last build's images, and the tag moves to it only on success
  // (a failed or stopped build leaves the previous list as it was).
  const list =
    multiPlatform && engine.name !== "docker"
      ? manifestListSteps(engine, request.tag, `${process.pid}-${randomBytes(4).toString("hex")}`)
      : undefined;
  const command = engine.buildCommand(list ? { ...request, tag: list.buildInto } : request);
  const tracker = new BuildTracker(engine.name);
  const tail: string[] = [];
  const keep = options.tailLines ?? 25;
  const started = performance.now();
  const result = await run(command, {
    logFile: options.logFile,
    ...(options.signal ? { signal: options.signal } : {}),
    onLine: (line) => {
      tail.push(line);
      if (tail.length > keep) tail.shift();
      const event = tracker.feed(line);
      if (event) options.onEvent?.(event, tracker);
    },
  }).catch(async (error: NodeJS.ErrnoException) => {
    if (list) await tryCommands([list.discard]);
    if (error.code === "ENOENT") throw new UserError(`${command.program} is not installed or not on PATH`);
    throw error;
  });
  tracker.end();
  const seconds = (performance.now() - started) / 1000;
  if (list && (result.aborted || result.code !== 0)) await tryCommands([list.discard]);
  if (result.aborted) throw new BuildAborted();
  if (result.code !== 0) {
    const frontend = tracker.failure?.frontend;
    if (frontend)
      throw new BuildFailed(
        `build failed: cannot fetch the Dockerfile frontend ${frontend} named by \`# syntax=\``,
        tail,
        options.logFile,
        undefined,
        frontendAdvice(frontend),
      );
    const failed = tracker.failure?.step;
    const where = failed ? ` at step ${failed.label} (${failed.instruction})` : "";
    const why = tracker.failure?.message ?? `${engine.name} exited with ${result.code ?? result.signal}`;
    throw new BuildFailed(`build failed${where}: ${why}`, tail, options.logFile, failed?.label);
  }
  if (list) await promoteList(list, request.tag, options.logFile);
  // A pushed or archived result may leave no image id behind (buildx writes one for the image exporters only).
  const imageId =
    list || !request.iidFile
      ? request.tag
      : request.destination
        ? (await readFile(request.iidFile, "utf8").catch(() => "")).trim()
        : (await readFile(request.iidFile, "utf8")).trim();
  return { imageId, tag: request.tag, seconds, tracker, logFile: options.logFile, platforms, multiPlatform };
}

/** The commands that move a multi-platform build on buildah or podman from a list of its own to the tag. */
export interface ManifestListSteps {
  /** The list the build fills: the tag's repository with a tag of its own */
  buildInto: string;
  /** After success, each tried and its failure ignored: the previous list under the tag (a plain image keeps its
   * layers and just loses the name below; there may be neither) */
  removePrevious: CommandSpec;
  /** Then: the tag moves to the new list (containers-storage moves a name off any image that held it) */
  take: CommandSpec;
  /** Then: the temporary name goes (`manifest rm` of one of a list's names only untags it) */
  untagTemporary: CommandSpec;
  /** After a failure or a stop: the partial list, if the engine made one; the previous list is untouched */
  discard: CommandSpec;
}

/** The repository of an image reference (`host:5000/team/app:1.0` → `host:5000/team/app`). */
export function repositoryOf(ref: string): string {
  const name = ref.split("@")[0] ?? ref;
  const colon = name.lastIndexOf(":");
  return colon > name.lastIndexOf("/") ? name.slice(0, colon) : name;
}

export function manifestListSteps(engine: Engine, tag: string, nonce: string): ManifestListSteps {
  if (!engine.removeManifestCommand || !engine.tagCommand)
    throw new Error(`${engine.name} cannot build a manifest list under a temporary name`);
  const buildInto = `${repositoryOf(tag)}:couplet-partial-${nonce}`;
  return {
    buildInto,
    // `rmi` of a list's name resolves to one of its images on buildah 1.28 and leaves the list behind.
    removePrevious: engine.removeManifestCommand(tag),
    take: engine.tagCommand(buildInto, tag),
    untagTemporary: engine.removeManifestCommand(buildInto),
    discard: engine.removeManifestCommand(buildInto),
  };
}

/** Runs each command, ignoring failures (clean-up on the way out). */
async function tryCommands(commands: CommandSpec[]): Promise<void> {
  for (const command of commands) await capture(command).catch(() => undefined);
}

async function promoteList(list: ManifestListSteps, tag: string, logFile: string): Promise<void> {
  await tryCommands([list.removePrevious]);
  try {
    await capture(list.take);
  } catch (error) {
    throw new UserError(
      `the build succeeded, but naming its manifest list ${tag} failed: ${(error as Error).message}`,
      {
        hint: `the list is kept as ${list.buildInto}; full log: ${logFile}`,
      },
    );
  }
  await tryCommands([list.untagTemporary]);
}

export function imageSize(engine: Engine, ref: string): Promise<number> {
  return engine.imageSize(ref, (command) => capture(command));
}

/** Removes images, ignoring ones already gone; never throws (used on the way out of failures too). */
export async function removeImages(engine: Engine, refs: string[]): Promise<void> {
  if (refs.length === 0) return;
  await capture(engine.removeImagesCommand(refs)).catch(async () => {
    // One missing ref fails the whole call on some engines: retry one by one.
    for (const ref of refs) await capture(engine.removeImagesCommand([ref])).catch(() => undefined);
  });
}
