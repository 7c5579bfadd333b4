// couplet's library API: analyze a project, plan a build, render the Dockerfile.
export { formatUserError, isUserError, UserError } from "./errors.js";
export { render, renderDockerfile, renderDockerignore } from "./generate/render.js";
export type { InspectOptions, InspectReport } from "./image/inspect.js";
export { inspectImage } from "./image/inspect.js";
export * from "./lint/index.js";
export { explainPlan } from "./plan/explain.js";
export { plan } from "./plan/plan.js";
export type { Plan, PlanOptions, RenderedFiles, StrategyName } from "./plan/types.js";
export { STRATEGIES } from "./plan/types.js";
export { analyze } from "./project/analyze.js";
export { parseLock } from "./project/lock.js";
export { evaluateMarker, linuxCPython, packageApplies } from "./project/markers.js";
export { defaultNativeNeed, nativeNeedFor } from "./project/native.js";
export type { Lock, LockedPackage, Project } from "./project/types.js";
export { VERSION } from "./version.js";
