// The one analyze → plan → render pipeline that init, plan, build and bench run, and the engine → plan options mapping.
import { buildCredentials, type CredentialSources } from "./build-credentials.js";
import {
  type PreparedBuild,
  type PrepareOptions,
  prepareDockerfileBuild,
  prepareGeneratedBuild,
} from "./engine/project-build.js";
import type { Engine, EngineFeatures } from "./engine/types.js";
import { render } from "./generate/render.js";
import { plan } from "./plan/plan.js";
import type { Plan, PlanOptions, RenderedFiles } from "./plan/types.js";
import { analyze } from "./project/analyze.js";
import { parsePlatforms } from "./project/platform.js";
import type { Project } from "./project/types.js";

export interface Generated {
  project: Project;
  plan: Plan;
  files: RenderedFiles;
}

/**
 * The plan options a build on this engine needs: without BuildKit a cache mount is a syntax error, so the
 * Dockerfile is rendered without them (and says so in the plan's warnings); an engine whose own frontend reads
 * RUN --mount needs no `# syntax=` frontend fetched from a registry. A build's `--platform` (one, or a
 * comma list) is what the plan checks wheels and markers against, so an arm64 build gets arm64's compilers.
 */
export function optionsForEngine(
  options: PlanOptions,
  features: EngineFeatures | undefined,
  platform?: string,
): PlanOptions {
  const out: PlanOptions = {
    ...options,
    ...(features && !features.cacheMounts ? { cacheMounts: false } : {}),
    ...(features?.builtinFrontendMounts ? { builtinFrontend: true } : {}),
  };
  if (platform !== undefined && out.platforms === undefined) out.platforms = parsePlatforms(platform);
  return out;
}

/** Plan and render an analyzed project (for callers that analyze once and plan several times). */
export function generateFor(
  project: Project,
  options: PlanOptions = {},
  engine?: EngineFeatures,
  platform?: string,
): Generated {
  const planned = plan(project, optionsForEngine(options, engine, platform));
  return { project, plan: planned, files: render(planned) };
}

/** Read the project in `dir`, plan its image and render the Dockerfile and .dockerignore. */
export async function generate(
  dir: string,
  options: PlanOptions = {},
  engine?: EngineFeatures,
  platform?: string,
): Promise<Generated> {
  return generateFor(await analyze(dir), options, engine, platform);
}

export interface BuildPreparation extends PrepareOptions {
  planOptions?: PlanOptions;
  /** Where the credentials of the project's private sources are found (`couplet build`: the environment) */
  credentials?: CredentialSources;
  /** Build this Dockerfile with DIR as the context instead of generating one */
  dockerfile?: string;
}

/** `couplet build`: the user's Dockerfile as it is, or the generated one for this engine, staged for buildImage. */
export async function prepareBuild(
  engine: Engine,
  dir: string,
  options: BuildPreparation = {},
): Promise<PreparedBuild & { plan: Plan | undefined }> {
  const { planOptions, dockerfile, credentials, ...prepare } = options;
  if (dockerfile) return { ...(await prepareDockerfileBuild(dir, dockerfile, prepare)), plan: undefined };
  const generated = await generate(dir, planOptions, engine.features, prepare.request?.platform);
  if (credentials) {
    // Before the context is staged: a missing credential stops here, with nothing to clean up.
    const found = buildCredentials(
      generated.plan,
      prepare.request?.target,
      engine.features,
      { secrets: prepare.request?.secrets ?? [], ssh: prepare.request?.ssh ?? [] },
      credentials,
    );
    prepare.request = { ...prepare.request, secrets: found.secrets, ssh: found.ssh };
  }
  const prepared = await prepareGeneratedBuild(dir, generated.files, generated.plan.project.name, prepare);
  return { ...prepared, plan: generated.plan };
}
