// The lint part of couplet's library API.
export { type LintConfig, readConfig } from "./config.js";
export { type LintContext, lintProject, loadContext } from "./context.js";
export { applyEdits, type FixResult, fixText, type LintOptions, lintText } from "./engine.js";
export { type LintFileOptions, type LintFileResult, lintFile } from "./file.js";
export { FORMATS, FORMATTERS, type FormatName } from "./formatters/index.js";
export { toSarif } from "./formatters/sarif.js";
export { RULES, ruleById } from "./rules/index.js";
export type { Finding, LintProject, Rule, RuleMeta, Severity } from "./types.js";
