// Render a comparison of two images for a terminal: the size change, then layers, packages, folders and files by delta.
import type { Capped, ComparedSide, Comparison, LayerChange, PathChange } from "./compare.js";
import { formatBytes } from "./findings.js";

export function signedBytes(delta: number): string {
  if (delta === 0) return "0 B";
  return `${delta > 0 ? "+" : "-"}${formatBytes(Math.abs(delta))}`;
}

function oneLine(text: string, width: number): string {
  const flat = text
    .replace(/^\/bin\/sh -c (#\(nop\) )?/, "")
    .replace(/\s+/g, " ")
    .trim();
  return flat.length > width ? `${flat.slice(0, width - 1)}…` : flat;
}

function name(side: ComparedSide): string {
  return side.tags[0] ?? side.source;
}

/** "3" or "1-4": the 1-based positions a row stands for. */
function span(from: number | undefined, to: number | undefined): string {
  if (from === undefined || to === undefined) return "-";
  return from === to ? String(from + 1) : `${from + 1}-${to + 1}`;
}

/** Runs of consecutive "same" layers folded into one row: a shared base is shown once. */
function layerRows(layers: LayerChange[]): string[] {
  const rows: string[] = [];
  const row = (
    a: string,
    b: string,
    status: string,
    sizeA: string,
    sizeB: string,
    delta: string,
    what: string,
  ) =>
    `  ${a.padEnd(5)} ${b.padEnd(5)} ${status.padEnd(8)} ${sizeA.padStart(9)} ${sizeB.padStart(9)} ${delta.padStart(10)}  ${what}`;
  rows.push(row("A", "B", "", "size A", "size B", "delta", "created by"));
  for (let k = 0; k < layers.length; k++) {
    const layer = layers[k] as LayerChange;
    if (layer.status === "same") {
      let end = k;
      let bytes = layer.sizeB;
      while (layers[end + 1]?.status === "same") {
        end += 1;
        bytes += (layers[end] as LayerChange).sizeB;
      }
      const last = layers[end] as LayerChange;
      const what =
        end === k ? oneLine(layer.createdByB || "(no history)", 70) : `${end - k + 1} layers, shared`;
      rows.push(
        row(
          span(layer.indexA, last.indexA),
          span(layer.indexB, last.indexB),
          "same",
          formatBytes(bytes),
          formatBytes(bytes),
          "0 B",
          what,
        ),
      );
      k = end;
      continue;
    }
    const instruction = layer.createdByB || layer.createdByA || "(no history)";
    rows.push(
      row(
        span(layer.indexA, layer.indexA),
        span(layer.indexB, layer.indexB),
        layer.status,
        layer.indexA === undefined ? "" : formatBytes(layer.sizeA),
        layer.indexB === undefined ? "" : formatBytes(layer.sizeB),
        signedBytes(layer.delta),
        oneLine(instruction, 70),
      ),
    );
  }
  return rows;
}

/** "1.2 MB → 1.4 MB", in bytes where rounding would show the same figure twice. */
function sizes(a: number, b: number): string {
  const [from, to] = [formatBytes(a), formatBytes(b)];
  return from === to ? `${a} B → ${b} B` : `${from} → ${to}`;
}

function more<T>(capped: Capped<T>, what: string): string[] {
  if (capped.more === 0) return [];
  const noun = capped.more === 1 ? what : `${what}s`;
  return [`  … ${capped.more} more ${noun} (${signedBytes(capped.moreDelta)} together)`];
}

function pathRows(capped: Capped<PathChange>, what: string): string[] {
  return [
    ...capped.items.map(
      (c) =>
        `  ${signedBytes(c.delta).padStart(10)}  ${c.status.padEnd(7)} ${c.path}${c.status === "grew" || c.status === "shrank" ? ` (${sizes(c.bytesA, c.bytesB)})` : ""}`,
    ),
    ...more(capped, what),
  ];
}

export function formatComparison(comparison: Comparison): string {
  const { a, b } = comparison;
  const lines: string[] = [];
  lines.push(`A  ${name(a)}: ${a.layers} layers, ${formatBytes(a.sizeBytes)}`);
  lines.push(`B  ${name(b)}: ${b.layers} layers, ${formatBytes(b.sizeBytes)}`);
  const share =
    a.sizeBytes > 0
      ? ` (${comparison.delta >= 0 ? "+" : ""}${((comparison.delta / a.sizeBytes) * 100).toFixed(2)}%)`
      : "";
  lines.push(
    `size ${formatBytes(a.sizeBytes)} → ${formatBytes(b.sizeBytes)}: ${signedBytes(comparison.delta)}${share}`,
  );
  lines.push("");
  lines.push("layers:");
  lines.push(...layerRows(comparison.layers));

  lines.push("");
  if (comparison.packages.items.length === 0) lines.push("python packages: no change");
  else {
    lines.push("python packages:");
    for (const p of comparison.packages.items) {
      const version =
        p.status === "version" ? `${p.versionA} → ${p.versionB}` : (p.versionB ?? p.versionA ?? "");
      lines.push(
        `  ${signedBytes(p.delta).padStart(10)}  ${p.status.padEnd(7)} ${`${p.name} ${version}`.padEnd(32)} ${p.sitePackages}`,
      );
    }
    lines.push(...more(comparison.packages, "package"));
  }

  lines.push("");
  const folderDelta = b.filesystemBytes - a.filesystemBytes;
  if (comparison.folders.items.length === 0) lines.push("folders: no change");
  else {
    lines.push(
      `folders (each file counted once, in its folder at depth ${comparison.folders.depth}; in site-packages, its package's folder; ${signedBytes(folderDelta)} in all):`,
    );
    lines.push(...pathRows(comparison.folders, "folder"));
  }

  lines.push("");
  if (comparison.files.items.length === 0) lines.push("files: no change");
  else {
    lines.push("files:");
    lines.push(...pathRows(comparison.files, "file"));
  }

  const { appeared, disappeared } = comparison.findings;
  if (appeared.length + disappeared.length > 0) {
    lines.push("");
    lines.push("findings:");
    for (const [mark, list] of [
      ["new", appeared],
      ["gone", disappeared],
    ] as const)
      for (const f of list)
        lines.push(
          `  ${mark.padEnd(5)} ${f.kind.padEnd(14)} ${formatBytes(f.bytes).padStart(9)}  ${f.path}: ${f.message}`,
        );
  }
  const missing = comparison.missingLibraries;
  if (missing.appeared.length + missing.disappeared.length > 0) {
    lines.push("");
    lines.push("missing shared libraries:");
    for (const m of missing.appeared)
      lines.push(
        `  new   ${m.needed} needed by ${m.file}${m.debianPackage ? ` (apt-get install ${m.debianPackage})` : ""}`,
      );
    for (const m of missing.disappeared) lines.push(`  gone  ${m.needed} needed by ${m.file}`);
  }
  if (comparison.warnings.length > 0) {
    lines.push("");
    lines.push("not everything could be read:");
    for (const warning of comparison.warnings) lines.push(`  ${warning}`);
  }
  return `${lines.join("\n")}\n`;
}
