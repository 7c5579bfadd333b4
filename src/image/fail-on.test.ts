// --fail-on: the condition language CI users write, and which conditions a report meets.
import { describe, expect, it } from "vitest";
import { UserError } from "../errors.js";
import { failures, growthFailures, parseFailOn, parseSize } from "./fail-on.js";
import type { InspectReport } from "./inspect.js";

const clean: InspectReport = {
  image: { source: "x.tar", format: "docker-archive", tags: [] },
  sizeBytes: 1000,
  layers: [],
  wastedBytes: 0,
  efficiency: 1,
  findings: [],
  folders: { path: "/", size: 0, children: [] },
  missingLibraries: [],
  sharedObjectsChecked: 0,
  warnings: [],
};

describe("parseSize", () => {
  it.each([
    ["20MB", 20_000_000],
    ["20 mb", 20_000_000],
    ["1.5GB", 1_500_000_000],
    ["512KiB", 524_288],
    ["7", 7],
  ])("%s is %d bytes", (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });
  it("refuses unknown units", () => {
    expect(parseSize("20 parsecs")).toBeUndefined();
  });
});

describe("growth (comparing two images)", () => {
  it("holds when the second image is more than the size larger, and only then", () => {
    const conditions = parseFailOn("growth>10MB, caches");
    expect(conditions).toEqual([{ kind: "growth", above: 10_000_000 }, { kind: "caches" }]);
    expect(growthFailures(10_000_001, conditions)).toEqual([
      "growth>10000000: the second image is 10000001 bytes larger than the first",
    ]);
    expect(growthFailures(10_000_000, conditions)).toEqual([]);
    expect(growthFailures(-5, conditions)).toEqual([]);
    // A single report never meets it: only a comparison can.
    expect(failures(clean, conditions)).toEqual([]);
  });
});

describe("parseFailOn", () => {
  it("reads every documented condition", () => {
    expect(parseFailOn("missing-libraries,efficiency<0.95,wasted>20MB,caches,toolchain,dev-deps")).toEqual([
      { kind: "missing-libraries" },
      { kind: "efficiency", below: 0.95 },
      { kind: "wasted", above: 20_000_000 },
      { kind: "caches" },
      { kind: "toolchain" },
      { kind: "dev-deps" },
    ]);
  });
  it.each(["speed", "efficiency<2", "wasted>lots"])("refuses %s with a user error", (text) => {
    expect(() => parseFailOn(text)).toThrow(UserError);
  });
});

describe("failures", () => {
  const all = parseFailOn("missing-libraries,efficiency<0.95,wasted>20MB,caches,toolchain,dev-deps");
  it("finds nothing to fail on in a clean report", () => {
    expect(failures(clean, all)).toEqual([]);
  });
  it("fails on each condition that holds, and only those", () => {
    const report: InspectReport = {
      ...clean,
      efficiency: 0.9,
      wastedBytes: 25_000_000,
      findings: [{ kind: "cache", path: "/root/.cache/pip", bytes: 10, message: "" }],
      missingLibraries: [{ file: "/a.so", needed: "libpq.so.5", debianPackage: "libpq5" }],
    };
    expect(failures(report, all).map((line) => line.split(":")[0])).toEqual([
      "missing-libraries",
      "efficiency<0.95",
      "wasted>20000000",
      "caches",
    ]);
    expect(failures(report, parseFailOn("toolchain,dev-deps"))).toEqual([]);
  });
});
