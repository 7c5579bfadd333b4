// The comparison of two images as one self-contained HTML page: layers side by side, then what grew, as bars of delta.
import { escapeHtml, htmlDocument } from "../html/document.js";
import type { Capped, Comparison, PackageChange, PathChange } from "./compare.js";
import { span } from "./html.js";

/** Width in percent of a bar for `part` of `whole`, never so thin it disappears. */
function width(part: number, whole: number): string {
  return whole > 0 ? `${Math.max(0.5, (Math.abs(part) / whole) * 100).toFixed(2)}%` : "0%";
}

function header(c: Comparison): string {
  const name = (side: "a" | "b") =>
    c[side].tags[0] !== undefined
      ? span("text", `/${side}/tags/0`, c[side].tags[0])
      : span("text", `/${side}/source`, c[side].source);
  return `<header>
<h1>${name("a")} → ${name("b")}</h1>
<div class="tiles">
<div class="tile"><div class="v">${span("bytes", "/a/sizeBytes", c.a.sizeBytes)}</div><div class="k">A</div></div>
<div class="tile"><div class="v">${span("bytes", "/b/sizeBytes", c.b.sizeBytes)}</div><div class="k">B</div></div>
<div class="tile ${c.delta > 0 ? "grow" : c.delta < 0 ? "shrink" : ""}"><div class="v">${span("delta", "/delta", c.delta)}</div><div class="k">change</div></div>
</div>
</header>`;
}

function layers(c: Comparison): string {
  const largest = Math.max(1, ...c.layers.flatMap((l) => [l.sizeA, l.sizeB]));
  const rows = c.layers.map((l, i) => {
    const at = `/layers/${i}`;
    const instruction =
      l.createdByB !== undefined
        ? span("instruction", `${at}/createdByB`, l.createdByB)
        : span("instruction", `${at}/createdByA`, l.createdByA ?? "");
    const index = (side: "A" | "B") => {
      const v = side === "A" ? l.indexA : l.indexB;
      return v === undefined ? "" : span("layer", `${at}/index${side}`, v);
    };
    return `<tr class="${l.status}">
<td class="n">${index("A")}</td><td class="n">${index("B")}</td><td><span class="status">${escapeHtml(l.status)}</span></td>
<td class="bars"><div class="bar a" style="width:${width(l.sizeA, largest)}"></div><div class="bar b" style="width:${width(l.sizeB, largest)}"></div></td>
<td class="n">${span("bytes", `${at}/sizeA`, l.sizeA)}</td><td class="n">${span("bytes", `${at}/sizeB`, l.sizeB)}</td>
<td class="n">${span("delta", `${at}/delta`, l.delta)}</td><td class="instruction code">${instruction}</td>
</tr>`;
  });
  return `<section id="layers">
<h2>Layers</h2>
<table>
<tr><th class="n">A</th><th class="n">B</th><th>status</th><th>size</th><th class="n">size A</th><th class="n">size B</th><th class="n">change</th><th>created by</th></tr>
${rows.join("\n")}
</table>
</section>`;
}

function deltaBar(delta: number, largest: number): string {
  return `<div class="delta ${delta >= 0 ? "grow" : "shrink"}" style="width:${width(delta, largest)}"></div>`;
}

function more<T>(capped: Capped<T>, at: string, what: string, columns: number): string {
  if (capped.more === 0) return "";
  return `<tr class="more"><td colspan="${columns - 1}">… ${span("count", `${at}/more`, capped.more)} more ${what}</td><td class="n">${span("delta", `${at}/moreDelta`, capped.moreDelta)}</td></tr>`;
}

function packages(c: Comparison): string {
  const items = c.packages.items;
  if (items.length === 0)
    return `<section id="packages"><h2>Python packages</h2><p class="muted">no change</p></section>`;
  const largest = Math.max(...items.map((p) => Math.abs(p.delta)));
  const version = (p: PackageChange, at: string) => {
    if (p.status === "version")
      return `${span("text", `${at}/versionA`, p.versionA)} → ${span("text", `${at}/versionB`, p.versionB)}`;
    return p.versionB !== undefined
      ? span("text", `${at}/versionB`, p.versionB)
      : span("text", `${at}/versionA`, p.versionA ?? "");
  };
  const rows = items.map((p, i) => {
    const at = `/packages/items/${i}`;
    return `<tr><td><span class="status">${escapeHtml(p.status)}</span></td><td>${span("text", `${at}/name`, p.name)}</td><td>${version(p, at)}</td>
<td class="bars">${deltaBar(p.delta, largest)}</td><td class="n">${span("delta", `${at}/delta`, p.delta)}</td></tr>`;
  });
  return `<section id="packages">
<h2>Python packages</h2>
<table>
<tr><th>status</th><th>package</th><th>version</th><th>change</th><th class="n"></th></tr>
${rows.join("\n")}
${more(c.packages, "/packages", "packages", 5)}
</table>
</section>`;
}

function paths(id: string, title: string, capped: Capped<PathChange>, at: string): string {
  if (capped.items.length === 0)
    return `<section id="${id}"><h2>${title}</h2><p class="muted">no change</p></section>`;
  const largest = Math.max(...capped.items.map((p) => Math.abs(p.delta)));
  const rows = capped.items.map((p, i) => {
    const item = `${at}/items/${i}`;
    return `<tr><td><span class="status">${escapeHtml(p.status)}</span></td><td class="path">${span("text", `${item}/path`, p.path)}</td>
<td class="bars">${deltaBar(p.delta, largest)}</td><td class="n">${span("delta", `${item}/delta`, p.delta)}</td></tr>`;
  });
  return `<section id="${id}">
<h2>${title}</h2>
<table>
<tr><th>status</th><th>path</th><th>change</th><th class="n"></th></tr>
${rows.join("\n")}
${more(capped, at, id, 4)}
</table>
</section>`;
}

function findings(c: Comparison): string {
  const rows: string[] = [];
  for (const [mark, key] of [
    ["new", "appeared"],
    ["gone", "disappeared"],
  ] as const)
    c.findings[key].forEach((f, i) => {
      const at = `/findings/${key}/${i}`;
      rows.push(
        `<tr><td><span class="status">${mark}</span></td><td>${span("text", `${at}/kind`, f.kind)}</td><td class="path">${span("text", `${at}/path`, f.path)}</td><td class="n">${span("bytes", `${at}/bytes`, f.bytes)}</td><td>${span("text", `${at}/message`, f.message)}</td></tr>`,
      );
    });
  if (rows.length === 0) return "";
  return `<section id="findings">
<h2>Findings that appeared or went away</h2>
<table>
<tr><th></th><th>kind</th><th>path</th><th class="n">bytes</th><th>what</th></tr>
${rows.join("\n")}
</table>
</section>`;
}

const CSS = `
:root { --fg: #1d2430; --muted: #5d6775; --line: #e2e6eb; --bg: #f4f5f7; --grow: #b3261e; --shrink: #2e7d32; --a: #8a94a6; --b: #3b6fd4; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; }
main { max-width: 1320px; margin: 0 auto; padding: 14px 20px 40px; }
h1 { font-size: 20px; margin: 0 0 10px; overflow-wrap: anywhere; }
h2 { font-size: 15px; margin: 0 0 8px; }
.muted { color: var(--muted); }
.tiles { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 10px; }
.tile { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 6px 12px; }
.tile .v { font-size: 22px; font-weight: 650; font-variant-numeric: tabular-nums; }
.tile .k { color: var(--muted); font-size: 12px; }
.tile.grow .v { color: var(--grow); } .tile.shrink .v { color: var(--shrink); }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; margin: 12px 0 0; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid var(--line); vertical-align: middle; }
th { font-weight: 600; color: var(--muted); font-size: 12px; }
.n { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.code, .path { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 12.5px; }
.path { overflow-wrap: anywhere; }
td.instruction { max-width: 0; width: 40%; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
td.bars { width: 22%; min-width: 120px; }
.bar { height: 7px; border-radius: 3px; margin: 2px 0; }
.bar.a { background: var(--a); } .bar.b { background: var(--b); }
.delta { height: 10px; border-radius: 3px; }
.delta.grow { background: var(--grow); } .delta.shrink { background: var(--shrink); }
.status { font: 600 11px ui-monospace, monospace; background: #eef0f3; border-radius: 4px; padding: 1px 5px; }
tr.same { color: var(--muted); }
`;

export function renderCompareHtml(c: Comparison): string {
  return htmlDocument({
    title: `couplet inspect: ${c.a.tags[0] ?? c.a.source} → ${c.b.tags[0] ?? c.b.source}`,
    css: CSS,
    body: `<main>
${header(c)}
${layers(c)}
${packages(c)}
${paths("folders", "Folders", c.folders, "/folders")}
${paths("files", "Files", c.files, "/files")}
${findings(c)}
</main>`,
  });
}
