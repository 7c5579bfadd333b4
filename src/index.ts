// couplet's library API: analyze a project, plan a build, render the Dockerfile.
export { type AssembleOptions, type AssembleReport, assemble } from "./assemble/assemble.js";
export { renderHtml } from "./bench/html.js";
export { renderMarkdown } from "./bench/markdown.js";
export { type BenchOptions, runBench } from "./bench/run.js";
export type { BenchReport } from "./bench/types.js";
export { type BuildCredentials, buildCredentials, type CredentialSources } from "./build-credentials.js";
export { type BuildOutcome, buildImage } from "./engine/build.js";
export { detectEngine } from "./engine/detect.js";
export type { Engine } from "./engine/types.js";
export { formatUserError, isUserError, UserError } from "./errors.js";
export { render, renderDockerfile, renderDockerignore } from "./generate/render.js";
export { openImageArchive } from "./image/archive.js";
export {
  type ComparedImage,
  type CompareOptions,
  type Comparison,
  compareImages,
  scanForComparison,
} from "./image/compare.js";
export type { InspectOptions, InspectReport } from "./image/inspect.js";
export { inspectImage } from "./image/inspect.js";
export * from "./lint/index.js";
export { type Generated, generate, generateFor, optionsForEngine, prepareBuild } from "./pipeline.js";
export { credentialLines, credentialsFor } from "./plan/credentials.js";
export { explainPlan } from "./plan/explain.js";
export { plan } from "./plan/plan.js";
export type { Plan, PlanOptions, RenderedFiles, StrategyName } from "./plan/types.js";
export { STRATEGIES } from "./plan/types.js";
export { analyze } from "./project/analyze.js";
export { parseLock } from "./project/lock.js";
export { evaluateMarker, linuxCPython, packageApplies } from "./project/markers.js";
export { defaultNativeNeed, nativeNeedFor } from "./project/native.js";
export {
  DEFAULT_PLATFORM,
  type Platform,
  parsePlatform,
  parsePlatforms,
  platformName,
} from "./project/platform.js";
export { type PoetryCapabilities, poetryCapabilities } from "./project/poetry.js";
export {
  type BuildNeed,
  buildNeed,
  productionPackages,
  productionSelection,
  type Selection,
} from "./project/selection.js";
export type { Lock, LockedPackage, Project } from "./project/types.js";
export { VERSION } from "./version.js";
