// `couplet build [DIR]`: generate (or take) a Dockerfile and build it on a real engine, showing each step live.

import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { lstat, rename, rm, stat } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { type Command, Option } from "commander";
import { BuildAborted, BuildFailed, buildImage, imageSize } from "../../engine/build.js";
import { detectEngine } from "../../engine/detect.js";
import { formatSeconds, LiveBuildDisplay } from "../../engine/display.js";
import {
  emulationProblem,
  hostArch,
  isMultiPlatform,
  readBinfmt,
  requestPlatforms,
} from "../../engine/platforms.js";
import type { BuildDestination, BuildRequest, Engine } from "../../engine/types.js";
import { OutputFileError, UserError } from "../../errors.js";
import { prepareBuild } from "../../pipeline.js";
import { addPlanOptions, type PlanFlags, planOptions } from "../options.js";
import { action } from "../run.js";

export interface EngineFlags {
  engine?: string;
  docker?: string;
  storageDriver?: string;
  isolation?: string;
  buildArg: string[];
  secret: string[];
  ssh: string[];
  platform?: string;
  cacheFrom: string[];
  cacheTo: string[];
  network?: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** Engine choice and the flags passed through to it (shared with `couplet bench`). */
export function addEngineOptions(command: Command): Command {
  return command
    .option("--engine <name>", "docker, buildah or podman (default: the first that works, in that order)")
    .option(
      "--docker <path>",
      "the docker client to use (default: $COUPLET_DOCKER, else the first docker on PATH); implies --engine docker",
    )
    .option("--storage-driver <driver>", "buildah/podman storage driver (default: overlay as root)")
    .addOption(
      new Option(
        "--isolation <mode>",
        "buildah/podman isolation for RUN steps (default: chroot as root)",
      ).choices(["oci", "rootless", "chroot"]),
    )
    .option(
      "--build-arg <NAME=VALUE>",
      "build argument, repeatable (e.g. PYTHON_IMAGE=python:3.12-slim)",
      collect,
      [],
    )
    .option(
      "--secret <spec>",
      "build secret, repeatable (id=NAME,src=PATH or id=NAME,env=VAR); a private index's credentials are read from Poetry's variables without it",
      collect,
      [],
    )
    .option(
      "--ssh <spec>",
      "SSH agent for RUN --mount=type=ssh, repeatable (default, or id=SOCKET|KEY)",
      collect,
      [],
    )
    .option(
      "--platform <list>",
      "target platforms, comma-separated (e.g. linux/amd64,linux/arm64: one image each, in a manifest list named by the tag)",
    )
    .option("--cache-from <ref>", "registry cache to read, repeatable", collect, [])
    .option("--cache-to <ref>", "registry cache to write, repeatable", collect, [])
    .option(
      "--network <mode>",
      "network for RUN steps (host where build containers have no network of their own)",
    );
}

export function parseBuildArgs(values: string[]): Record<string, string> {
  const args: Record<string, string> = {};
  for (const value of values) {
    const eq = value.indexOf("=");
    if (eq <= 0) throw new UserError(`--build-arg must be NAME=VALUE, got "${value}"`);
    args[value.slice(0, eq)] = value.slice(eq + 1);
  }
  return args;
}

export function requestFlags(flags: EngineFlags): Partial<BuildRequest> {
  return {
    buildArgs: parseBuildArgs(flags.buildArg),
    secrets: flags.secret,
    ssh: flags.ssh ?? [],
    cacheFrom: flags.cacheFrom,
    cacheTo: flags.cacheTo,
    ...(flags.platform ? { platform: flags.platform } : {}),
    ...(flags.network ? { network: flags.network } : {}),
  };
}

export function engineFromFlags(flags: EngineFlags, inspectBuilder = false): Promise<Engine> {
  return detectEngine({
    ...(inspectBuilder ? { inspectBuilder } : {}),
    ...(flags.engine ? { engine: flags.engine } : {}),
    ...(flags.docker ? { docker: flags.docker } : {}),
    ...(flags.storageDriver ? { storageDriver: flags.storageDriver } : {}),
    ...(flags.isolation ? { isolation: flags.isolation } : {}),
  });
}

/** Aborts on the first Ctrl-C (the engine runs in its own process group and is stopped by us). */
export function interruptSignal(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSigint = () => {
    process.stderr.write("\ncouplet: stopping (Ctrl-C)…\n");
    controller.abort();
  };
  process.on("SIGINT", onSigint);
  process.on("SIGTERM", onSigint);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off("SIGINT", onSigint);
      process.off("SIGTERM", onSigint);
    },
  };
}

export function logPath(name: string): string {
  const dir = join(tmpdir(), "couplet-logs");
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  return join(dir, `${name.replace(/[^a-zA-Z0-9._-]+/g, "-")}-${stamp}.log`);
}

function formatBytes(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)} GB` : `${(bytes / 1e6).toFixed(1)} MB`;
}

/**
 * With --dockerfile nothing is generated, so the plan options would be dropped without a word (a build then
 * pulled the Dockerfile's default base from Docker Hub): --base-image becomes the PYTHON_IMAGE build argument
 * couplet's Dockerfiles declare, unless --build-arg sets it, and the options that only shape a generated
 * Dockerfile are refused.
 */
export function dockerfileFlags(flags: PlanFlags & { buildArg: string[] }): string[] {
  const unused = [
    flags.python !== undefined && "--python",
    flags.poetryVersion !== undefined && "--poetry-version",
    flags.cmd !== undefined && "--cmd",
    flags.strategy !== undefined && flags.strategy !== "optimal" && "--strategy",
    flags.cacheMounts === false && "--no-cache-mounts",
    flags.syntax !== undefined && (flags.syntax === false ? "--no-syntax" : "--syntax"),
  ].filter((flag): flag is string => typeof flag === "string");
  if (unused.length > 0)
    throw new UserError(
      `${unused.join(", ")} shape${unused.length === 1 ? "s" : ""} the Dockerfile couplet generates, and --dockerfile builds yours as it is`,
      { hint: "drop them, or run `couplet init` with them and build the Dockerfile it writes" },
    );
  if (flags.baseImage === undefined || flags.buildArg.some((arg) => arg.startsWith("PYTHON_IMAGE=")))
    return flags.buildArg;
  return [...flags.buildArg, `PYTHON_IMAGE=${planOptions({ baseImage: flags.baseImage }).baseImage}`];
}

/** `--push REF` or `--output FILE` as a build destination, and the tag it implies; refuses them together. */
export function destinationFromFlags(flags: { push?: string; output?: string; tag?: string }): {
  destination?: BuildDestination;
  tag?: string;
} {
  if (flags.push !== undefined && flags.output !== undefined)
    throw new UserError("--push and --output both name where the image goes", { hint: "give one of them" });
  if (flags.push !== undefined) {
    if (flags.tag !== undefined && flags.tag !== flags.push)
      throw new UserError(`--push ${flags.push} names the image, and --tag names another (${flags.tag})`, {
        hint: "drop --tag: the image is built and pushed as the --push reference",
      });
    return { destination: { push: true }, tag: flags.push };
  }
  if (flags.output !== undefined)
    return { destination: { archive: resolve(flags.output) }, ...(flags.tag ? { tag: flags.tag } : {}) };
  return flags.tag ? { tag: flags.tag } : {};
}

/** Refuses, before building, an archive path buildx could not write: a missing parent folder, or a folder. */
export async function checkArchiveTarget(file: string): Promise<void> {
  // buildx reads --output as comma-separated key=value fields: a comma or quote in the path would split it.
  if (/[,"]/.test(file))
    throw new OutputFileError(
      "cannot write: buildx cannot take a comma or a quote in the path; nothing was written",
      {
        location: { file },
        hint: "give a path without commas and quotes",
      },
    );
  const parent = dirname(file);
  const folder = await stat(parent).catch(() => undefined);
  if (!folder?.isDirectory())
    throw new OutputFileError(
      `cannot write: ${parent} ${folder ? "is not a folder" : "does not exist"}; nothing was written`,
      { location: { file }, hint: "create the folder first, or give another path" },
    );
  if ((await lstat(file).catch(() => undefined))?.isDirectory())
    throw new OutputFileError("cannot write: is a folder; nothing was written", {
      location: { file },
      hint: "give a file path for the archive",
    });
}

/**
 * The engine writes the archive to a temporary sibling, which takes the name only when the build succeeds: a
 * failed or stopped build leaves no half-written archive and an earlier one as it was.
 */
export async function buildToArchive<T>(file: string, build: (temporary: string) => Promise<T>): Promise<T> {
  await checkArchiveTarget(file);
  const temporary = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    const result = await build(temporary);
    await rename(temporary, file);
    return result;
  } finally {
    await rm(temporary, { force: true }).catch(() => undefined);
  }
}

/**
 * Before anything is generated or built: several platforms on an engine that takes one, a result the engine
 * cannot put where it is asked to (several platforms into a classic image store, a registry, an archive), or a
 * foreign platform this machine cannot emulate, is one clear line. A Docker daemon may run elsewhere (a VM,
 * another host) with emulation of its own, so there the local check is only a warning.
 */
export async function checkPlatforms(
  engine: Engine,
  platform: string | undefined,
  destination?: BuildDestination,
): Promise<void> {
  const request = platform ? { platform } : {};
  engine.checkDestination({ ...request, ...(destination ? { destination } : {}) });
  const platforms = requestPlatforms(request);
  if (process.platform !== "linux" || platforms.length === 0) return;
  const problem = emulationProblem(platforms, hostArch(), await readBinfmt());
  if (!problem) return;
  if (engine.name === "docker") process.stderr.write(`couplet: warning: ${problem}\n`);
  else throw new UserError(problem);
}

export function register(program: Command): void {
  addEngineOptions(
    addPlanOptions(
      program
        .command("build")
        .description(
          "generate a Dockerfile for the project in DIR (or take --dockerfile) and build it, showing each step",
        )
        .argument("[dir]", "project folder (the build context)", ".")
        .option("--dockerfile <file>", "build this Dockerfile instead of generating one")
        .option("-t, --tag <ref>", "image reference (default: couplet/<project name>:latest)")
        .option(
          "--push <ref>",
          "build as REF and push it to its registry instead of loading it (docker buildx; how several platforms get out of a builder that cannot load them)",
        )
        .option(
          "--output <file>",
          "write the image to an archive instead of loading it (docker buildx): a docker-archive for one platform, an OCI archive for several",
        )
        .option("--target <stage>", "stage to build (generated Dockerfiles: production or development)")
        .option("--no-cache", "ignore cached layers")
        .option(
          "--log <file>",
          "where to keep the engine's full output (default: a file under the temp folder)",
        ),
    ),
  ).action(
    action(
      async (
        dir: string,
        flags: PlanFlags &
          EngineFlags & {
            dockerfile?: string;
            tag?: string;
            push?: string;
            output?: string;
            target?: string;
            cache: boolean;
            log?: string;
          },
      ) => {
        const { destination, tag } = destinationFromFlags(flags);
        // Where several platforms or a registry/archive are asked for, the buildx builder's driver decides what works.
        const inspectBuilder =
          destination !== undefined ||
          isMultiPlatform({ ...(flags.platform ? { platform: flags.platform } : {}) });
        const engine = await engineFromFlags(flags, inspectBuilder);
        for (const warning of engine.warnings) process.stderr.write(`couplet: warning: ${warning}\n`);
        await checkPlatforms(engine, flags.platform, destination);
        if (destination && "archive" in destination) await checkArchiveTarget(destination.archive);
        if (flags.dockerfile) flags.buildArg = dockerfileFlags(flags);
        const prepared = await prepareBuild(engine, dir, {
          planOptions: planOptions(flags),
          ...(flags.dockerfile ? { dockerfile: flags.dockerfile } : {}),
          ...(tag ? { tag } : {}),
          credentials: { env: process.env, home: homedir() },
          request: {
            ...requestFlags(flags),
            ...(flags.target ? { target: flags.target } : {}),
            ...(flags.cache === false ? { noCache: true } : {}),
            ...(destination ? { destination } : {}),
          },
        });
        // The Dockerfile couplet renders for this build lives in a temporary folder: say what it chose for `# syntax=`.
        if (prepared.plan?.features.cacheMounts)
          process.stderr.write(`couplet: # syntax= line: ${prepared.plan.syntax.reason}\n`);
        const interrupt = interruptSignal();
        const logFile = flags.log ?? logPath(prepared.plan?.project.name ?? "build");
        const err = process.stderr;
        err.write(`couplet: building ${prepared.request.tag} with ${engine.label} (log: ${logFile})\n`);
        let display: LiveBuildDisplay | undefined;
        try {
          const build = (request: BuildRequest) =>
            buildImage(engine, request, {
              logFile,
              signal: interrupt.signal,
              onEvent: (_event, tracker) => {
                display ??= new LiveBuildDisplay(tracker, {
                  write: (t) => err.write(t),
                  isTTY: err.isTTY,
                  columns: err.columns,
                });
                display.update();
              },
            });
          const outcome =
            destination && "archive" in destination
              ? await buildToArchive(destination.archive, (temporary) =>
                  build({ ...prepared.request, destination: { archive: temporary } }),
                )
              : await build(prepared.request);
          display?.stop();
          const steps = outcome.tracker.steps.length;
          const took = `built in ${formatSeconds(outcome.seconds)} (${outcome.tracker.cacheHits} of ${steps} steps from cache)`;
          const what = outcome.multiPlatform ? `image index of ${outcome.platforms.join(", ")}` : "image";
          const digest = outcome.imageId ? ` ${outcome.imageId}` : "";
          if (destination && "push" in destination) {
            process.stdout.write(`${outcome.tag} pushed (${what})${digest}, ${took}\n`);
            return 0;
          }
          if (destination && "archive" in destination) {
            const format = outcome.multiPlatform ? "OCI archive" : "docker-archive";
            process.stdout.write(
              `${destination.archive}: ${format} of ${outcome.tag} (${what})${digest}, ${took}\n`,
            );
            return 0;
          }
          if (outcome.multiPlatform) {
            process.stdout.write(
              `${outcome.tag} manifest list of ${outcome.platforms.join(", ")}, built in ${formatSeconds(outcome.seconds)} (${outcome.tracker.cacheHits} of ${steps} steps from cache)\n`,
            );
            return 0;
          }
          const size = await imageSize(engine, outcome.imageId);
          process.stdout.write(
            `${outcome.tag} ${outcome.imageId.replace(/^sha256:/, "").slice(0, 12)} ${formatBytes(size)}, built in ${formatSeconds(outcome.seconds)} (${outcome.tracker.cacheHits} of ${steps} steps from cache)\n`,
          );
          return 0;
        } catch (error) {
          display?.stop(!(error instanceof BuildAborted));
          if (error instanceof BuildFailed) {
            err.write(
              `couplet: last lines of the ${engine.name} log:\n${error.tail.map((l) => `  | ${l}`).join("\n")}\n`,
            );
          }
          throw error;
        } finally {
          interrupt.dispose();
          await prepared.cleanup();
        }
      },
    ),
  );
}
