#!/usr/bin/env node
// Puts two `couplet bench --format json` reports of the same project (e.g. Docker BuildKit and buildah) side by
// side, strategy by strategy, as Markdown on standard output.
//
// usage: node bench/side-by-side.mjs A.json B.json > docs/x.md
import { readFile } from "node:fs/promises";
import { basename } from "node:path";

const [aPath, bPath] = process.argv.slice(2);
if (!aPath || !bPath) {
  process.stderr.write("usage: node bench/side-by-side.mjs A.json B.json\n");
  process.exit(2);
}
const [a, b] = await Promise.all([aPath, bPath].map(async (p) => JSON.parse(await readFile(p, "utf8"))));

const engineName = (report) => String(report.engine?.label ?? report.engine?.name ?? report.engine ?? "?");
const mb = (bytes) => (typeof bytes === "number" ? `${Math.round(bytes / 1e6)} MB` : "–");
const s = (seconds) => (typeof seconds === "number" ? `${seconds.toFixed(1)} s` : "–");
const measures = [
  ["Image size", "sizeBytes", mb],
  ["Above base", "bytesAboveBase", mb],
  ["Uncached build", "cold", s],
  ["Rebuild after cache-busting edit", "depChange", s],
  ["Rebuild after adding a dependency", "realDepChange", s],
  ["Rebuild after a source edit", "codeChange", s],
];
const byStrategy = (report) => new Map(report.results.map((r) => [r.strategy, r]));
const ra = byStrategy(a);
const rb = byStrategy(b);
const strategies = [...new Set([...ra.keys(), ...rb.keys()])];
const nameA = engineName(a);
const nameB = engineName(b);

const out = [];
out.push(`# couplet bench: ${a.project ?? "?"} on two engines, side by side`, "");
out.push(
  `- **A**: ${nameA}: ${a.date}, ${a.runs} run(s) per strategy (\`docs/${basename(aPath, ".json")}.md\`)`,
);
out.push(
  `- **B**: ${nameB}: ${b.date}, ${b.runs} run(s) per strategy (\`docs/${basename(bPath, ".json")}.md\`)`,
);
const m = a.machine;
const machine =
  m && typeof m === "object"
    ? `${m.cpus} × ${m.cpuModel}, ${Math.round(m.memoryBytes / 2 ** 30)} GiB RAM, ${m.os}`
    : String(m ?? "?");
out.push(`- Machine: ${machine}`, "");
out.push("Medians; each cell is A / B.", "");
out.push(`| Strategy | ${measures.map(([label]) => label).join(" | ")} |`);
out.push(`| --- | ${measures.map(() => "---:").join(" | ")} |`);
for (const strategy of strategies) {
  const x = ra.get(strategy);
  const y = rb.get(strategy);
  const cells = measures.map(([, key, fmt]) => `${fmt(x?.[key])} / ${fmt(y?.[key])}`);
  out.push(`| \`${strategy}\` | ${cells.join(" | ")} |`);
}
out.push("", "Notes of A:", "", ...(a.notes ?? []).map((n) => `- ${n}`), "", "Notes of B:", "");
out.push(...(b.notes ?? []).map((n) => `- ${n}`), "");
process.stdout.write(`${out.join("\n")}\n`);
