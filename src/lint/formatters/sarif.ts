// SARIF 2.1.0 for code-scanning dashboards: one run, the rules as its driver's rules, one result per finding.
import type { Log, ReportingDescriptor, Result } from "sarif";
import { VERSION } from "../../version.js";
import { RULES } from "../rules/index.js";
import type { Finding, Severity } from "../types.js";

const LEVEL: Record<Severity, Result.level> = { error: "error", warning: "warning", info: "note" };

/** SARIF wants URIs: relative paths stay relative (to the working folder), with forward slashes. */
function uri(file: string): string {
  return file
    .split(/[\\/]/)
    .map((part) => encodeURIComponent(part))
    .join("/");
}

export function toSarif(findings: Finding[]): Log {
  const rules: ReportingDescriptor[] = RULES.map((r) => ({
    id: r.meta.id,
    name: r.meta.name,
    shortDescription: { text: r.meta.description },
    helpUri: `https://github.com/couplet/couplet/blob/main/docs/rules/${r.meta.id}.md`,
    defaultConfiguration: { level: LEVEL[r.meta.defaultSeverity] },
    properties: { fixable: r.meta.fixable },
  }));
  const index = new Map(RULES.map((r, i) => [r.meta.id, i]));
  const results: Result[] = findings.map((f) => ({
    ruleId: f.rule,
    ruleIndex: index.get(f.rule) ?? -1,
    level: LEVEL[f.severity],
    message: { text: f.message },
    locations: [
      {
        physicalLocation: {
          artifactLocation: { uri: uri(f.file) },
          region: {
            startLine: f.line,
            startColumn: f.column,
            ...(f.endLine !== undefined ? { endLine: f.endLine } : {}),
            ...(f.endColumn !== undefined ? { endColumn: f.endColumn } : {}),
          },
        },
      },
    ],
  }));
  return {
    version: "2.1.0",
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    runs: [
      {
        tool: {
          driver: {
            name: "couplet",
            version: VERSION,
            informationUri: "https://github.com/couplet/couplet",
            rules,
          },
        },
        results,
      },
    ],
  };
}

export function formatSarif(findings: Finding[]): string {
  return `${JSON.stringify(toSarif(findings), null, 2)}\n`;
}
