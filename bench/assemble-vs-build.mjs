#!/usr/bin/env node
// Times `couplet assemble` against `couplet build --strategy optimal` on buildah for the same projects, base and
// machine: cold, after a source edit, after adding a dependency (wall and CPU time), and the images' sizes.
// Writes docs/assemble-vs-build.md (keeping its hand-written sections from "## A base from a registry" on).
//
// usage: npm run build && COUPLET_CACHE=/work/main/.cache node bench/assemble-vs-build.mjs [--only assemble] [RUNS] [EXAMPLE...]
//   RUNS (default 3) rounds per example; each round times one cold run of each tool, EDITS (3) source edits
//   and one added dependency. Examples default to cli-tool and fastapi-app (a wheel for every package).
//   --only assemble times assemble alone (same setup, no buildah build) and prints its medians instead of
//   rewriting the document: for comparing two versions of assemble (see BENCH_CLI) on the same machine state.
import { execFile } from "node:child_process";
import { appendFile, cp, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { firstSource, median, timed } from "./measure.mjs";

const run = promisify(execFile);
const root = new URL("..", import.meta.url).pathname;
// BENCH_CLI=FILE times another build of couplet (an older dist/ kept aside) with this script's setup.
const cli = process.env.BENCH_CLI ?? join(root, "dist/cli/main.js");
const argv = process.argv.slice(2);
const onlyAt = argv.indexOf("--only");
const only = onlyAt >= 0 ? argv.splice(onlyAt, 2)[1] : undefined;
if (only !== undefined && only !== "assemble") throw new Error(`--only takes "assemble", not ${only}`);
const runs = Number(argv[0] ?? 3);
const examples = argv.length > 1 ? argv.slice(1) : ["cli-tool", "fastapi-app"];
const EDITS = 3;
// A small pure-Python package neither example has, added the way a developer would: `poetry add`, real Poetry.
const ADDED = { name: "tabulate", version: "0.9.0" };
const POETRY = "2.2.1"; // the version that made the examples' locks
const B = ["--storage-driver", "overlay"];
const log = (line) => process.stderr.write(`bench/assemble-vs-build: ${line}\n`);

/**
 * timed() for a build, run again once when buildah trips over an image another job on the machine removed
 * from the shared storage meanwhile ("layer not known"): that is the machine, not the build being measured.
 */
async function retried(command, args) {
  try {
    return await timed(command, args);
  } catch (error) {
    if (!/layer not known/.test(String(error?.stderr))) throw error;
    log("buildah lost a layer to another job on the shared storage: building again");
    return timed(command, args);
  }
}

/** buildah 1.28 gives only its rounded text ("262 MB") for an image's size. */
async function imageSize(ref) {
  const { stdout } = await run("buildah", [...B, "images", "--json", ref]);
  return String(JSON.parse(stdout)[0]?.size ?? "unknown");
}

/** pyproject.toml and poetry.lock of the example as it is, and with the added dependency locked by Poetry. */
async function projectFiles(example, work) {
  const read = async (dir) => ({
    pyproject: await readFile(join(dir, "pyproject.toml"), "utf8"),
    lock: await readFile(join(dir, "poetry.lock"), "utf8"),
  });
  const scratch = join(work, `${example}-add`);
  await cp(join(root, "examples", example), scratch, { recursive: true });
  await run(join(root, "scripts/poetry"), [POETRY, "add", `${ADDED.name}==${ADDED.version}`, "--lock"], {
    cwd: scratch,
    maxBuffer: 64 << 20,
  });
  const added = await read(scratch);
  if (!added.lock.includes(`name = "${ADDED.name}"`))
    throw new Error(`poetry add left ${ADDED.name} out of the lock`);
  return { plain: await read(join(root, "examples", example)), added };
}

async function useFiles(dir, files, note = "") {
  await writeFile(join(dir, "pyproject.toml"), files.pyproject + note);
  await writeFile(join(dir, "poetry.lock"), files.lock);
}

// BENCH_FROM_JSON=FILE rewrites the document from the raw runs an earlier run saved, without measuring again.
const rows = process.env.BENCH_FROM_JSON
  ? JSON.parse(await readFile(process.env.BENCH_FROM_JSON, "utf8"))
  : await measure();
const saved = join(tmpdir(), `couplet-assemble-vs-build${only ? "-only" : ""}.json`);
await writeFile(saved, JSON.stringify(rows));
log(`raw runs saved in ${saved}`);

async function measure() {
  const { stdout: baseRef } = await run(join(root, "scripts/make-base-image"), ["bookworm", "slim"]);
  const base = baseRef.trim();
  const work = await mkdtemp(join(tmpdir(), "couplet-bench-assemble-"));
  const baseArchive = join(work, "base.tar");
  await run("buildah", [...B, "push", base, `docker-archive:${baseArchive}`]);
  const cache = join(work, "cache");
  const env = { ...process.env, COUPLET_CACHE: cache, SOURCE_DATE_EPOCH: "1700000000" };
  const rows = [];
  try {
    for (const example of examples) {
      const files = await projectFiles(example, work);
      const dir = join(work, example);
      await cp(join(root, "examples", example), dir, { recursive: true });
      const source = await firstSource(dir);
      const archive = join(work, `${example}.tar`);
      const assembledTag = `localhost/couplet-bench/${example}-assembled:${process.pid}`;
      const tag = `localhost/couplet-bench/${example}:${process.pid}`;
      const assemble = () =>
        timed(
          process.execPath,
          [cli, "assemble", dir, "--base", baseArchive, "--output", archive, "--tag", assembledTag],
          env,
        );
      const build = (extra = []) =>
        only
          ? Promise.resolve({ wall: 0, cpu: 0, load: 0 })
          : retried(process.execPath, [
              cli,
              "build",
              dir,
              "--engine",
              "buildah",
              "--network",
              "host",
              "--build-arg",
              `PYTHON_IMAGE=${base}`,
              "--tag",
              tag,
              ...extra,
            ]);
      // Untimed: both tools download what they need once, with and without the added dependency (assemble into
      // its wheel cache, build into buildah's cache mounts), as on a developer's machine or a CI runner with a cache.
      for (const variant of [files.added, files.plain]) {
        await useFiles(dir, variant);
        await assemble();
        await build();
      }
      const times = {
        assembleCold: [],
        buildCold: [],
        assembleEdit: [],
        buildEdit: [],
        assembleAdd: [],
        buildAdd: [],
      };
      let sizes = {};
      for (let i = 0; i < runs; i++) {
        await useFiles(dir, files.plain);
        // Cold: no layer cache of couplet's (the base's facts and gzip copy, finished layers): only the wheels.
        await rm(join(cache, "assemble"), { recursive: true, force: true });
        times.assembleCold.push(await assemble());
        times.buildCold.push(await build(["--no-cache"]));
        for (let e = 0; e < EDITS; e++) {
          await appendFile(source, `\n# edit ${i}.${e}\n`);
          times.assembleEdit.push(await assemble());
          times.buildEdit.push(await build());
        }
        if (i === 0 && !only) {
          await run("buildah", [...B, "pull", `docker-archive:${archive}`]);
          sizes = {
            assembled: await imageSize(assembledTag),
            built: await imageSize(tag),
            archive: (await stat(archive)).size,
          };
          await run("buildah", [...B, "rmi", "-f", assembledTag]).catch(() => {});
        }
        // The comment keeps buildah from finding this round's dependency layer in an earlier round's cache;
        // Poetry's lock hash ignores comments, so the lock stays valid.
        await useFiles(dir, files.added, `\n# bench round ${i}\n`);
        times.assembleAdd.push(await assemble());
        times.buildAdd.push(await build());
        await run("buildah", [...B, "rmi", "-f", tag]).catch(() => {});
        log(
          `${example} round ${i + 1}/${runs}: ${JSON.stringify(Object.fromEntries(Object.entries(times).map(([k, v]) => [k, v.at(-1)])))}`,
        );
      }
      rows.push({ example, times, sizes });
      // Kept as each example ends: a later failure does not lose what was measured.
      await writeFile(
        join(tmpdir(), `couplet-assemble-vs-build${only ? "-only" : ""}.json`),
        JSON.stringify(rows),
      );
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return rows;
}

const s = (value) => `${value.toFixed(2)} s`;
if (only) {
  for (const { example, times } of rows)
    for (const key of ["assembleCold", "assembleEdit", "assembleAdd"])
      log(
        `${example} ${key}: median ${s(median(times[key].map((t) => t.wall)))} wall / ${s(median(times[key].map((t) => t.cpu)))} CPU; runs [wall, CPU, load] ${JSON.stringify(times[key].map((t) => [t.wall, t.cpu, t.load]))}`,
      );
  process.exit(0);
}
const wall = (list) => median(list.map((t) => t.wall));
const cpu = (list) => median(list.map((t) => t.cpu));
const both = (list) => `${s(wall(list))} / ${s(cpu(list))}`;
const loads = rows.flatMap((row) =>
  Object.values(row.times)
    .flat()
    .map((t) => t.load),
);
const editLoads = rows.flatMap((row) => row.times.assembleEdit.map((t) => t.load));
const verdicts = rows.map(({ example, times }) => {
  const edit = wall(times.assembleEdit);
  const ratio = wall(times.assembleCold) / wall(times.buildCold);
  return `- ${example}: source-edit rebuild under 1 s wall, archive written: **${edit < 1 ? "met" : "not met"}** (median ${s(edit)} wall, ${s(cpu(times.assembleEdit))} CPU; fastest ${s(Math.min(...times.assembleEdit.map((t) => t.wall)))}). Cold under a fifth of the engine build: **${ratio < 0.2 ? "met" : "not met"}** (${s(wall(times.assembleCold))} against ${s(wall(times.buildCold))}, ${(1 / ratio).toFixed(0)}× faster).`;
});
const generated = [
  "# `couplet assemble` vs `couplet build --strategy optimal` (buildah)",
  "",
  `Made by \`bench/assemble-vs-build.mjs\` on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, on this project's test machine:`,
  `2 cores, shared with whatever else ran at the time (1-minute load average at the start of each timed command: median ${median(loads).toFixed(1)},`,
  `from ${Math.min(...loads).toFixed(1)} to ${Math.max(...loads).toFixed(1)}; during the assemble edit runs median ${median(editLoads).toFixed(1)}), so wall times carry waiting for the CPU`,
  "and the disk; CPU time (user + system, child processes included) is what a run itself costs. Each figure is",
  `the median of ${runs} rounds (${runs * EDITS} for the edits): wall / CPU.`,
  "",
  "| example | | cold | after a source edit | after adding a dependency | image |",
  "|---|---|---:|---:|---:|---:|",
  ...rows.flatMap(({ example, times, sizes }) => [
    `| ${example} | assemble | ${both(times.assembleCold)} | ${both(times.assembleEdit)} | ${both(times.assembleAdd)} | ${sizes.assembled} |`,
    `| | build | ${both(times.buildCold)} | ${both(times.buildEdit)} | ${both(times.buildAdd)} | ${sizes.built} |`,
  ]),
  "",
  "The issue's targets:",
  "",
  ...verdicts,
  "",
  "What each figure includes: the whole command, Node start-up included. `assemble` reads the base image from a",
  "docker-archive (buildah's export of the local stand-in for python:3.11-slim-bookworm, see scripts/make-base-image,",
  "whose one layer is a 259 MB plain tar), installs the locked wheels from its download cache and writes a",
  "docker-archive with every layer (base included) to disk. `build` builds the generated Dockerfile with buildah",
  "(overlay, chroot isolation) from the local base image.",
  "",
  "- **Cold**: assemble with a warm wheel cache and an empty layer cache (`$COUPLET_CACHE/assemble`), so the base",
  "  archive is read and hashed, its layer gzipped once (level 1, in two halves on two worker threads while the wheels install; a",
  "  docker-archive carries it gzipped, see `src/assemble/base-gzip.ts`) and every layer installed and compressed.",
  "  build with `--no-cache`: no layer cache, while the pip and Poetry cache mounts stay warm from an earlier build,",
  "  as on a CI runner with a cache.",
  "- **After a source edit**: one comment appended to one Python file. assemble takes the base's facts and digests,",
  "  its gzip copy and every dependency layer from the cache; it makes the project layer, config and manifest, and",
  "  writes the archive by copying blobs (" +
    rows.map(({ example, sizes }) => `${example} ${(sizes.archive / 1e6).toFixed(0)} MB`).join(", ") +
    "). build reuses its layer cache up to the project's files.",
  `- **After adding a dependency**: \`poetry add ${ADDED.name}==${ADDED.version} --lock\` with real Poetry ${POETRY} (scripts/poetry),`,
  "  run once before timing; each round swaps that pyproject.toml and poetry.lock in. assemble re-creates the one",
  "  small-package layer the new wheel hashes into and reuses the others; build reruns its dependency install step",
  "  (cache mounts warm) and the steps after it. Both",
  "  have the new wheel downloaded already: its download is the same for both and depends on the network.",
  "- **Image**: buildah's figure for the loaded image, base included (buildah 1.28 gives only rounded text).",
  "",
  "Raw runs, each as [wall s, CPU s, 1-minute load average when it started]:",
  "",
  "```json",
  JSON.stringify(
    rows.map(({ times, ...rest }) => ({
      ...rest,
      times: Object.fromEntries(
        Object.entries(times).map(([key, list]) => [key, list.map((t) => [t.wall, t.cpu, t.load])]),
      ),
    })),
    null,
    1,
  ).replace(/\[\s+([-\d.,\s]+?)\s+\]/g, (_whole, inner) => `[${inner.replace(/\s+/g, "")}]`),
  "```",
  "",
].join("\n");
const doc = join(root, "docs/assemble-vs-build.md");
const existing = await readFile(doc, "utf8").catch(() => "");
const handWritten = existing.indexOf("\n## A base from a registry");
await writeFile(doc, generated + (handWritten >= 0 ? existing.slice(handWritten) : ""));
log("wrote docs/assemble-vs-build.md");
