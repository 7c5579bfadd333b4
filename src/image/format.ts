// Render an inspection report for a terminal: layers with what made them, waste, findings, missing libraries.
import { formatBytes } from "./findings.js";
import type { InspectReport } from "./inspect.js";

/**
 * A layer's instruction on one line of at most `width` characters: without the shell prefix buildah and docker
 * record, and without the build arguments buildah lists before it (`|2 A=x B=y /bin/sh -c ...`).
 */
export function shortInstruction(text: string, width: number): string {
  const flat = text
    .replace(/^\|\d+ (\S+=\S* )*(?=\/bin\/sh -c )/, "")
    .replace(/^\/bin\/sh -c (#\(nop\) )?/, "")
    .replace(/\s+/g, " ")
    .trim();
  return flat.length > width ? `${flat.slice(0, width - 1)}…` : flat;
}

export function formatTable(report: InspectReport): string {
  const lines: string[] = [];
  const name = report.image.tags[0] ?? report.image.source;
  lines.push(`${name}: ${report.layers.length} layers, ${formatBytes(report.sizeBytes)}`);
  lines.push("");
  lines.push(`${"#".padStart(3)}  ${"size".padStart(9)}  created by`);
  for (const layer of report.layers) {
    lines.push(
      `${String(layer.index + 1).padStart(3)}  ${formatBytes(layer.size).padStart(9)}  ${shortInstruction(layer.createdBy || "(no history)", 90)}`,
    );
    for (const folder of layer.largestFolders.slice(0, 3))
      lines.push(`${"".padStart(16)}${formatBytes(folder.size).padStart(9)}  ${folder.path}/`);
    for (const file of layer.largestFiles.slice(0, 3))
      lines.push(`${"".padStart(16)}${formatBytes(file.size).padStart(9)}  ${file.path}`);
  }
  lines.push("");
  lines.push(
    `efficiency ${(report.efficiency * 100).toFixed(2)}%, wasted ${formatBytes(report.wastedBytes)} (as dive counts them)`,
  );
  if (report.findings.length > 0) {
    lines.push("");
    lines.push("findings:");
    for (const finding of report.findings) {
      const layer = finding.layer !== undefined ? ` [layer ${finding.layer + 1}]` : "";
      lines.push(
        `  ${finding.kind.padEnd(14)} ${formatBytes(finding.bytes).padStart(9)}  ${finding.path}${layer}: ${finding.message}${finding.rule ? ` [${finding.rule}]` : ""}`,
      );
    }
  }
  lines.push("");
  if (report.missingLibraries.length === 0)
    lines.push(
      `shared libraries: all needed libraries present (${report.sharedObjectsChecked} shared objects checked)`,
    );
  else {
    lines.push(`missing shared libraries (${report.sharedObjectsChecked} shared objects checked):`);
    for (const missing of report.missingLibraries)
      lines.push(
        `  ${missing.needed} needed by ${missing.file}${missing.debianPackage ? ` (apt-get install ${missing.debianPackage})` : ""}`,
      );
  }
  if (report.warnings.length > 0) {
    lines.push("");
    lines.push("not everything could be read:");
    for (const warning of report.warnings) lines.push(`  ${warning}`);
  }
  return `${lines.join("\n")}\n`;
}
