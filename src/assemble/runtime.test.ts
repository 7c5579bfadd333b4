import { appendFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { bookwormFacts } from "../../test/support/image-settings.js";
import { copyProject } from "../../test/support/project-variants.js";
import { generateFor } from "../pipeline.js";
import { analyze } from "../project/analyze.js";
import type { BaseImage } from "./base.js";
import { platformOf } from "./packages.js";
import { projectLayer, setupLayer, venvFor } from "./runtime.js";

const fixtures = new URL("../../test/fixtures/projects/", import.meta.url).pathname;
// The facts of the bookworm stand-in base that the project layer depends on.
const base = {
  ...bookwormFacts,
  passwd: "root:x:0:0:root:/root:/bin/sh\n",
  group: "root:x:0:\n",
} as BaseImage;

async function layerOf(name: string) {
  const project = await analyze(path.join(fixtures, name));
  const { plan, files } = generateFor(project, { python: "3.11", platforms: [platformOf(base)] });
  const venv = venvFor(plan, base);
  const tree = await projectLayer(project, plan, venv, files.dockerignore);
  const entries = new Map(tree.sorted().map((entry) => [entry.path, entry]));
  return { plan, entries, text: (file: string) => entries.get(file)?.data?.toString("utf8") };
}

describe("projectLayer", () => {
  it("installs a package-mode project as Poetry does: a .pth, METADATA, its scripts and its other entry points", async () => {
    const { entries, text } = await layerOf("pep621");
    const site = "/app/.venv/lib/python3.11/site-packages";
    const distInfo = `${site}/pep621_app-1.2.3.dist-info`;
    expect(text(`${site}/pep621_app.pth`)).toBe("/app\n");
    expect(text(`${distInfo}/METADATA`)).toContain("Name: pep621-app\nVersion: 1.2.3\n");
    // Plugins registered under their own group, so importlib.metadata.entry_points() finds them in the image.
    expect(text(`${distInfo}/entry_points.txt`)).toBe(
      "[console_scripts]\npep621-app = pep621_app.cli:main\n\n[pep621_app.plugins]\nbuiltin = pep621_app.plugins:builtin\n",
    );
    expect(text("/app/.venv/bin/pep621-app")?.split("\n")[0]).toBe("#!/app/.venv/bin/python");
    expect(entries.get("/app/.venv/bin/pep621-app")?.mode).toBe(0o755);
    expect(text("/app/pep621_app/__init__.py")).toBeDefined();
    // RECORD lists every file the install wrote, the launcher as a path relative to site-packages.
    const record = text(`${distInfo}/RECORD`) ?? "";
    expect(record).toMatch(/^\.\.\/\.\.\/\.\.\/bin\/pep621-app,sha256=/m);
    expect(record).toMatch(/^pep621_app-1\.2\.3\.dist-info\/entry_points\.txt,sha256=/m);
    expect(record).toContain("pep621_app-1.2.3.dist-info/RECORD,,\n");
  });

  it("copies a package-mode = false project's code and installs nothing: no .pth, no dist-info", async () => {
    const { plan, entries } = await layerOf("package-mode-false");
    expect(plan.project.packageMode).toBe(false);
    const files = [...entries.values()].filter((entry) => entry.type === "file").map((entry) => entry.path);
    expect(files).toEqual(["/app/main.py"]);
  });
});

describe("projectLayer and the writable folders", () => {
  it("keeps a writable folder the code ships (data/ with a seed file) the app user's; its files stay root's", async () => {
    // celery-worker's plan copies what src names: with src/app.py reading data/seed.txt, data/ is code too.
    const dir = copyProject("test/fixtures/projects/celery-worker");
    try {
      mkdirSync(path.join(dir, "data"));
      writeFileSync(path.join(dir, "data/seed.txt"), "seed\n");
      appendFileSync(path.join(dir, "src/app.py"), 'SEED = open("data/seed.txt").read()\n');
      const project = await analyze(dir);
      const { plan, files } = generateFor(project, { python: "3.11", platforms: [platformOf(base)] });
      expect([plan.project.sourcePaths, plan.writable]).toEqual([["data", "src"], ["data"]]);
      const tree = await projectLayer(project, plan, venvFor(plan, base), files.dockerignore);
      const entries = new Map(tree.sorted().map((entry) => [entry.path, entry]));
      // Laid over the setup layer's /app/data, a root-owned entry here made it unwritable for uid 10001.
      expect(entries.get("/app/data")).toMatchObject({
        type: "directory",
        mode: 0o755,
        uid: 10001,
        gid: 10001,
      });
      expect(entries.get("/app/data/seed.txt")).toMatchObject({ uid: 0, mode: 0o644 });
      expect(entries.get("/app/src")).toMatchObject({ uid: 0 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("setupLayer", () => {
  async function entriesOf(name: string, cmd?: string[]) {
    const project = await analyze(path.join(fixtures, name));
    const { plan } = generateFor(project, {
      python: "3.11",
      platforms: [platformOf(base)],
      ...(cmd ? { cmd } : {}),
    });
    const tree = setupLayer(plan, base, venvFor(plan, base));
    return { plan, entries: new Map(tree.sorted().map((entry) => [entry.path, entry])) };
  }

  it("makes the plan's writable folders the app user's, as the Dockerfile's install -d -o app does", async () => {
    // A command line (not a console script's ENTRYPOINT) gets the writable /app/data, as init's Dockerfile does.
    const { plan, entries } = await entriesOf("pep621", ["pep621-app", "serve"]);
    expect(plan.writable).toEqual(["data"]);
    expect(entries.get("/app/data")).toMatchObject({
      type: "directory",
      mode: 0o755,
      uid: 10001,
      gid: 10001,
    });
    expect(entries.get("/app")).toMatchObject({ uid: 0, gid: 0 });
  });

  it("makes none for a console script's ENTRYPOINT, whose plan has no writable folder", async () => {
    const { plan, entries } = await entriesOf("pep621");
    expect(plan.writable).toEqual([]);
    expect(entries.has("/app/data")).toBe(false);
  });
});
