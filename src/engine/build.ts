// Runs one build on an engine and reports what happened: image id, time, steps, cache hits, or the failing step.
import { readFile } from "node:fs/promises";
import { UserError } from "../errors.js";
import { capture, run } from "./exec.js";
import { requestPlatforms } from "./platforms.js";
import { type BuildEvent, BuildTracker } from "./progress.js";
import type { BuildRequest, Engine } from "./types.js";

export interface BuildOutcome {
  /** The image id; for a multi-platform build on buildah or podman, the manifest list's name (the tag) */
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
  if (!request.iidFile) throw new Error("buildImage needs request.iidFile to learn the image id");
  const command = engine.buildCommand(request);
  const platforms = requestPlatforms(request);
  const multiPlatform = platforms.length > 1;
  // buildah and podman add each platform's image to the list the tag names (--manifest), and refuse a tag that
  // names a plain image: start from no list at all, or a rebuild would add to the last build's images.
  const manifest = multiPlatform && engine.name !== "docker";
  if (manifest) {
    // `rmi` of a list's name resolves to one of its images on buildah 1.28 and leaves the list behind: remove the
    // list itself, and only when there is none, a plain image of that name.
    const removed = engine.removeManifestCommand
      ? await capture(engine.removeManifestCommand(request.tag)).then(
          () => true,
          () => false,
        )
      : false;
    if (!removed) await removeImages(engine, [request.tag]);
  }
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
  }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") throw new UserError(`${command.program} is not installed or not on PATH`);
    throw error;
  });
  tracker.end();
  const seconds = (performance.now() - started) / 1000;
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
  // A pushed or archived result may leave no image id behind (buildx writes one for the image exporters only).
  const imageId = manifest
    ? request.tag
    : request.destination
      ? (await readFile(request.iidFile, "utf8").catch(() => "")).trim()
      : (await readFile(request.iidFile, "utf8")).trim();
  return { imageId, tag: request.tag, seconds, tracker, logFile: options.logFile, platforms, multiPlatform };
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
