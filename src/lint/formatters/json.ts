// The machine format: a JSON array of findings (the fix edits are internal and left out).
import type { Finding } from "../types.js";

export function formatJson(findings: Finding[]): string {
  return `${JSON.stringify(
    findings.map(({ fix: _fix, ...finding }) => finding),
    null,
    2,
  )}\n`;
}
