#!/usr/bin/env node
// Container start-up time with and without build-time bytecode: time to the first HTTP answer (web apps)
// or to the command's exit (the CLI), for the examples' optimal images; writes docs/startup.md.
// Usage: npm run build && COUPLET_CACHE=... node bench/startup.mjs [runs]   (minutes: builds 2 images a project)
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { analyze, plan, render } from "../dist/index.js";
import { buildah, median, startOnce } from "./container-start.mjs";

const root = new URL("..", import.meta.url).pathname;
const runs = Number(process.argv[2] ?? 7);

const projects = [
  // Their own commands listen on 8000: the port becomes $PORT so that runs on a shared machine never collide.
  { path: "examples/fastapi-app", web: true, port: true },
  { path: "examples/flask-uwsgi", web: true, port: true },
  { path: "test/fixtures/projects/django-site", web: true },
  { path: "test/fixtures/projects/fastapi-svc", web: true },
  { path: "examples/cli-tool", web: false, args: ["--help"] },
];

const rows = [];
const work = mkdtempSync(join(tmpdir(), "couplet-startup-"));
try {
  for (const spec of projects) {
    const dir = join(work, spec.path.replaceAll("/", "_"));
    cpSync(join(root, spec.path), dir, { recursive: true, filter: (src) => !src.includes(".venv") });
    const project = await analyze(dir);
    const cmd = spec.port ? project.couplet.cmd?.map((w) => w.replace(/\b8000\b/, "$PORT")) : undefined;
    const planned = plan(project, cmd ? { cmd } : {});
    const base = execFileSync(join(root, "scripts/make-base-image"), [planned.python.debian, "slim"], {
      encoding: "utf8",
    }).trim();
    const times = {};
    for (const compiled of [false, true]) {
      const variant = { ...planned, features: { ...planned.features, compileBytecode: compiled } };
      const files = render(variant);
      writeFileSync(join(dir, "Dockerfile"), files.dockerfile);
      writeFileSync(join(dir, ".dockerignore"), files.dockerignore);
      const tag = `couplet-bench-startup/${spec.path.split("/").pop()}:${compiled ? "compiled" : "plain"}`;
      process.stderr.write(`bench/startup: building ${tag}\n`);
      buildah(
        ["bud", "--isolation", "chroot", "--pull=never", "--layers", "--network", "host", "-q"].concat([
          "--build-arg",
          `PYTHON_IMAGE=${base}`,
          "-t",
          tag,
          dir,
        ]),
      );
      const config = JSON.parse(buildah(["inspect", "--type", "image", tag])).OCIv1.config;
      const argv = [...(config.Entrypoint ?? []), ...(config.Cmd ?? []), ...(spec.args ?? [])];
      await startOnce(tag, spec.web, argv); // warm the page cache
      const samples = [];
      for (let i = 0; i < runs; i++) samples.push(await startOnce(tag, spec.web, argv));
      times[compiled ? "compiled" : "plain"] = samples;
      buildah(["rmi", "-f", tag]);
    }
    // What starting any container costs here, to read the differences against.
    const overhead = [];
    const baseTag = base;
    for (let i = 0; i < runs; i++) overhead.push(await startOnce(baseTag, false, ["true"]));
    rows.push({ spec, python: planned.python.version, times, overhead: median(overhead) });
    const last = rows[rows.length - 1];
    process.stderr.write(
      `bench/startup: ${spec.path}: ${median(last.times.plain).toFixed(0)} ms -> ${median(last.times.compiled).toFixed(0)} ms\n`,
    );
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

const fmt = (ms) => `${ms.toFixed(0)} ms`;
const lines = rows.map(({ spec, python, times, overhead }) => {
  const [before, after] = [median(times.plain), median(times.compiled)];
  return `| \`${spec.path}\` | ${spec.web ? "first HTTP answer" : `\`${spec.args.join(" ")}\` exits`} | ${python} | ${fmt(before)} | ${fmt(after)} | ${fmt(before - after)} (${((1 - after / before) * 100).toFixed(0)}%) | ${fmt(overhead)} |`;
});
const report = `# Container start-up: bytecode compiled at build time

Time from \`buildah run\` to the first HTTP answer on loopback (web apps) or to the command's exit (the
CLI), median of ${runs} runs after one warm-up run, for each project's optimal image built twice: without
the \`compileall\` steps (as couplet generated before) and with them (hash-based \`.pyc\` for the venv and
the code). Both images keep \`PYTHONDONTWRITEBYTECODE=1\` and a root-owned venv, so without build-time
bytecode every start compiles every import in memory. "Container overhead" is \`buildah run\` of \`true\`
in the base image: the part of each figure that is not the app.

| Project | Measured to | CPython | Without .pyc | With .pyc | Saved | Container overhead |
|---|---|---|---|---|---|---|
${lines.join("\n")}

Machine: the project's shared test machine (2 cores), buildah with chroot isolation and overlay storage,
local stand-ins for the python images (Debian's own CPython; see scripts/make-base-image). Regenerate with
\`npm run build && node bench/startup.mjs [runs]\`.
`;
writeFileSync(join(root, "docs/startup.md"), report);
process.stderr.write("bench/startup: wrote docs/startup.md\n");
