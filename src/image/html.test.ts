// The HTML inspect report: the charts' elements are there, every figure is the JSON report's, and hostile names stay text.
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { attr, elements, parseHtml, reportProblems, textOf } from "../../test/support/html-report.js";
import { configFor, dockerArchive, makeTar } from "../../test/support/image-archive.js";
import { RULES } from "../lint/rules/index.js";
import { openImageArchive } from "./archive.js";
import { renderInspectHtml } from "./html.js";
import { type InspectReport, inspectImage } from "./inspect.js";

const SCRIPT = "<script>alert(1)</script>";
const QUOTES = `"'&`;
const HOSTILE_RUN = `/bin/sh -c echo "<img src=x onerror=alert(1)>" '&amp;' > /etc/motd`;
const ruleIds = new Set(RULES.map((r) => r.meta.id));

let dir: string;
let report: InspectReport;
let json: unknown;
let html: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "couplet-html-"));
  // A real shared object from this machine (zlib's, which every Debian has), needing libc.so.6 the image lacks.
  const elf = readFileSync("/usr/lib/x86_64-linux-gnu/libz.so.1");
  const first = await makeTar([
    { name: "app/.venv/pyvenv.cfg", body: "home = /usr/bin\n" },
    { name: "app/.venv/lib/python3.11/site-packages/zlibext/_z.cpython-311-x86_64-linux-gnu.so", body: elf },
    { name: "app/.venv/lib/python3.11/site-packages/zlibext/__init__.py", body: "x = 1\n" },
    { name: "root/.cache/pip/http/wheel.bin", body: "w".repeat(40_000) },
    { name: `opt/${SCRIPT}`, body: "s".repeat(30_000) },
    { name: `srv/${QUOTES}/big.bin`, body: "b".repeat(200_000) },
    { name: "usr/lib/gcc/x86_64-linux-gnu/12/cc1", body: "c".repeat(60_000) },
    { name: "usr/include/zlib.h", body: "h".repeat(20_000) },
  ]);
  const second = await makeTar([
    { name: `opt/${SCRIPT}`, body: "t".repeat(10_000) },
    { name: "etc/motd", body: "<img src=x onerror=alert(1)> '&amp;'\n" },
  ]);
  const archive = path.join(dir, "image.tar");
  await writeFile(
    archive,
    await dockerArchive(
      [first, second],
      configFor(2, [{ created_by: "/bin/sh -c #(nop) COPY dir:abc in / " }, { created_by: HOSTILE_RUN }]),
    ),
  );
  report = await inspectImage(await openImageArchive(archive));
  // What --format json prints, read back: the page is checked against that, not against the objects in memory.
  json = JSON.parse(JSON.stringify(report));
  html = renderInspectHtml(report);
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("renderInspectHtml", () => {
  it("shows only figures and names the JSON report holds, each formatted from its raw value", () => {
    expect(reportProblems(html, json, ruleIds)).toEqual([]);
  });

  it("the check fails when a figure on the page differs from the JSON report", () => {
    const size = report.layers[0]?.size as number;
    const shown = `data-value="${size}">`;
    expect(html).toContain(shown);
    const tampered = html.replace(shown, `data-value="${size + 1}">`);
    expect(reportProblems(tampered, json, ruleIds)).not.toEqual([]);
    expect(reportProblems(html.replace("</main>", "<p>12 MB</p></main>"), json, ruleIds)).toContainEqual(
      'a figure not taken from the report: "12 MB"',
    );
  });

  it("keeps hostile file names and history as text: no element, attribute or handler comes from the image", () => {
    expect(html).not.toContain(SCRIPT);
    expect(html).not.toContain("<img");
    const document = parseHtml(html);
    const all = elements(document);
    expect(all.filter((e) => ["script", "img"].includes(e.tagName))).toEqual([]);
    expect(all.flatMap((e) => e.attrs.filter((a) => a.name.startsWith("on")))).toEqual([]);
    // The names come back unchanged as text: the waste finding, the treemap label and the layer's instruction.
    const texts = all.map((e) => textOf(e));
    expect(texts).toContain(`/opt/${SCRIPT}`);
    expect(texts.filter((t) => t.startsWith(`${QUOTES} · `))).not.toEqual([]);
    expect(all.map((e) => attr(e, "title"))).toContain(HOSTILE_RUN);
    expect(texts).toContain(`echo "<img src=x onerror=alert(1)>" '&amp;' > /etc/motd`);
  });

  it("draws one bar segment per layer, one rectangle per folder, one group per kind of finding", () => {
    const all = elements(parseHtml(html));
    const byClass = (c: string) => all.filter((e) => attr(e, "class")?.split(" ").includes(c));
    expect(byClass("seg")).toHaveLength(report.layers.length);
    const folders = (f: InspectReport["folders"]): number =>
      f.children.reduce((n, c) => n + 1 + folders(c), 0);
    expect(folders(report.folders)).toBeGreaterThan(3);
    expect(all.filter((e) => e.tagName === "rect")).toHaveLength(folders(report.folders));
    const groups = byClass("group").map((e) => attr(e, "data-kind-group"));
    expect(new Set(groups)).toEqual(new Set(report.findings.map((f) => f.kind)));
    expect(groups).toEqual(expect.arrayContaining(["waste", "cache", "toolchain"]));
    // The missing library, with its Debian package and the lint rule that would have caught it.
    expect(report.missingLibraries).toContainEqual(
      expect.objectContaining({ needed: "libc.so.6", debianPackage: "libc6" }),
    );
    const missing = all.find((e) => attr(e, "id") === "missing");
    expect(textOf(missing as never)).toMatch(/apt-get install --no-install-recommends\s+libc6/);
    expect(textOf(missing as never)).toContain("CPL015");
  });

  it("draws a folder too small for its label's padding as an empty rectangle, still with its tooltip", () => {
    const folders = {
      path: "/",
      size: 1_000_000,
      children: [
        { path: "/big", size: 999_000, children: [] },
        { path: "/small", size: 1_000, children: [{ path: "/small/inner", size: 1_000, children: [] }] },
      ],
    };
    const squeezed = { ...report, folders };
    const page = renderInspectHtml(squeezed);
    expect(reportProblems(page, JSON.parse(JSON.stringify(squeezed)), ruleIds)).toEqual([]);
    const all = elements(parseHtml(page));
    expect(all.filter((e) => e.tagName === "rect")).toHaveLength(3);
    expect(all.filter((e) => e.tagName === "title").map((e) => textOf(e))).toContain("/small/inner · 1.0 kB");
  });

  it("names the lint rule behind a finding where one applies", () => {
    const rules = new Map(report.findings.map((f) => [f.path, f.rule]));
    expect(rules.get("/root/.cache/pip")).toBe("CPL008");
    expect(rules.get("/usr/include")).toBe("CPL012");
    expect(rules.get(`/opt/${SCRIPT}`)).toBeUndefined();
    for (const f of report.findings) if (f.rule) expect(ruleIds).toContain(f.rule);
    const chips = elements(parseHtml(html)).filter((e) => attr(e, "class") === "rule");
    expect(chips.map((c) => textOf(c))).toEqual(expect.arrayContaining(["CPL008", "CPL012"]));
  });
});
