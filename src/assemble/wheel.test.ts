import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { UserError } from "../errors.js";
import type { LayerTree } from "./layer.js";
import { installWheel, launcher, parseEntryPoints, type Venv } from "./wheel.js";

// demo_scripts-1.0 was built by `pip wheel` (setuptools) from test/fixtures/wheels/demo-scripts: a package,
// a `#!python` script in .data/scripts, a data file, and console and gui entry points.
const fixtures = new URL("../../test/fixtures/wheels/", import.meta.url).pathname;
const venv: Venv = {
  root: "/app/.venv",
  sitePackages: "/app/.venv/lib/python3.11/site-packages",
  pythonName: "python3.11",
};
const site = venv.sitePackages;

const wheel = (name: string) => readFile(path.join(fixtures, name));
const contents = (tree: LayerTree) => new Map(tree.sorted().map((entry) => [entry.path, entry]));

describe("installWheel (a real setuptools wheel)", async () => {
  const tree = await installWheel(
    await wheel("demo_scripts-1.0-py3-none-any.whl"),
    "demo_scripts-1.0-py3-none-any.whl",
    venv,
  );
  const files = contents(tree);
  const text = (file: string) => files.get(file)?.data?.toString("utf8");

  it("puts the package in site-packages and .data folders where the scheme says", () => {
    expect(text(`${site}/demo_pkg/cli.py`)).toContain('print("demo")');
    expect(text("/app/.venv/share/demo/share.txt")).toBe("shared\n");
    expect([...files.keys()].some((file) => file.includes(".data"))).toBe(false);
  });

  it("rewrites a #!python script to the venv's interpreter and makes it executable", () => {
    expect(text("/app/.venv/bin/demo-hello")).toBe(
      '#!/app/.venv/bin/python\nprint("hello from a wheel script")\n',
    );
    expect(files.get("/app/.venv/bin/demo-hello")?.mode).toBe(0o755);
  });

  it("writes launchers for console and gui scripts with the venv's interpreter", () => {
    expect(text("/app/.venv/bin/demo-cli")?.split("\n").slice(0, 1)).toEqual(["#!/app/.venv/bin/python"]);
    expect(text("/app/.venv/bin/demo-cli")).toContain("from demo_pkg.cli import main\n");
    expect(text("/app/.venv/bin/demo-gui")).toContain("sys.exit(Runner.run())");
    expect(files.get("/app/.venv/bin/demo-cli")?.mode).toBe(0o755);
  });

  it("writes INSTALLER and a RECORD whose hashes and sizes match every installed file", () => {
    const distInfo = `${site}/demo_scripts-1.0.dist-info`;
    expect(text(`${distInfo}/INSTALLER`)).toBe("couplet\n");
    const record = (text(`${distInfo}/RECORD`) ?? "").trim().split("\n");
    expect(record).toContain("demo_scripts-1.0.dist-info/RECORD,,");
    const listed = new Set<string>();
    for (const line of record) {
      const [relative, hash, size] = line.split(",") as [string, string, string];
      const absolute = path.posix.normalize(path.posix.join(site, relative));
      listed.add(absolute);
      if (!hash) continue;
      const data = files.get(absolute)?.data as Buffer;
      expect(`sha256=${createHash("sha256").update(data).digest("base64url")}`).toBe(hash);
      expect(Number(size)).toBe(data.length);
    }
    const installed = [...files.values()].filter((entry) => entry.type === "file").map((entry) => entry.path);
    expect([...listed].sort()).toEqual(installed.sort());
    // pip's form for files outside site-packages: relative to it.
    expect(record.some((line) => line.startsWith("../../../bin/demo-hello,sha256="))).toBe(true);
  });

  const scratch = await mkdtemp(path.join(tmpdir(), "couplet-wheel-"));
  afterAll(() => rm(scratch, { recursive: true, force: true }));
  it("gives a launcher that Python runs", async () => {
    for (const entry of tree.sorted()) {
      if (entry.type !== "file") continue;
      const target = path.join(scratch, entry.path);
      await mkdir(path.dirname(target), { recursive: true });
      await writeFile(target, entry.data as Buffer);
    }
    const { stdout } = await promisify(execFile)("python3", [path.join(scratch, "/app/.venv/bin/demo-cli")], {
      env: { ...process.env, PYTHONPATH: path.join(scratch, site) },
    });
    expect(stdout).toBe("demo\n");
  });
});

describe("installWheel: a wheel's .data/headers (a real setuptools wheel, demo_headers)", () => {
  it("go where Poetry's installer puts them: include/site/pythonX.Y/<the wheel's distribution name>", async () => {
    // Poetry 1.8's wheel_installer.py: headers = paths["include"] (pip's include/site/pythonX.Y in a venv) / the
    // wheel's distribution ("demo_headers"); pip names the folder after the project as written ("demo-headers").
    const tree = await installWheel(
      await wheel("demo_headers-1.0-py3-none-any.whl"),
      "demo_headers-1.0-py3-none-any.whl",
      venv,
    );
    const files = contents(tree);
    expect(files.get("/app/.venv/include/site/python3.11/demo_headers/demo.h")?.data?.toString()).toBe(
      "#define DEMO_VALUE 42\n",
    );
    expect(files.get(`${site}/demo_headers.py`)?.data?.toString()).toBe("VALUE = 42\n");
    const record = files.get(`${site}/demo_headers-1.0.dist-info/RECORD`)?.data?.toString() ?? "";
    expect(record).toMatch(/^\.\.\/\.\.\/\.\.\/include\/site\/python3\.11\/demo_headers\/demo\.h,sha256=/m);
  });
});

describe("installWheel refuses", () => {
  it("a wheel whose file does not match its RECORD", async () => {
    await expect(
      installWheel(await wheel("demo_scripts-1.0-tampered.whl"), "demo.whl", venv),
    ).rejects.toThrow(/demo\.whl: demo_pkg\/cli\.py does not match the wheel's RECORD/);
  });
  it("a wheel with a path outside its root", async () => {
    const error = await installWheel(await wheel("demo_scripts-1.0-traversal.whl"), "demo.whl", venv).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toMatch(/^demo\.whl: /);
  });
  it("a file that is not a zip", async () => {
    await expect(installWheel(Buffer.from("not a zip"), "x.whl", venv)).rejects.toThrow(
      /x\.whl: not a valid wheel/,
    );
  });
});

describe("entry points", () => {
  it("reads sections and strips extras from targets", () => {
    expect(parseEntryPoints("[console_scripts]\na = m.n:f [extra]\n\n[x.plugins]\nb=m:g\n")).toEqual({
      console_scripts: { a: "m.n:f [extra]" },
      "x.plugins": { b: "m:g" },
    });
    expect(launcher("/v/bin/python", "m.n:f [extra]")).toContain("from m.n import f\n");
    expect(launcher("/v/bin/python", "no_colon")).toBeUndefined();
    expect(launcher("/v/bin/python", "m:f; rm -rf /")).toBeUndefined();
  });
});
