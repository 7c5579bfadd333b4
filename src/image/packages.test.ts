// Installed distributions sized by their RECORD, whether it lists paths relative to site-packages or absolute ones.
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { FsTree } from "./fs-tree.js";
import { installedPackages } from "./packages.js";
import { recordPath } from "./record.js";

const site = "/app/.venv/lib/python3.13/site-packages";

/** A real RECORD (written by Poetry 2.2.1 in an image built here) as rows of path and size. */
function rows(name: string): { file: string; size: number }[] {
  const text = readFileSync(
    fileURLToPath(new URL(`../../test/fixtures/records/${name}`, import.meta.url)),
    "utf8",
  );
  return text
    .trimEnd()
    .split("\n")
    .map((line) => ({ file: recordPath(line) as string, size: Number(line.split(",").at(-1)) }));
}

/** The tree an install of these rows leaves, and the RECORD path -> paths map inspect keeps. */
function installed(record: string, name: string): { tree: FsTree; records: Map<string, string[]> } {
  const tree = new FsTree();
  const listed = rows(record);
  for (const { file, size } of listed)
    tree.set(path.posix.normalize(file.startsWith("/") ? file : `${site}/${file}`), "file", size, "", 1);
  return {
    tree,
    records: new Map([[`${site}/${name}/RECORD`, listed.map((row) => row.file)]]),
  };
}

describe("installedPackages", () => {
  it("sums the files a relative RECORD lists, and the bytecode compiled from its modules", () => {
    const { tree, records } = installed("six-1.17.0-poetry-2.2.1.RECORD", "six-1.17.0.dist-info");
    tree.set(`${site}/__pycache__/six.cpython-313.pyc`, "file", 42_074, "", 2);
    // Another module's bytecode in the same folder is not six's.
    tree.set(`${site}/__pycache__/sixth.cpython-313.pyc`, "file", 999, "", 2);
    const [six] = installedPackages(tree, records);
    expect(six).toEqual({
      name: "six",
      version: "1.17.0",
      dir: `${site}/six-1.17.0.dist-info`,
      sitePackages: site,
      // six.py, LICENSE, METADATA, WHEEL, top_level.txt, INSTALLER as RECORD sizes them (RECORD has none).
      bytes: 34_703 + 1066 + 1658 + 109 + 4 + 12,
      bytecodeBytes: 42_074,
      layer: 1,
    });
  });

  it("reads the absolute paths Poetry writes for the project's own editable install", () => {
    const { tree, records } = installed(
      "yamlstat-0.1.0-poetry-2.2.1-editable.RECORD",
      "yamlstat-0.1.0.dist-info",
    );
    const [yamlstat] = installedPackages(tree, records);
    expect(yamlstat?.name).toBe("yamlstat");
    // yamlstat.pth, bin/yamlstat and the dist-info files (before, each path was taken as relative: 0 bytes).
    expect(yamlstat?.bytes).toBe(9 + 114 + 1153 + 88 + 46 + 6 + 54);
  });

  it("sizes a dist-info folder alone when no RECORD was kept", () => {
    const tree = new FsTree();
    tree.set(`${site}/Flask_Thing-2.0.dist-info/METADATA`, "file", 300, "", 3);
    tree.set(`${site}/flask_thing/__init__.py`, "file", 5000, "", 3);
    expect(installedPackages(tree, new Map())).toEqual([
      expect.objectContaining({
        name: "flask-thing",
        version: "2.0",
        bytes: 300,
        bytecodeBytes: 0,
        layer: 3,
      }),
    ]);
  });

  it("counts a module's bytecode once whether RECORD lists it or not, and follows ../ out of site-packages", () => {
    const tree = new FsTree();
    const files = [
      ["pkg/__init__.py", 10],
      ["pkg/a.py", 20],
      ["pkg/__pycache__/a.cpython-313.pyc", 200],
      ["../../../bin/tool", 7],
      ["pkg-1.0.dist-info/RECORD", 0],
    ] as const;
    for (const [file, size] of files) tree.set(path.posix.normalize(`${site}/${file}`), "file", size, "", 1);
    // Compiled after the install, so not in RECORD: a's second and __init__'s; another module's .pyc whose name
    // starts like a's, and a file that is not a .pyc, are no module's.
    for (const [name, size] of [
      ["a.cpython-313.opt-1.pyc", 1000],
      ["__init__.cpython-313.pyc", 100],
      ["ab.cpython-313.pyc", 9],
      ["a.cpython-313.pyc.tmp", 9],
    ] as const)
      tree.set(`${site}/pkg/__pycache__/${name}`, "file", size, "", 2);
    const records = new Map([[`${site}/pkg-1.0.dist-info/RECORD`, files.map(([file]) => file)]]);
    const [pkg] = installedPackages(tree, records);
    expect(pkg?.bytes).toBe(10 + 20 + 200 + 7);
    // a.cpython-313.pyc is listed, so part of bytes, not of bytecodeBytes.
    expect(pkg?.bytecodeBytes).toBe(1000 + 100);
  });
});
