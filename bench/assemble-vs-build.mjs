#!/usr/bin/env node
// Times `couplet assemble` against `couplet build --strategy optimal` on buildah for the same projects, same
// base, same machine: cold (assemble: warm wheel cache, nothing else; build: --no-cache with warm cache
// mounts) and after a source edit (both with whatever they keep between runs). Writes docs/assemble-vs-build.md.
//
// usage: npm run build && COUPLET_CACHE=/work/main/.cache node bench/assemble-vs-build.mjs [RUNS] [EXAMPLE...]
//   RUNS defaults to 3; examples default to cli-tool and fastapi-app (the ones with a wheel for every package).
import { execFile } from "node:child_process";
import { appendFile, cp, mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const root = new URL("..", import.meta.url).pathname;
const cli = join(root, "dist/cli/main.js");
const runs = Number(process.argv[2] ?? 3);
const examples = process.argv.length > 3 ? process.argv.slice(3) : ["cli-tool", "fastapi-app"];
const B = ["--storage-driver", "overlay"];
const log = (line) => process.stderr.write(`bench/assemble-vs-build: ${line}\n`);

async function timed(command, args, env = process.env) {
  const start = process.hrtime.bigint();
  await run(command, args, { env, maxBuffer: 256 << 20 });
  return Number(process.hrtime.bigint() - start) / 1e9;
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

async function firstSource(dir) {
  // A Python file of the project (not tests): the edit a developer makes most.
  for (const candidate of ["src", "app"]) {
    const stack = [join(dir, candidate)];
    while (stack.length) {
      const at = stack.pop();
      const entries = await readdir(at, { withFileTypes: true }).catch(() => []);
      for (const entry of entries) {
        if (entry.isDirectory()) stack.push(join(at, entry.name));
        else if (entry.name.endsWith(".py")) return join(at, entry.name);
      }
    }
  }
  throw new Error(`no Python source in ${dir}`);
}

/** buildah 1.28 gives only its rounded text ("262 MB") for an image's size. */
async function imageSize(ref) {
  const { stdout } = await run("buildah", [...B, "images", "--json", ref]);
  return String(JSON.parse(stdout)[0]?.size ?? "unknown");
}

const { stdout: baseRef } = await run(join(root, "scripts/make-base-image"), ["bookworm", "slim"]);
const base = baseRef.trim();
const work = await mkdtemp(join(tmpdir(), "couplet-bench-assemble-"));
const baseArchive = join(work, "base.tar");
await run("buildah", [...B, "push", base, `docker-archive:${baseArchive}`]);
const wheels = join(work, "wheels");
const rows = [];
try {
  for (const example of examples) {
    const times = { assembleCold: [], assembleEdit: [], buildCold: [], buildEdit: [] };
    let sizes = {};
    for (let i = 0; i < runs; i++) {
      const dir = join(work, `${example}-${i}`);
      await cp(join(root, "examples", example), dir, { recursive: true });
      const source = await firstSource(dir);
      const env = { ...process.env, COUPLET_CACHE: wheels, SOURCE_DATE_EPOCH: "1700000000" };
      const archive = join(work, `${example}.tar`);
      const assembledTag = `localhost/couplet-bench/${example}-assembled:${process.pid}`;
      const assemble = () =>
        timed(
          process.execPath,
          [cli, "assemble", dir, "--base", baseArchive, "--output", archive, "--tag", assembledTag],
          env,
        );
      if (i === 0) await assemble(); // fills the wheel cache: every timed run has it warm
      // Cold means no layer cache (the base's facts, finished dependency layers): only the wheels are kept.
      await rm(join(wheels, "assemble"), { recursive: true, force: true });
      times.assembleCold.push(await assemble());
      const tag = `localhost/couplet-bench/${example}:${process.pid}`;
      const build = (extra) =>
        timed(process.execPath, [
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
      if (i === 0) await build([]); // warms buildah's cache mounts the way a CI runner with a cache would be
      times.buildCold.push(await build(["--no-cache"]));
      await appendFile(source, `\n# edit ${i}\n`);
      times.assembleEdit.push(await assemble());
      times.buildEdit.push(await build([]));
      if (i === 0) {
        await run("buildah", [...B, "pull", `docker-archive:${archive}`]);
        sizes = {
          assembled: await imageSize(assembledTag),
          built: await imageSize(tag),
          archive: (await stat(archive)).size,
        };
        await run("buildah", [...B, "rmi", "-f", assembledTag]).catch(() => {});
      }
      await run("buildah", [...B, "rmi", "-f", tag]).catch(() => {});
      log(
        `${example} run ${i + 1}/${runs}: ${JSON.stringify(Object.fromEntries(Object.entries(times).map(([k, v]) => [k, v.at(-1)?.toFixed(2)])))}`,
      );
    }
    rows.push({ example, times, sizes });
  }
} finally {
  await rm(work, { recursive: true, force: true });
}

const s = (value) => `${value.toFixed(2)} s`;
const lines = [
  "# `couplet assemble` vs `couplet build --strategy optimal` (buildah)",
  "",
  `Made by \`bench/assemble-vs-build.mjs\` on ${new Date().toISOString().slice(0, 10)}, ${runs} runs per figure (median), Node ${process.version}, on this project's test machine (2 cores, shared with other jobs).`,
  "",
  "| example | assemble, cold (warm wheel cache) | build, `--no-cache` (warm cache mounts) | assemble after a source edit | build after a source edit | image (assembled / built) |",
  "|---|---:|---:|---:|---:|---:|",
  ...rows.map(
    ({ example, times, sizes }) =>
      `| ${example} | ${s(median(times.assembleCold))} | ${s(median(times.buildCold))} | ${s(median(times.assembleEdit))} | ${s(median(times.buildEdit))} | ${sizes.assembled} / ${sizes.built} |`,
  ),
  "",
  "What each figure includes: the whole command, Node start-up included. `assemble` reads the base image from a",
  "docker-archive (buildah's export of the local stand-in for python:3.11-slim-bookworm, see scripts/make-base-image),",
  "installs the locked wheels from its download cache and writes a docker-archive with every layer (base included) to",
  "disk. Its cold runs start with an empty layer cache (`$COUPLET_CACHE/assemble`); after the edit it reuses the",
  "base's facts and digests and every dependency layer from the run before. `build` builds the generated",
  "Dockerfile with buildah (overlay, chroot isolation) from the local base image; `--no-cache` turns the layer",
  "cache off while the pip and Poetry cache mounts stay warm from an earlier build, as on a CI runner with a cache.",
  "The edit appends a comment to one Python file of the project.",
  "",
  "Image size is buildah's figure for the loaded image (base included). Raw runs:",
  "",
  "```json",
  JSON.stringify(
    rows.map(({ example, times, sizes }) => ({ example, times, sizes })),
    null,
    1,
  ),
  "```",
  "",
];
await writeFile(join(root, "docs/assemble-vs-build.md"), lines.join("\n"));
log("wrote docs/assemble-vs-build.md");
