#!/usr/bin/env node
// Wall time of `couplet init --stdout` (Node start-up included) on a large real lock; writes docs/init-speed.md.
// Usage: npm run build && node bench/init-speed.mjs [project-dir] [runs]
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const project = process.argv[2] ?? join(root, "test/fixtures/projects/large");
const runs = Number(process.argv[3] ?? 30);
const cli = join(root, "dist/cli/main.js");

const packages = (readFileSync(join(project, "poetry.lock"), "utf8").match(/^\[\[package\]\]$/gm) ?? [])
  .length;
const times = [];
for (let i = 0; i < runs + 3; i++) {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, [cli, "init", project, "--stdout"], { encoding: "utf8" });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) {
    process.stderr.write(result.stderr);
    process.exit(1);
  }
  if (i >= 3) times.push(ms); // the first runs warm the file cache
}
times.sort((a, b) => a - b);
const pick = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
const baseline = [];
for (let i = 0; i < 10; i++) {
  const start = process.hrtime.bigint();
  spawnSync(process.execPath, ["-e", ""]);
  baseline.push(Number(process.hrtime.bigint() - start) / 1e6);
}
baseline.sort((a, b) => a - b);
const fmt = (ms) => `${ms.toFixed(0)} ms`;
const report = `# \`couplet init\` speed

Wall time of \`couplet init --stdout\` on \`${project.replace(root, "")}\` (a lock of ${packages} packages made by real Poetry),
Node.js start-up included, ${runs} runs after 3 warm-up runs. Goal: under 300 ms.

| | median | p90 | min | max |
|---|---|---|---|---|
| couplet init | ${fmt(pick(0.5))} | ${fmt(pick(0.9))} | ${fmt(times[0])} | ${fmt(times.at(-1))} |
| node -e "" (start-up alone) | ${fmt(baseline[5])} | | ${fmt(baseline[0])} | ${fmt(baseline.at(-1))} |

Machine: ${cpus().length} × ${cpus()[0]?.model ?? "unknown CPU"}, Node ${process.version}, measured ${new Date().toISOString().slice(0, 10)} by \`node bench/init-speed.mjs\`.
`;
writeFileSync(join(root, "docs/init-speed.md"), report);
process.stdout.write(report);
