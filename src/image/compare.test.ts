// Two images compared: layers aligned by digest, packages by name and version, folders and files by delta, capped.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fuzzParameters } from "../../test/support/fuzz.js";
import { dockerArchive, makeTar, sha256, type TarItem } from "../../test/support/image-archive.js";
import { openImageArchive } from "./archive.js";
import { type ComparedImage, compareImages, compareLayers, folderOf, scanForComparison } from "./compare.js";
import { formatComparison } from "./compare-format.js";
import type { Finding } from "./findings.js";
import { FsTree } from "./fs-tree.js";
import type { InspectReport, LayerReport } from "./inspect.js";

const site = "/app/.venv/lib/python3.13/site-packages";

function layerReport(index: number, size: number, createdBy: string): LayerReport {
  return {
    index,
    blob: `blob${index}`,
    createdBy,
    size,
    storedSize: size,
    compression: "none",
    files: 1,
    largestFiles: [],
    largestFolders: [],
  };
}

/** An image as a comparison sees it, from its layers (digest, listing fingerprint, size) and final files. */
function image(
  layers: { digest: string; fingerprint?: string; size?: number; createdBy?: string }[],
  files: Record<string, number> = {},
  extra: Partial<InspectReport> = {},
): ComparedImage {
  const tree = new FsTree();
  for (const [file, size] of Object.entries(files)) tree.set(file, "file", size, "", 0);
  const reports = layers.map((l, i) => layerReport(i, l.size ?? 100, l.createdBy ?? `RUN step ${l.digest}`));
  return {
    report: {
      image: { source: "test", format: "oci", tags: [] },
      sizeBytes: reports.reduce((sum, l) => sum + l.size, 0),
      layers: reports,
      wastedBytes: 0,
      efficiency: 1,
      findings: [],
      folders: { path: "/", size: 0, children: [] },
      missingLibraries: [],
      sharedObjectsChecked: 0,
      warnings: [],
      ...extra,
    },
    tree,
    records: new Map(),
    layerDigests: layers.map((l) => l.digest),
    layerFingerprints: layers.map((l) => l.fingerprint ?? l.digest),
  };
}

describe("compareLayers", () => {
  it("keeps a shared base matched when a layer is inserted, then matches by listing, then by position", () => {
    const a = image([
      { digest: "base" },
      { digest: "os" },
      { digest: "venv1", fingerprint: "v" },
      { digest: "code1", fingerprint: "c" },
    ]);
    const b = image([
      { digest: "base" },
      { digest: "os" },
      { digest: "apt", size: 500 },
      { digest: "venv2", fingerprint: "v" },
      { digest: "code2", fingerprint: "other", size: 130 },
    ]);
    expect(compareLayers(a, b).map((l) => [l.status, l.indexA, l.indexB, l.delta])).toEqual([
      ["same", 0, 0, 0],
      ["same", 1, 1, 0],
      ["added", undefined, 2, 500],
      ["rebuilt", 2, 3, 0],
      ["changed", 3, 4, 30],
    ]);
  });

  it("calls a layer rebuilt when only its digest changed, and finds one matched after a removed layer", () => {
    const a = image([
      { digest: "base" },
      { digest: "cache", size: 900 },
      { digest: "code1", fingerprint: "c" },
      { digest: "cmd" },
    ]);
    const b = image([{ digest: "base" }, { digest: "code2", fingerprint: "c" }, { digest: "cmd" }]);
    expect(compareLayers(a, b).map((l) => [l.status, l.indexA, l.indexB, l.delta])).toEqual([
      ["same", 0, 0, 0],
      ["removed", 1, undefined, -900],
      ["rebuilt", 2, 1, 0],
      ["same", 3, 2, 0],
    ]);
  });
});

describe("folderOf", () => {
  it("cuts a file's folder to the depth, and to the package folder inside site-packages", () => {
    expect(folderOf("/usr/lib/x86_64-linux-gnu/libz.so.1", 3)).toBe("/usr/lib/x86_64-linux-gnu");
    expect(folderOf("/usr/lib/x86_64-linux-gnu/libz.so.1", 2)).toBe("/usr/lib");
    expect(folderOf("/etc/passwd", 3)).toBe("/etc");
    expect(folderOf("/top", 3)).toBe("/");
    expect(folderOf(`${site}/requests/adapters.py`, 3)).toBe(`${site}/requests`);
    expect(folderOf(`${site}/requests/packages/x.py`, 3)).toBe(`${site}/requests`);
    expect(folderOf(`${site}/six.py`, 3)).toBe(site);
    // A depth deeper than the package level still applies.
    expect(folderOf(`${site}/requests/packages/x.py`, 10)).toBe(`${site}/requests/packages`);
  });
});

describe("compareImages", () => {
  const a = image([{ digest: "base", size: 1000 }], {
    [`${site}/six.py`]: 34_703,
    [`${site}/click/core.py`]: 120_000,
    [`${site}/click-8.1.7.dist-info/METADATA`]: 2_000,
    [`${site}/attrs-23.1.0.dist-info/METADATA`]: 3_000,
    [`${site}/pyyaml-6.0.1.dist-info/METADATA`]: 700,
    "/etc/passwd": 900,
  });
  const b = image(
    [
      { digest: "base", size: 1000 },
      { digest: "more", size: 80_000 },
    ],
    {
      [`${site}/six.py`]: 34_703,
      [`${site}/click/core.py`]: 125_000,
      [`${site}/click-8.1.8.dist-info/METADATA`]: 2_100,
      [`${site}/idna/core.py`]: 13_000,
      [`${site}/idna-3.10.dist-info/METADATA`]: 10_000,
      [`${site}/pyyaml-6.0.2.dist-info/METADATA`]: 700,
      "/etc/passwd": 950,
    },
  );

  it("names the packages added, removed and at another version, by name and version from dist-info", () => {
    const comparison = compareImages(a, b);
    expect(comparison.delta).toBe(80_000);
    expect(comparison.packages.items).toEqual([
      // Without a RECORD a package is sized by its dist-info folder alone.
      {
        name: "idna",
        sitePackages: site,
        status: "added",
        versionB: "3.10",
        bytesA: 0,
        bytesB: 10_000,
        delta: 10_000,
      },
      {
        name: "attrs",
        sitePackages: site,
        status: "removed",
        versionA: "23.1.0",
        bytesA: 3000,
        bytesB: 0,
        delta: -3000,
      },
      {
        name: "click",
        sitePackages: site,
        status: "version",
        versionA: "8.1.7",
        versionB: "8.1.8",
        bytesA: 2000,
        bytesB: 2100,
        delta: 100,
      },
      // Another version of the same size is still listed.
      {
        name: "pyyaml",
        sitePackages: site,
        status: "version",
        versionA: "6.0.1",
        versionB: "6.0.2",
        bytesA: 700,
        bytesB: 700,
        delta: 0,
      },
    ]);
  });

  it("lists folders and files by absolute delta, capped, with how many more and their sum", () => {
    const comparison = compareImages(a, b, { top: 2 });
    expect(comparison.folders.items).toEqual([
      { path: `${site}/idna`, status: "added", bytesA: 0, bytesB: 13_000, delta: 13_000 },
      { path: `${site}/idna-3.10.dist-info`, status: "added", bytesA: 0, bytesB: 10_000, delta: 10_000 },
    ]);
    // click grew 5000, attrs' dist-info went (-3000), click's dist-info swapped (-2000 + 2100), /etc grew 50.
    expect(comparison.folders.more).toBe(7);
    expect(comparison.folders.moreDelta).toBe(5000 - 3000 - 2000 + 2100 + 50);
    expect(comparison.files.items.map((f) => [f.path, f.status, f.delta])).toEqual([
      [`${site}/idna/core.py`, "added", 13_000],
      [`${site}/idna-3.10.dist-info/METADATA`, "added", 10_000],
    ]);
    const text = formatComparison(comparison);
    expect(text).toContain("size 1.0 kB → 81.0 kB: +80.0 kB (+8000.00%)");
    expect(text).toContain("… 7 more folders (+2.1 kB together)");
    expect(text).toContain("… 2 more packages (+100 B together)");
    expect(text).toMatch(/^ {4}\+10\.0 kB {2}added {3}idna 3\.10 +\/app\/\.venv/m);
    expect(text).toMatch(/^ {2}1 {5}1 {5}same .* RUN step base$/m);
  });

  it("reports the findings and missing libraries that appeared or went away, whatever their figures", () => {
    const finding = (kind: Finding["kind"], at: string, message: string): Finding => ({
      kind,
      path: at,
      bytes: 10,
      message,
    });
    const before = image(
      [{ digest: "x" }],
      {},
      {
        findings: [
          finding("cache", "/root/.cache/pip", "pip's cache: 1.2 MB in 30 files"),
          finding("tests", "/t", "tests (3 files)"),
        ],
        missingLibraries: [{ file: "/a.so", needed: "libpq.so.5" }],
      },
    );
    const after = image(
      [{ digest: "x" }],
      {},
      {
        findings: [
          finding("cache", "/root/.cache/pip", "pip's cache: 2.5 MB in 31 files"),
          finding("toolchain", "/usr/include", "C headers"),
        ],
        missingLibraries: [],
      },
    );
    const { findings, missingLibraries } = compareImages(before, after);
    expect(findings.appeared.map((f) => f.kind)).toEqual(["toolchain"]);
    expect(findings.disappeared.map((f) => f.kind)).toEqual(["tests"]);
    expect(missingLibraries).toEqual({
      appeared: [],
      disappeared: [{ file: "/a.so", needed: "libpq.so.5" }],
    });
  });

  it("accounts every byte of the filesystem change to exactly one folder and one file, however capped", () => {
    const files = fc.dictionary(
      fc.constantFrom("/a/b/c/d", "/a/b/x", "/a/y", "/z", `${site}/p/q.py`, `${site}/m.py`, "/a/b/c/e/f"),
      fc.nat(1000),
    );
    fc.assert(
      fc.property(
        files,
        files,
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 6 }),
        (fa, fb, top, depth) => {
          const comparison = compareImages(image([{ digest: "a" }], fa), image([{ digest: "b" }], fb), {
            top,
            depth,
          });
          const fsDelta = comparison.b.filesystemBytes - comparison.a.filesystemBytes;
          for (const list of [comparison.folders, comparison.files]) {
            expect(list.items.length).toBeLessThanOrEqual(top);
            expect(list.items.reduce((sum, c) => sum + c.delta, 0) + list.moreDelta).toBe(fsDelta);
            const sizes = list.items.map((c) => Math.abs(c.delta));
            expect(sizes).toEqual([...sizes].sort((x, y) => y - x));
          }
        },
      ),
      fuzzParameters(200),
    );
  });
});

describe("scanForComparison on archives", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "couplet-compare-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** A docker-archive whose config carries the layers' real diff_ids. */
  async function archive(name: string, layers: (TarItem[] | Buffer)[]): Promise<string> {
    const tars = await Promise.all(layers.map((l) => (Buffer.isBuffer(l) ? l : makeTar(l))));
    const config = JSON.stringify({
      architecture: "amd64",
      os: "linux",
      rootfs: { type: "layers", diff_ids: tars.map((t) => `sha256:${sha256(t)}`) },
      history: tars.map((_, i) => ({ created_by: `RUN layer ${i + 1}` })),
    });
    const file = path.join(dir, name);
    await writeFile(file, await dockerArchive(tars, config));
    return file;
  }

  it("tells a shared layer, one rebuilt with the same listing, and one with other files apart", async () => {
    // One tar for both: tar-stream stamps entries with the time, so two packings a second apart would differ.
    const base = await makeTar([{ name: "etc/os-release", body: "VERSION_CODENAME=trixie\n" }]);
    const a = await archive("a.tar", [
      base,
      [{ name: "app/x.py", body: "print(1)\n" }],
      [{ name: "app/y", body: "1" }],
    ]);
    // The same path and size with other bytes: another digest, the same listing.
    const b = await archive("b.tar", [
      base,
      [{ name: "app/x.py", body: "print(2)\n" }],
      [{ name: "app/y", body: "12" }],
    ]);
    const [sa, sb] = await Promise.all([a, b].map(async (f) => scanForComparison(await openImageArchive(f))));
    const layers = compareLayers(sa as ComparedImage, sb as ComparedImage);
    expect(layers.map((l) => l.status)).toEqual(["same", "rebuilt", "changed"]);
    expect(layers.map((l) => l.createdByB)).toEqual(["RUN layer 1", "RUN layer 2", "RUN layer 3"]);
  });
});
