// Turns a project (or a given Dockerfile) plus engine options into a staged build request, the input of buildImage.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { render } from "../generate/render.js";
import { plan } from "../plan/plan.js";
import type { Plan, PlanOptions } from "../plan/types.js";
import { analyze } from "../project/analyze.js";
import { stageContext } from "./context.js";
import type { BuildRequest, Engine } from "./types.js";

export interface PreparedBuild {
  request: BuildRequest;
  plan: Plan | undefined;
  /** Temporary folder (context copy, image id file): remove with cleanup() */
  workDir: string;
  cleanup(): Promise<void>;
}

export interface PrepareOptions {
  planOptions?: PlanOptions;
  /** Build this Dockerfile with DIR as the context instead of generating one */
  dockerfile?: string;
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

export async function prepareBuild(
  engine: Engine,
  dir: string,
  options: PrepareOptions = {},
): Promise<PreparedBuild> {
  const projectDir = resolve(dir);
  if (options.dockerfile) {
    // An existing Dockerfile builds from the user's folder as it is; only the image id file is ours.
    const workDir = await mkdtemp(join(tmpdir(), "couplet-build-"));
    return {
      request: {
        ...options.request,
        context: projectDir,
        dockerfile: resolve(options.dockerfile),
        tag: options.tag ?? defaultTag(basename(projectDir)),
        iidFile: join(workDir, "image-id"),
      },
      plan: undefined,
      workDir,
      cleanup: () => rm(workDir, { recursive: true, force: true }),
    };
  }
  const project = await analyze(projectDir);
  // Without BuildKit a cache mount is a syntax error: render a Dockerfile that works on this engine.
  const planned = plan(project, {
    ...options.planOptions,
    ...(engine.features.cacheMounts ? {} : { cacheMounts: false }),
  });
  const files = render(planned);
  const workDir = await stageContext(projectDir, files.dockerignore, {
    Dockerfile: files.dockerfile,
    ".dockerignore": files.dockerignore,
  });
  return {
    request: {
      ...options.request,
      context: workDir,
      dockerfile: join(workDir, "Dockerfile"),
      tag: options.tag ?? defaultTag(planned.project.name),
      iidFile: join(tmpdir(), `couplet-iid-${basename(workDir)}`),
    },
    plan: planned,
    workDir,
    cleanup: async () => {
      await rm(workDir, { recursive: true, force: true });
      await rm(join(tmpdir(), `couplet-iid-${basename(workDir)}`), { force: true });
    },
  };
}
