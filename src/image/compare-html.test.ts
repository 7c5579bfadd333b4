// The HTML comparison: every figure and name on the page is the JSON comparison's, one bar pair per layer, names stay text.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { attr, elements, parseHtml, reportProblems, textOf } from "../../test/support/html-report.js";
import { dockerArchive, makeTar, sha256, type TarItem } from "../../test/support/image-archive.js";
import { openImageArchive } from "./archive.js";
import { type Comparison, compareImages, scanForComparison } from "./compare.js";
import { renderCompareHtml } from "./compare-html.js";

const SCRIPT = "<script>alert(1)</script>";
const site = "usr/local/lib/python3.13/site-packages";

let dir: string;
let comparison: Comparison;
let json: unknown;
let html: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "couplet-compare-html-"));
  const archive = async (name: string, tars: Buffer[]) => {
    const config = JSON.stringify({
      rootfs: { type: "layers", diff_ids: tars.map((t) => `sha256:${sha256(t)}`) },
      history: tars.map((_, i) => ({
        created_by: i === 1 ? `/bin/sh -c echo "${SCRIPT}"` : `RUN step ${i}`,
      })),
    });
    const file = path.join(dir, name);
    await writeFile(file, await dockerArchive(tars, config));
    return scanForComparison(await openImageArchive(file));
  };
  const pkg = (name: string, version: string, bytes: number): TarItem[] => [
    { name: `${site}/${name}/__init__.py`, body: "x".repeat(bytes) },
    { name: `${site}/${name}-${version}.dist-info/METADATA`, body: "m".repeat(100) },
  ];
  const base = await makeTar([{ name: "etc/os-release", body: "VERSION_CODENAME=trixie\n" }]);
  const a = await archive("a.tar", [
    base,
    await makeTar([...pkg("click", "8.1.7", 9000), ...pkg("attrs", "23.1.0", 3000)]),
    await makeTar([{ name: `opt/${SCRIPT}`, body: "s".repeat(500) }]),
  ]);
  const b = await archive("b.tar", [
    base,
    await makeTar([...pkg("click", "8.1.8", 9500), ...pkg("idna", "3.10", 12_000)]),
    await makeTar([{ name: `opt/${SCRIPT}`, body: "s".repeat(5000) }]),
  ]);
  comparison = compareImages(a, b, { top: 3 });
  // What --format json prints, read back: the page is checked against that.
  json = JSON.parse(JSON.stringify(comparison));
  html = renderCompareHtml(comparison);
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("renderCompareHtml", () => {
  it("shows only figures and names the JSON comparison holds, each formatted from its raw value", () => {
    expect(comparison.files.more).toBeGreaterThan(0);
    expect(reportProblems(html, json, new Set())).toEqual([]);
    // The check can fail: a changed figure is caught.
    const shown = `data-value="${comparison.delta}">`;
    expect(html).toContain(shown);
    expect(
      reportProblems(html.replace(shown, `data-value="${comparison.delta + 1}">`), json, new Set()),
    ).not.toEqual([]);
  });

  it("draws two bars per layer and one delta bar per package, folder and file listed", () => {
    const all = elements(parseHtml(html));
    const byClass = (c: string) => all.filter((e) => attr(e, "class")?.split(" ").includes(c));
    expect(byClass("bar")).toHaveLength(2 * comparison.layers.length);
    const listed =
      comparison.packages.items.length + comparison.folders.items.length + comparison.files.items.length;
    expect(byClass("delta")).toHaveLength(listed);
    expect(all.filter((e) => e.tagName === "tr" && attr(e, "class") === "same")).toHaveLength(1);
    const packages = all.find((e) => attr(e, "id") === "packages");
    expect(textOf(packages as never)).toMatch(/idna\s*3\.10/);
    expect(textOf(packages as never)).toMatch(/click\s*8\.1\.7 → 8\.1\.8/);
  });

  it("keeps names and instructions from the images as text", () => {
    expect(html).not.toContain(SCRIPT);
    const all = elements(parseHtml(html));
    expect(all.filter((e) => e.tagName === "script")).toEqual([]);
    expect(all.map((e) => textOf(e))).toContain(`/opt/${SCRIPT}`);
  });
});
