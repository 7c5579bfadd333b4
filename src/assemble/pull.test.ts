import { describe, expect, it } from "vitest";
import { matchesPlatform, parsePlatform } from "./pull.js";

describe("parsePlatform", () => {
  it("reads os/architecture[/variant] and refuses anything but linux", () => {
    expect(parsePlatform("linux/arm64/v8")).toEqual({ os: "linux", architecture: "arm64", variant: "v8" });
    expect(parsePlatform("linux/amd64")).toEqual({ os: "linux", architecture: "amd64" });
    for (const bad of ["windows/amd64", "linux", "linux/arm/v7/x", "amd64"])
      expect(() => parsePlatform(bad), bad).toThrow(/expected linux\/<architecture>/);
  });
});

describe("matchesPlatform", () => {
  it("matches the architecture, a variant only when both name one, and never an attestation entry", () => {
    const arm64 = parsePlatform("linux/arm64");
    expect(matchesPlatform({ os: "linux", architecture: "arm64", variant: "v8" } as never, arm64)).toBe(true);
    expect(matchesPlatform({ os: "linux", architecture: "arm64" }, parsePlatform("linux/arm64/v8"))).toBe(
      true,
    );
    expect(matchesPlatform({ os: "linux", architecture: "amd64" }, arm64)).toBe(false);
    expect(matchesPlatform({ os: "unknown", architecture: "unknown" }, arm64)).toBe(false);
    expect(
      matchesPlatform(
        { os: "linux", architecture: "arm", variant: "v6" } as never,
        parsePlatform("linux/arm/v7"),
      ),
    ).toBe(false);
  });
});
