#!/usr/bin/env node
// What bytecode in assembled images costs and saves: `couplet assemble` with and without `--no-bytecode`, cold
// (warm wheel cache, empty layer cache) and after a source edit, then each image's start-up time (first HTTP
// answer, or the CLI's exit). Writes its section of docs/assemble-vs-build.md (between its markers).
//
// usage: npm run build && COUPLET_CACHE=/work/main/.cache node bench/assemble-bytecode.mjs [RUNS] [STARTS]
//   RUNS (assemblies per variant and example) defaults to 3, STARTS (timed starts per image) to 7.
import { execFile } from "node:child_process";
import { appendFile, cp, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { buildah, startTimed } from "./container-start.mjs";
import { firstSource, median, timed as timedCommand } from "./measure.mjs";

const run = promisify(execFile);
const root = new URL("..", import.meta.url).pathname;
const cli = join(root, "dist/cli/main.js");
const runs = Number(process.argv[2] ?? 3);
const starts = Number(process.argv[3] ?? 7);
const examples = [
  { name: "cli-tool", web: false, args: ["--help"] },
  { name: "fastapi-app", web: true, args: [] },
];
const VARIANTS = ["without", "with"];
const log = (line) => process.stderr.write(`bench/assemble-bytecode: ${line}\n`);
const DOC = join(root, "docs/assemble-vs-build.md");
const BEGIN = "<!-- made by bench/assemble-bytecode.mjs: begin -->";
const END = "<!-- made by bench/assemble-bytecode.mjs: end -->";

/** One assemble, timed, with its --json report. */
async function timed(args, env) {
  const { wall, cpu, stdout } = await timedCommand(process.execPath, [cli, ...args], env);
  return { wall, cpu, report: JSON.parse(stdout) };
}

const { stdout: baseRef } = await run(join(root, "scripts/make-base-image"), ["bookworm", "slim"]);
const work = await mkdtemp(join(tmpdir(), "couplet-bench-bytecode-"));
const base = join(work, "base.tar");
buildah(["push", baseRef.trim(), `docker-archive:${base}`]);
const cache = join(work, "cache");
const env = { ...process.env, COUPLET_CACHE: cache, SOURCE_DATE_EPOCH: "1700000000" };
const rows = [];
const loads = [];
let compiler = "";
try {
  for (const example of examples) {
    const dir = join(work, example.name);
    await cp(join(root, "examples", example.name), dir, { recursive: true });
    const source = await firstSource(dir);
    const variants = {};
    const argsOf = (variant) => [
      "assemble",
      dir,
      "--base",
      base,
      "--output",
      join(work, `${example.name}-${variant}.tar`),
      "--tag",
      `localhost/couplet-bench-bytecode/${example.name}:${variant}-${process.pid}`,
      "--json",
      ...(variant === "with" ? [] : ["--no-bytecode"]),
    ];
    for (const variant of VARIANTS) {
      await timed(argsOf(variant), env); // the wheels, downloaded once: every timed run has them warm
      variants[variant] = { cold: [], edit: [], start: [] };
    }
    // The two variants take turns, so that the other jobs' load on this shared machine falls on both alike.
    for (let i = 0; i < runs; i++) {
      await appendFile(source, `\n# edit ${i}\n`);
      for (const variant of VARIANTS) {
        await rm(join(cache, "assemble"), { recursive: true, force: true });
        const cold = await timed(argsOf(variant), env);
        await appendFile(source, `\n# edit ${i} ${variant}\n`);
        loads.push(loadavg()[0]);
        const edit = await timed(argsOf(variant), env);
        variants[variant].cold.push({ wall: cold.wall, cpu: cold.cpu });
        variants[variant].edit.push({ wall: edit.wall, cpu: edit.cpu });
        if (edit.report.bytecode.compiled !== (variant === "with"))
          throw new Error(`${variant} bytecode: ${JSON.stringify(edit.report.bytecode)}`);
        if (edit.report.bytecode.python) compiler = `CPython ${edit.report.bytecode.python.version}`;
      }
    }
    const images = {};
    for (const variant of VARIANTS) {
      const [, , , , , archive, , tag] = argsOf(variant);
      buildah(["pull", "-q", `docker-archive:${archive}`]);
      const config = JSON.parse(buildah(["inspect", "--type", "image", tag])).OCIv1.config;
      const argv = [...(config.Entrypoint ?? []), ...(config.Cmd ?? []), ...example.args].map((word) =>
        word === "8000" ? "{port}" : word,
      );
      images[variant] = { tag, argv };
      variants[variant].archive = (await stat(archive)).size;
      await startTimed(tag, example.web, argv); // warms the page cache
    }
    for (let i = 0; i < starts; i++)
      for (const variant of VARIANTS) {
        const { tag, argv } = images[variant];
        const { ms, cpu } = await startTimed(tag, example.web, argv);
        variants[variant].start.push({ ms: Math.round(ms), cpu: Math.round(cpu * 100) / 100 });
      }
    for (const variant of VARIANTS) {
      buildah(["rmi", "-f", images[variant].tag]);
      const v = variants[variant];
      log(
        `${example.name} ${variant} bytecode: cold ${median(v.cold.map((t) => t.cpu))} s CPU, start ${median(v.start.map((t) => t.ms))} ms / ${median(v.start.map((t) => t.cpu))} s CPU`,
      );
    }
    rows.push({ example: example.name, variants });
  }
} finally {
  await rm(work, { recursive: true, force: true });
}

const s = (runsOf, key) => `${median(runsOf.map((t) => t[key])).toFixed(2)} s`;
const mb = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;
const section = [
  BEGIN,
  "## Bytecode in assembled images",
  "",
  `Made by \`bench/assemble-bytecode.mjs\` on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${compiler} compiling, on this project's`,
  `shared 2-core test machine (1-minute load average during the runs: median ${median(loads).toFixed(1)}). Medians of ${runs}`,
  `assemblies (wall / CPU: user + system, the compiling Python's included) and of ${starts} starts after one warm-up;`,
  "the two variants take turns, so the other jobs' load falls on both alike. CPU time is the steadier figure here.",
  "",
  "| example | .pyc | assemble, cold: wall / CPU | assemble after a source edit: wall / CPU | start to first answer (or exit): wall / CPU | docker-archive |",
  "|---|---|---:|---:|---:|---:|",
  ...rows.flatMap(({ example, variants }) =>
    VARIANTS.map((variant) => {
      const v = variants[variant];
      return `| ${example} | ${variant} | ${s(v.cold, "wall")} / ${s(v.cold, "cpu")} | ${s(v.edit, "wall")} / ${s(v.edit, "cpu")} | ${median(v.start.map((t) => t.ms))} ms / ${median(v.start.map((t) => t.cpu)).toFixed(2)} s | ${mb(v.archive)} |`;
    }),
  ),
  "",
  "Without `--no-bytecode` (and with a `python3.X` of the base's minor version on PATH), assemble compiles each",
  "package's modules into its own layer (unchecked-hash, listed in its RECORD as pip does) and the project's",
  "(checked-hash), so a start loads .pyc instead of compiling every import: the image keeps",
  "`PYTHONDONTWRITEBYTECODE=1` and a root-owned venv, so without them every start compiles again. Cold runs",
  "compile every layer; after an edit only the project's modules are compiled (the dependency layers, with",
  "their bytecode, come from the layer cache). Start-up is timed from `buildah run` (chroot isolation) to the",
  "first HTTP answer on loopback (fastapi-app) or to `yamlstat --help` exiting (cli-tool), so each figure",
  "includes about half a second to a second of container overhead (see [startup.md](startup.md)); its CPU time",
  "is that of `buildah run` and every process of the container until it ended (GNU time over `buildah run`).",
  "",
  "Raw runs:",
  "",
  "```json",
  JSON.stringify(rows, null, 1),
  "```",
  END,
].join("\n");

const doc = await readFile(DOC, "utf8");
const at = doc.indexOf(BEGIN);
const until = doc.indexOf(END);
const next =
  at >= 0 && until > at
    ? `${doc.slice(0, at)}${section}${doc.slice(until + END.length)}`
    : `${doc.trimEnd()}\n\n${section}\n`;
await writeFile(DOC, next);
log("wrote its section of docs/assemble-vs-build.md");
