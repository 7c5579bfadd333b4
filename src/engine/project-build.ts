// Turns a Dockerfile (given, or generated and handed in as text) plus engine options into a staged build request.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { stageContext } from "./context.js";
import type { BuildRequest } from "./types.js";

export interface PreparedBuild {
  request: BuildRequest;
  /** Temporary folder (context copy, image id file): remove with cleanup() */
  workDir: string;
  cleanup(): Promise<void>;
}

export interface PrepareOptions {
  tag?: string;
  request?: Partial<Omit<BuildRequest, "context" | "dockerfile" | "tag" | "iidFile">>;
}

/** A tag for images couplet builds: the project's name, lowercased to what engines accept. */
export function defaultTag(name: string): string {
  const repo =
    name
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, "-")
      .replace(/^[^a-z0-9]+/, "") || "app";
  return `couplet/${repo}:latest`;
}

/** An existing Dockerfile builds from the user's folder as it is; only the image id file is ours. */
export async function prepareDockerfileBuild(
  dir: string,
  dockerfile: string,
  options: PrepareOptions = {},
): Promise<PreparedBuild> {
  const projectDir = resolve(dir);
  const workDir = await mkdtemp(join(tmpdir(), "couplet-build-"));
  return {
    request: {
      ...options.request,
      context: projectDir,
      dockerfile: resolve(dockerfile),
      tag: options.tag ?? defaultTag(basename(projectDir)),
      iidFile: join(workDir, "image-id"),
    },
    workDir,
    cleanup: () => rm(workDir, { recursive: true, force: true }),
  };
}

/**
 * A generated Dockerfile builds from a copy of the folder, filtered by its generated .dockerignore, so the
 * user's folder is never written to.
 */
export async function prepareGeneratedBuild(
  dir: string,
  files: { dockerfile: string; dockerignore: string },
  name: string,
  options: PrepareOptions = {},
): Promise<PreparedBuild> {
  const workDir = await stageContext(resolve(dir), files.dockerignore, {
    Dockerfile: files.dockerfile,
    ".dockerignore": files.dockerignore,
  });
  const iidFile = join(tmpdir(), `couplet-iid-${basename(workDir)}`);
  return {
    request: {
      ...options.request,
      context: workDir,
      dockerfile: join(workDir, "Dockerfile"),
      tag: options.tag ?? defaultTag(name),
      iidFile,
    },
    workDir,
    cleanup: async () => {
      await rm(workDir, { recursive: true, force: true });
      await rm(iidFile, { force: true });
    },
  };
}
