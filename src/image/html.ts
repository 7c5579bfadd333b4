// The inspection report as one self-contained HTML page: layers as a stacked bar, folders as a treemap, findings by kind.
import { hierarchy, treemap, treemapSquarify } from "d3-hierarchy";
import { escapeHtml, htmlDocument } from "../html/document.js";
import { signedBytes } from "./compare-format.js";
import { type Finding, type FindingKind, formatBytes } from "./findings.js";
import type { FolderSize } from "./folder-sizes.js";
import { shortInstruction } from "./format.js";
import type { InspectReport } from "./inspect.js";

/**
 * How a value from the report is shown. Every figure, and every text taken from the image, is written inside an
 * element that names where it comes from (`data-source`: a JSON pointer into the report as `--format json` prints
 * it, or `ratio`, `sum`, `count`, `length`, `basename` of pointers) and how it is shown (`data-kind`, a key of this table), so a test can
 * recompute each one from the JSON report.
 */
export const VALUE_FORMATS = {
  bytes: (v: unknown) => formatBytes(v as number),
  /** A change in bytes, signed (the comparison of two images) */
  delta: (v: unknown) => signedBytes(v as number),
  share: (v: unknown) => `${((v as number) * 100).toFixed(1)}%`,
  efficiency: (v: unknown) => `${((v as number) * 100).toFixed(2)}%`,
  count: (v: unknown) => String(v),
  layer: (v: unknown) => `#${(v as number) + 1}`,
  instruction: (v: unknown) => shortInstruction((v as string) || "(no history)", 140),
  text: (v: unknown) => String(v),
} as const;
export type ValueKind = keyof typeof VALUE_FORMATS;

/**
 * A value and where it comes from: a JSON pointer, or of pointers `ratio A B`, `sum A B...`, `count A B...` (how
 * many are listed), `length A` (of an array), `basename A` (of a path).
 */
export type Part = [kind: ValueKind, source: string, value: unknown];

function attrs(parts: Part[]): string {
  const single = parts.length === 1 ? parts[0] : undefined;
  const raw = single && typeof single[2] === "number" ? ` data-value="${single[2]}"` : "";
  return ` data-kind="${parts.map((p) => p[0]).join(" ")}" data-source="${escapeHtml(parts.map((p) => p[1]).join("|"))}"${raw}`;
}

function shown(parts: Part[]): string {
  return escapeHtml(parts.map(([kind, , value]) => VALUE_FORMATS[kind](value)).join(" · "));
}

/** One value (or a few joined by " · ") in an element that says where it comes from. */
export function value(tag: string, parts: Part[], extra = ""): string {
  return `<${tag}${extra}${attrs(parts)}>${shown(parts)}</${tag}>`;
}

export const span = (kind: ValueKind, source: string, v: unknown, cls?: string) =>
  value("span", [[kind, source, v]], cls ? ` class="${cls}"` : "");

const ratio = (a: number, b: number) => (b > 0 ? a / b : 0);

const KINDS: Record<FindingKind, { title: string; fix: string }> = {
  waste: {
    title: "Overwritten or deleted by a later layer",
    fix: "change or remove files in the same RUN that creates them: the lower layer still ships them",
  },
  "deleted-folder": {
    title: "Folders deleted above but stored below",
    fix: "delete them in the RUN that created them",
  },
  cache: { title: "Package-manager caches", fix: "a cache mount, or remove the cache in the same RUN" },
  toolchain: {
    title: "Compilers and C headers",
    fix: "compile in a builder stage and copy only the results",
  },
  "dev-dependency": {
    title: "Development-only packages",
    fix: "install the production groups only (--only main)",
  },
  "build-tool": {
    title: "Packaging tools in the app's virtualenv",
    fix: "create the virtualenv --without-pip, or uninstall them",
  },
  pycache: {
    title: "Bytecode",
    fix: "compiled bytecode trades size for start-up time: keep it for faster starts, drop it for a smaller image",
  },
  tests: { title: "Test suites inside installed packages", fix: "remove them in the install RUN" },
};

const PALETTE = [
  "#3867a8",
  "#c0612b",
  "#3f8a4f",
  "#8a52a8",
  "#b08a1e",
  "#2f8c8c",
  "#b0435f",
  "#5a6b7d",
  "#6f8f2a",
  "#a35a3c",
];
const colour = (i: number) => PALETTE[i % PALETTE.length] as string;

function header(report: InspectReport): string {
  const name: Part = report.image.tags[0]
    ? ["text", "/image/tags/0", report.image.tags[0]]
    : ["text", "/image/source", report.image.source];
  const about: Part[] = [["text", "/image/format", report.image.format]];
  if (report.image.os) about.push(["text", "/image/os", report.image.os]);
  if (report.image.architecture) about.push(["text", "/image/architecture", report.image.architecture]);
  if (report.image.tags[0]) about.push(["text", "/image/source", report.image.source]);
  const tile = (label: string, body: string, cls = "") =>
    `<div class="tile${cls}"><div class="v">${body}</div><div class="k">${escapeHtml(label)}</div></div>`;
  return `<header>
<h1>${value("span", [name])}</h1>
<p class="meta">${value("span", about)}</p>
<div class="tiles">
${tile("total size", span("bytes", "/sizeBytes", report.sizeBytes))}
${tile("layers", span("count", "length /layers", report.layers.length))}
${tile("efficiency", span("efficiency", "/efficiency", report.efficiency), report.efficiency < 0.95 ? " bad" : "")}
${tile("wasted (as dive counts)", span("bytes", "/wastedBytes", report.wastedBytes), report.wastedBytes > 0.01 * report.sizeBytes ? " bad" : "")}
${tile("findings", span("count", "length /findings", report.findings.length))}
${tile("missing libraries", span("count", "length /missingLibraries", report.missingLibraries.length), report.missingLibraries.length > 0 ? " bad" : "")}
</div>
</header>`;
}

function layers(report: InspectReport): string {
  const segments = report.layers.map((layer, i) => {
    const share = ratio(layer.size, report.sizeBytes);
    const at = `/layers/${i}`;
    return `<div class="seg" style="flex: ${share.toFixed(6)} 0 0; background: ${colour(i)}" title="${escapeHtml(layer.createdBy)}" data-title-source="${at}/createdBy">${value(
      "span",
      [
        ["layer", `${at}/index`, layer.index],
        ["bytes", `${at}/size`, layer.size],
      ],
    )}</div>`;
  });
  const rows = report.layers.map((layer, i) => {
    const at = `/layers/${i}`;
    return `<tr>
<td class="n"><span class="swatch" style="background: ${colour(i)}"></span>${span("layer", `${at}/index`, layer.index)}</td>
<td class="instruction" title="${escapeHtml(layer.createdBy)}" data-title-source="${at}/createdBy">${span("instruction", `${at}/createdBy`, layer.createdBy, "code")}</td>
<td class="n">${span("bytes", `${at}/size`, layer.size)}</td>
<td class="n">${span("share", `ratio ${at}/size /sizeBytes`, ratio(layer.size, report.sizeBytes))}</td>
<td class="n">${span("bytes", `${at}/storedSize`, layer.storedSize)}</td>
<td class="n">${span("count", `${at}/files`, layer.files)}</td>
</tr>`;
  });
  return `<section id="layers">
<h2>Layers</h2>
<div class="stack" role="img" aria-label="layer sizes">
${segments.join("\n")}
</div>
<table class="layers">
<thead><tr><th class="n">layer</th><th>made by</th><th class="n">size</th><th class="n">share</th><th class="n">stored</th><th class="n">entries</th></tr></thead>
<tbody>
${rows.join("\n")}
</tbody>
</table>
</section>`;
}

interface Folder {
  folder: FolderSize;
  pointer: string;
  /** Bytes of this folder not in a kept subfolder: its own area in the treemap */
  own: number;
  children: Folder[];
}

function folderNodes(folder: FolderSize, pointer: string): Folder {
  const children = folder.children.map((child, i) => folderNodes(child, `${pointer}/children/${i}`));
  const own = folder.size - folder.children.reduce((sum, c) => sum + c.size, 0);
  return { folder, pointer, own: Math.max(0, own), children };
}

/** Close to the size it is drawn at on a laptop screen, so 12px labels stay 12px. */
const TREEMAP = { width: 820, height: 330, label: 17 };

/** The final filesystem as a squarified treemap: each folder a rectangle with an area in proportion to its bytes. */
function treemapSvg(report: InspectReport): string {
  const root = hierarchy(folderNodes(report.folders, "/folders"), (f) => f.children)
    .sum((f) => f.own)
    .sort((a, b) => (b.value ?? 0) - (a.value ?? 0));
  treemap<Folder>()
    .tile(treemapSquarify)
    .size([TREEMAP.width, TREEMAP.height])
    .paddingOuter(2)
    .paddingTop((node) => (node.depth === 0 ? 0 : TREEMAP.label))
    .paddingInner(2)
    .round(true)(root);
  const cells: string[] = [];
  for (const node of root.descendants()) {
    if (node.depth === 0) continue;
    const { x0, y0, x1, y1 } = node as unknown as { x0: number; y0: number; x1: number; y1: number };
    // A folder squeezed out by its parent's padding still gets its (empty) rectangle and tooltip: every folder of
    // the report is on the page.
    const width = Math.max(0, x1 - x0);
    const height = Math.max(0, y1 - y0);
    const top = node.ancestors().at(-2) ?? node;
    const hue = colour(root.children?.indexOf(top) ?? 0);
    const { folder, pointer } = node.data;
    // Below the top level a label names the folder under its parent; the tooltip gives the whole path.
    const label: Part[] = [
      node.depth === 1
        ? ["text", `${pointer}/path`, folder.path]
        : ["text", `basename ${pointer}/path`, folder.path.slice(folder.path.lastIndexOf("/") + 1)],
      ["bytes", `${pointer}/size`, folder.size],
    ];
    const fits = width > 54 && height > 14;
    cells.push(
      `<g class="cell" data-depth="${node.depth}">` +
        `<rect x="${x0}" y="${y0}" width="${width}" height="${height}" fill="${hue}" fill-opacity="${Math.min(0.9, 0.35 + 0.17 * node.depth).toFixed(2)}" stroke="#fff"></rect>` +
        value("title", [
          ["text", `${pointer}/path`, folder.path],
          ["bytes", `${pointer}/size`, folder.size],
        ]) +
        (fits
          ? `<svg x="${x0}" y="${y0}" width="${width}" height="${Math.min(height, TREEMAP.label)}">${value("text", label, ' x="4" y="13"')}</svg>`
          : "") +
        "</g>",
    );
  }
  return `<svg class="treemap" viewBox="0 0 ${TREEMAP.width} ${TREEMAP.height}" role="img" aria-label="largest folders" font-size="12">
${cells.join("\n")}
</svg>`;
}

interface Group {
  kind: FindingKind;
  items: { finding: Finding; index: number }[];
  bytes: number;
}

function groups(report: InspectReport): Group[] {
  const byKind = new Map<FindingKind, Group>();
  report.findings.forEach((finding, index) => {
    const group = byKind.get(finding.kind) ?? { kind: finding.kind, items: [], bytes: 0 };
    group.items.push({ finding, index });
    group.bytes += finding.bytes;
    byKind.set(finding.kind, group);
  });
  return [...byKind.values()].sort((a, b) => b.bytes - a.bytes);
}

const sumOf = (group: Group) => `sum ${group.items.map((i) => `/findings/${i.index}/bytes`).join(" ")}`;
const countOf = (group: Group) => `count ${group.items.map((i) => `/findings/${i.index}`).join(" ")}`;

/** Bytes each kind of finding would save, as bars on one scale. */
function savings(report: InspectReport, all: Group[]): string {
  const largest = Math.max(1, ...all.map((g) => g.bytes));
  const rows = all.map(
    (group) => `<li data-kind-group="${group.kind}">
<div class="what"><a href="#kind-${group.kind}">${escapeHtml(KINDS[group.kind].title)}</a> ${span("count", countOf(group), group.items.length, "muted")}</div>
<div class="bar"><div style="width: ${((100 * group.bytes) / largest).toFixed(2)}%"></div></div>
<div class="n">${span("bytes", sumOf(group), group.bytes)}</div>
</li>`,
  );
  const missing = report.missingLibraries.length;
  return `<section id="savings">
<h2>What could go</h2>
${all.length > 0 ? `<ul class="savings">\n${rows.join("\n")}\n</ul>` : "<p>No findings.</p>"}
${missing > 0 ? `<p class="alarm"><a href="#missing">Missing shared libraries: ${span("count", "length /missingLibraries", missing)}</a>. Importing what needs them fails at run time.</p>` : ""}
</section>`;
}

function findings(all: Group[]): string {
  if (all.length === 0) return "";
  const sections = all.map((group) => {
    const rows = group.items.map(({ finding, index }) => {
      const at = `/findings/${index}`;
      return `<tr>
<td class="path">${span("text", `${at}/path`, finding.path)}</td>
<td class="n">${span("bytes", `${at}/bytes`, finding.bytes)}</td>
<td class="n">${finding.layer !== undefined ? span("layer", `${at}/layer`, finding.layer) : ""}</td>
<td>${span("text", `${at}/message`, finding.message)}${finding.rule ? ` ${span("text", `${at}/rule`, finding.rule, "rule")}` : ""}</td>
</tr>`;
    });
    return `<div class="group" id="kind-${group.kind}" data-kind-group="${group.kind}">
<h3>${escapeHtml(KINDS[group.kind].title)}: ${span("bytes", sumOf(group), group.bytes)} in ${span("count", countOf(group), group.items.length)}</h3>
<p class="fix">Fix: ${escapeHtml(KINDS[group.kind].fix)}</p>
<table class="findings">
<colgroup><col class="c-path"><col class="c-bytes"><col class="c-layer"><col></colgroup>
<thead><tr><th>path</th><th class="n">would save</th><th class="n">layer</th><th>why, and the fix</th></tr></thead>
<tbody>
${rows.join("\n")}
</tbody>
</table>
</div>`;
  });
  return `<section id="findings">
<h2>Findings by kind</h2>
${sections.join("\n")}
</section>`;
}

function missingLibraries(report: InspectReport): string {
  const checked = span("count", "/sharedObjectsChecked", report.sharedObjectsChecked);
  if (report.missingLibraries.length === 0)
    return `<section id="missing"><h2>Shared libraries</h2><p>Every library the shared objects need is present. Shared objects checked: ${checked}.</p></section>`;
  const packages = new Map<string, number>();
  report.missingLibraries.forEach((missing, i) => {
    if (missing.debianPackage && !packages.has(missing.debianPackage)) packages.set(missing.debianPackage, i);
  });
  const install = [...packages].map(([name, i]) =>
    span("text", `/missingLibraries/${i}/debianPackage`, name, "code"),
  );
  const rows = report.missingLibraries.map((missing, i) => {
    const at = `/missingLibraries/${i}`;
    return `<tr>
<td>${span("text", `${at}/needed`, missing.needed, "code")}</td>
<td>${missing.debianPackage ? span("text", `${at}/debianPackage`, missing.debianPackage, "code") : '<span class="muted">unknown</span>'}</td>
<td class="path">${span("text", `${at}/file`, missing.file)}</td>
</tr>`;
  });
  return `<section id="missing">
<h2>Missing shared libraries <span class="rule">CPL015</span></h2>
<p>Needed but not in the image: ${span("count", "length /missingLibraries", report.missingLibraries.length)}. Shared objects checked: ${checked}.${install.length > 0 ? ` Install them in the final stage: <code>apt-get install --no-install-recommends</code> ${install.join(" ")}` : ""}</p>
<table>
<thead><tr><th>needed</th><th>Debian package</th><th>needed by</th></tr></thead>
<tbody>
${rows.join("\n")}
</tbody>
</table>
</section>`;
}

function warnings(report: InspectReport): string {
  if (report.warnings.length === 0) return "";
  return `<section id="warnings">
<h2>Not everything could be read</h2>
<ul>
${report.warnings.map((_, i) => `<li>${span("text", `/warnings/${i}`, report.warnings[i])}</li>`).join("\n")}
</ul>
</section>`;
}

const CSS = `
:root { --fg: #1d2430; --muted: #5d6775; --line: #e2e6eb; --bg: #f4f5f7; --bad: #b3261e; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; }
main { max-width: 1320px; margin: 0 auto; padding: 14px 20px 40px; }
h1 { font-size: 20px; margin: 0; overflow-wrap: anywhere; }
h2 { font-size: 15px; margin: 0 0 8px; }
h3 { font-size: 14px; margin: 14px 0 2px; }
.meta, .muted, .fix { color: var(--muted); }
.meta { margin: 2px 0 10px; overflow-wrap: anywhere; }
.fix { margin: 0 0 6px; }
.tiles { display: grid; grid-template-columns: repeat(6, minmax(0, 1fr)); gap: 10px; }
.tile { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 6px 12px; }
.tile .v { font-size: 22px; font-weight: 650; font-variant-numeric: tabular-nums; }
.tile .k { color: var(--muted); font-size: 12px; }
.tile.bad .v { color: var(--bad); }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; margin: 12px 0 0; }
.stack { display: flex; height: 34px; border-radius: 6px; overflow: hidden; margin-bottom: 8px; }
.seg { min-width: 4px; color: #fff; font-size: 12px; line-height: 34px; padding: 0 6px; overflow: hidden; white-space: nowrap; text-overflow: clip; border-right: 1px solid #fff; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; }
.pair { display: grid; grid-template-columns: minmax(0, 2fr) minmax(0, 1fr); gap: 12px; }
.pair > section { margin-top: 12px; }
.treemap { width: 100%; height: auto; display: block; }
.treemap text { fill: #fff; font-weight: 600; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); font-size: 12px; }
.n { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.code, code, .path { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 12.5px; }
.path { overflow-wrap: anywhere; }
td.instruction { max-width: 0; width: 70%; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.rule { font: 600 11px ui-monospace, monospace; background: #e8edff; color: #3344a0; border-radius: 4px; padding: 1px 5px; white-space: nowrap; }
table.findings { table-layout: fixed; }
col.c-path { width: 34%; } col.c-bytes { width: 8.5em; } col.c-layer { width: 4.5em; }
ul.savings { list-style: none; margin: 0; padding: 0; }
ul.savings li { display: grid; grid-template-columns: minmax(0, 1fr) 90px; gap: 2px 10px; padding: 4px 0; border-bottom: 1px solid var(--line); }
ul.savings .bar { grid-column: 1; height: 8px; background: #eef0f3; border-radius: 4px; overflow: hidden; }
ul.savings .bar div { height: 100%; background: #c0612b; }
ul.savings .n { grid-column: 2; grid-row: 1 / span 2; align-self: center; font-weight: 600; }
a { color: inherit; }
.alarm { color: var(--bad); font-weight: 600; }
@media (max-width: 900px) { .pair { grid-template-columns: 1fr; } .tiles { grid-template-columns: repeat(3, minmax(0, 1fr)); } }
`;

export function renderInspectHtml(report: InspectReport): string {
  const all = groups(report);
  return htmlDocument({
    title: `couplet inspect: ${report.image.tags[0] ?? report.image.source}`,
    css: CSS,
    body: `<main>
${header(report)}
${layers(report)}
<div class="pair">
<section id="folders">
<h2>Largest folders in the final filesystem</h2>
${treemapSvg(report)}
</section>
${savings(report, all)}
</div>
${findings(all)}
${missingLibraries(report)}
${warnings(report)}
</main>`,
  });
}
