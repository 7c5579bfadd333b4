// The bench report as a Markdown table shaped like the seed's measurements.
import { machineLine, megabytes, timeCell } from "./format.js";
import { type BenchReport, SCENARIO_TITLES, SCENARIOS } from "./types.js";

export function renderMarkdown(report: BenchReport): string {
  const scenarios = SCENARIOS.filter((s) => report.results.some((r) => r[s] !== null));
  const header = ["Strategy", "Image size", "Above base", ...scenarios.map((s) => SCENARIO_TITLES[s])];
  const rows = report.results.map((r) => [
    `\`${r.strategy}\``,
    megabytes(r.sizeBytes),
    megabytes(r.bytesAboveBase),
    ...scenarios.map((s) => timeCell(r, s, report.runs)),
  ]);
  const table = [header, header.map((_, i) => (i === 0 ? "---" : "---:")), ...rows].map(
    (cells) => `| ${cells.join(" | ")} |`,
  );
  const bases = [...new Set(report.results.map((r) => r.baseImage))];
  return [
    `# couplet bench: ${report.project}`,
    "",
    `Engine: ${report.engine.label} (${report.engine.version}). Machine: ${machineLine(report)}.`,
    `Date: ${report.date.slice(0, 10)}. couplet ${report.couplet}. ${report.runs} run${report.runs === 1 ? "" : "s"} per strategy${report.runs > 1 ? "; times are medians with (min–max)" : ""}.`,
    `Base images: ${bases.map((b) => `\`${b}\``).join(", ")}.`,
    "",
    ...table,
    "",
    ...report.notes.map((n) => `- ${n}`),
    "",
  ].join("\n");
}
