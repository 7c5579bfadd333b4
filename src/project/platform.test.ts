import { describe, expect, it } from "vitest";
import { UserError } from "../errors.js";
import { parsePlatform, parsePlatforms, platformName } from "./platform.js";

describe("platforms", () => {
  it("reads the OCI spellings of amd64 and arm64, and a -musl suffix", () => {
    expect(parsePlatform("linux/amd64")).toEqual({ os: "linux", arch: "amd64", libc: "glibc" });
    expect(parsePlatform("linux/arm64/v8")).toEqual({ os: "linux", arch: "arm64", libc: "glibc" });
    expect(parsePlatform("linux/aarch64")).toEqual({ os: "linux", arch: "arm64", libc: "glibc" });
    expect(platformName(parsePlatform("linux/arm64-musl"))).toBe("linux/arm64-musl");
  });

  it("takes a comma list once each, in order", () => {
    expect(parsePlatforms("linux/arm64, linux/amd64,linux/arm64/v8").map(platformName)).toEqual([
      "linux/arm64",
      "linux/amd64",
    ]);
  });

  it("refuses what couplet cannot plan for, with the ones it can", () => {
    expect(() => parsePlatform("windows/amd64")).toThrow(UserError);
    expect(() => parsePlatform("linux/s390x")).toThrow(/unknown platform "linux\/s390x"/);
    expect(() => parsePlatforms(" , ")).toThrow(/--platform is empty/);
  });
});
