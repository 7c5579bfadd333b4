// The human format: findings grouped by file, one aligned line each, and a summary line.
import type { Finding } from "../types.js";

export function formatStylish(findings: Finding[]): string {
  if (!findings.length) return "";
  const byFile = new Map<string, Finding[]>();
  for (const f of findings) byFile.set(f.file, [...(byFile.get(f.file) ?? []), f]);
  const lines: string[] = [];
  for (const [file, list] of byFile) {
    lines.push(file);
    const width = Math.max(...list.map((f) => `${f.line}:${f.column}`.length));
    for (const f of list) {
      lines.push(
        `  ${`${f.line}:${f.column}`.padEnd(width)}  ${f.severity.padEnd(7)}  ${f.message}  ${f.rule}`,
      );
    }
    lines.push("");
  }
  const count = (s: string) => findings.filter((f) => f.severity === s).length;
  const parts = [`${count("error")} error(s)`, `${count("warning")} warning(s)`, `${count("info")} info`];
  lines.push(
    `${findings.length} problem(s) (${parts.join(", ")}); \`couplet explain <rule>\` tells why and how to fix`,
  );
  return `${lines.join("\n")}\n`;
}
