// The bench report as one self-contained HTML page: a table and inline SVG bar charts, no scripts, no external files.
import { escapeHtml, htmlDocument } from "../html/document.js";
import { machineLine, megabytes, seconds, timeCell } from "./format.js";
import { type BenchReport, SCENARIO_TITLES, SCENARIOS, type StrategyResult } from "./types.js";

interface Bar {
  label: string;
  value: number;
  text: string;
}

const PALETTE = ["#2f6f9f", "#c2571a", "#4d8f3a", "#8a4fa3", "#b8912f", "#3a8f8a"];

/** Horizontal bars on one scale, one per strategy, with the value written at the end of each bar. */
export function barChart(title: string, bars: Bar[]): string {
  const rowHeight = 26;
  const labelWidth = 120;
  const plotWidth = 420;
  const valueWidth = 90;
  const top = 28;
  const height = top + bars.length * rowHeight + 8;
  const max = Math.max(...bars.map((b) => b.value), Number.MIN_VALUE);
  const rows = bars.map((bar, i) => {
    const y = top + i * rowHeight;
    const width = Math.max(1, (bar.value / max) * plotWidth);
    return [
      `<text x="${labelWidth - 8}" y="${y + 17}" text-anchor="end">${escapeHtml(bar.label)}</text>`,
      `<rect x="${labelWidth}" y="${y + 4}" width="${width.toFixed(1)}" height="${rowHeight - 8}" fill="${PALETTE[i % PALETTE.length]}"><title>${escapeHtml(`${bar.label}: ${bar.text}`)}</title></rect>`,
      `<text x="${(labelWidth + width + 6).toFixed(1)}" y="${y + 17}">${escapeHtml(bar.text)}</text>`,
    ].join("");
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${escapeHtml(title)}" width="${labelWidth + plotWidth + valueWidth}" height="${height}" font-family="system-ui, sans-serif" font-size="13">`,
    `<text x="0" y="16" font-weight="bold">${escapeHtml(title)}</text>`,
    ...rows,
    "</svg>",
  ].join("\n");
}

function charts(report: BenchReport): string[] {
  const results = report.results;
  const bars = (value: (r: StrategyResult) => number, text: (r: StrategyResult) => string): Bar[] =>
    results.map((r) => ({ label: r.strategy, value: value(r), text: text(r) }));
  const out = [
    barChart(
      "Image size (smaller is better)",
      bars(
        (r) => r.sizeBytes,
        (r) => megabytes(r.sizeBytes),
      ),
    ),
    barChart(
      "Bytes above the base image",
      bars(
        (r) => Math.max(0, r.bytesAboveBase),
        (r) => megabytes(r.bytesAboveBase),
      ),
    ),
  ];
  for (const scenario of SCENARIOS) {
    if (!results.some((r) => r[scenario] !== null)) continue;
    out.push(
      barChart(
        `${SCENARIO_TITLES[scenario]} (seconds, lower is better)`,
        bars(
          (r) => r[scenario] ?? 0,
          (r) => seconds(r[scenario]),
        ),
      ),
    );
  }
  return out;
}

export function renderHtml(report: BenchReport): string {
  const scenarios = SCENARIOS.filter((s) => report.results.some((r) => r[s] !== null));
  const head = ["Strategy", "Image size", "Above base", ...scenarios.map((s) => SCENARIO_TITLES[s])];
  const rows = report.results.map(
    (r) =>
      `<tr><th>${escapeHtml(r.strategy)}</th><td>${megabytes(r.sizeBytes)}</td><td>${megabytes(r.bytesAboveBase)}</td>${scenarios
        .map((s) => `<td>${escapeHtml(timeCell(r, s, report.runs))}</td>`)
        .join("")}</tr>`,
  );
  return htmlDocument({
    title: `couplet bench: ${report.project}`,
    css: `
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; color: #222; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3rem 0.7rem; text-align: right; }
th:first-child, thead th { text-align: left; }
.charts { display: flex; flex-wrap: wrap; gap: 1.5rem; }
.meta { color: #555; }`,
    body: `
<h1>couplet bench: ${escapeHtml(report.project)}</h1>
<p class="meta">Engine: ${escapeHtml(report.engine.label)} (${escapeHtml(report.engine.version)}). Machine: ${escapeHtml(machineLine(report))}. ${escapeHtml(report.date.slice(0, 10))}, couplet ${escapeHtml(report.couplet)}, ${report.runs} run${report.runs === 1 ? "" : "s"} per strategy.</p>
<table>
<thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join("")}</tr></thead>
<tbody>
${rows.join("\n")}
</tbody>
</table>
<div class="charts">
${charts(report).join("\n")}
</div>
<ul>
${report.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join("\n")}
</ul>`,
  });
}
