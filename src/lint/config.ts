// `[tool.couplet.lint]` in pyproject.toml: which rules to ignore and which severities to change.
import { UserError } from "../errors.js";
import { SEVERITIES, type Severity } from "./types.js";

export interface LintConfig {
  ignore: string[];
  /** Rule id → new severity, or "off" */
  severity: Record<string, Severity | "off">;
}

export const EMPTY_CONFIG: LintConfig = { ignore: [], severity: {} };

/** Validate the raw table against the known rule ids; unknown keys and ids are a user's mistake. */
export function readConfig(
  raw: Record<string, unknown> | undefined,
  ruleIds: readonly string[],
  /** pyproject.toml, and the line of each key and rule id of the table (recorded by the project reader) */
  source: { file: string; lines?: Record<string, number> },
): LintConfig {
  if (!raw) return EMPTY_CONFIG;
  const fail = (message: string, needle: string, hint?: string): never => {
    throw new UserError(message, {
      location: {
        file: source.file,
        line: source.lines && Object.hasOwn(source.lines, needle) ? source.lines[needle] : undefined,
      },
      hint: hint ?? `known rules: ${ruleIds.join(", ")}`,
    });
  };
  const config: LintConfig = { ignore: [], severity: {} };
  for (const [key, value] of Object.entries(raw)) {
    if (key === "ignore") {
      if (!Array.isArray(value) || !value.every((v) => typeof v === "string"))
        fail(
          "[tool.couplet.lint] ignore must be a list of rule ids",
          "ignore",
          'for example ignore = ["CPL019"]',
        );
      for (const id of value as string[]) {
        if (!ruleIds.includes(id.toUpperCase()))
          fail(`[tool.couplet.lint] ignore names an unknown rule "${id}"`, id);
        config.ignore.push(id.toUpperCase());
      }
    } else if (key === "severity") {
      if (typeof value !== "object" || value === null || Array.isArray(value))
        fail(
          "[tool.couplet.lint] severity must be a table of rule id = severity",
          "severity",
          'for example severity = { CPL019 = "info" }',
        );
      for (const [id, level] of Object.entries(value as Record<string, unknown>)) {
        if (!ruleIds.includes(id.toUpperCase()))
          fail(`[tool.couplet.lint] severity names an unknown rule "${id}"`, id);
        if (
          typeof level !== "string" ||
          !(level === "off" || (SEVERITIES as readonly string[]).includes(level))
        )
          fail(
            `[tool.couplet.lint] severity of ${id} must be "error", "warning", "info" or "off"`,
            id,
            `got ${JSON.stringify(level)}`,
          );
        config.severity[id.toUpperCase()] = level as Severity | "off";
      }
    } else {
      fail(`[tool.couplet.lint] has an unknown key "${key}"`, key, "known keys: ignore, severity");
    }
  }
  return config;
}
