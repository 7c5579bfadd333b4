import { describe, expect, it } from "vitest";
import { poetryCapabilities } from "./poetry.js";

describe("poetryCapabilities", () => {
  it.each([
    ["1.1.15", { groups: false, noDev: true, bundledExport: true, pep621: false, pep735: false }],
    ["1.2.0", { groups: true, noDev: true, bundledExport: true, pep621: false, pep735: false }],
    ["1.8.5", { groups: true, noDev: true, bundledExport: true, pep621: false, pep735: false }],
    ["2.0.0", { groups: true, noDev: false, bundledExport: false, pep621: true, pep735: false }],
    ["2.2.1", { groups: true, noDev: false, bundledExport: false, pep621: true, pep735: true }],
    ["2.0.0b1", { groups: true, noDev: true, bundledExport: true, pep621: false, pep735: false }],
    ["latest", { groups: true, noDev: false, bundledExport: false, pep621: true, pep735: true }],
  ])("Poetry %s", (version, expected) => {
    expect(poetryCapabilities(version)).toEqual(expected);
  });

  it("answers nothing for an absent or unparsable version, rather than guessing", () => {
    const unknown = {
      groups: undefined,
      noDev: undefined,
      bundledExport: undefined,
      pep621: undefined,
      pep735: undefined,
    };
    expect(poetryCapabilities(undefined)).toEqual(unknown);
    expect(poetryCapabilities("$POETRY_VERSION")).toEqual(unknown);
    expect(poetryCapabilities("one.two")).toEqual(unknown);
  });
});
