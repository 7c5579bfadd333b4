import { describe, expect, it } from "vitest";
import { DEFAULT_PLATFORM, type Platform, parsePlatform } from "./platform.js";
import { availability, wheelTags } from "./wheels.js";

const amd64 = DEFAULT_PLATFORM;
const arm64 = parsePlatform("linux/arm64");

function fits(file: string, minor: number, platform: Platform = amd64): boolean {
  if (!wheelTags(file)) throw new Error(`not a wheel: ${file}`);
  return availability([{ file }], minor, platform) === "wheel";
}

describe("wheel compatibility", () => {
  it("accepts pure-Python wheels everywhere", () => {
    expect(fits("flask-3.0.3-py3-none-any.whl", 13)).toBe(true);
    expect(fits("six-1.16.0-py2.py3-none-any.whl", 11)).toBe(true);
  });

  it("matches CPython-specific wheels only to their own minor version", () => {
    const file = "PyYAML-6.0.2-cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64.whl";
    expect(fits(file, 13)).toBe(true);
    expect(fits(file, 12)).toBe(false);
    expect(fits(file, 14)).toBe(false);
    expect(fits(file, 13, arm64)).toBe(false);
  });

  it("lets abi3 wheels serve every later CPython", () => {
    const file = "cryptography-43.0.1-cp39-abi3-manylinux_2_28_x86_64.whl";
    expect(fits(file, 9)).toBe(true);
    expect(fits(file, 14)).toBe(true);
    expect(fits(file, 8)).toBe(false);
  });

  it("refuses musl and foreign platforms", () => {
    expect(fits("orjson-3.10.7-cp311-cp311-musllinux_1_2_x86_64.whl", 11)).toBe(false);
    expect(fits("orjson-3.10.7-cp311-none-win_amd64.whl", 11)).toBe(false);
    expect(fits("orjson-3.10.7-cp311-cp311-macosx_10_15_x86_64.whl", 11)).toBe(false);
  });

  it("takes musllinux wheels on musl and only there", () => {
    const musl = parsePlatform("linux/amd64-musl");
    expect(fits("orjson-3.10.7-cp311-cp311-musllinux_1_2_x86_64.whl", 11, musl)).toBe(true);
    expect(fits("orjson-3.10.7-cp311-cp311-musllinux_1_2_aarch64.whl", 11, musl)).toBe(false);
    expect(fits("orjson-3.10.7-cp311-cp311-manylinux_2_17_x86_64.whl", 11, musl)).toBe(false);
    expect(fits("flask-3.0.3-py3-none-any.whl", 11, musl)).toBe(true);
  });

  it("takes manylinux wheels up to the image's glibc (legacy aliases included)", () => {
    const bookworm = { ...amd64, glibc: "2.36" };
    expect(fits("x-1.0-cp312-cp312-manylinux_2_36_x86_64.whl", 12, bookworm)).toBe(true);
    expect(fits("x-1.0-cp312-cp312-manylinux_2_39_x86_64.whl", 12, bookworm)).toBe(false);
    expect(fits("x-1.0-cp312-cp312-manylinux_2_39_x86_64.whl", 12, { ...amd64, glibc: "2.41" })).toBe(true);
    expect(fits("x-1.0-cp312-cp312-manylinux2014_x86_64.whl", 12, { ...amd64, glibc: "2.12" })).toBe(false);
    expect(fits("x-1.0-cp312-cp312-manylinux1_x86_64.whl", 12, { ...amd64, glibc: "2.12" })).toBe(true);
  });

  it("keeps build tags out of the way", () => {
    expect(fits("pkg-1.0-1build-cp311-cp311-manylinux2014_x86_64.whl", 11)).toBe(true);
  });

  it("tells source-only packages from packages that lack a wheel for one interpreter", () => {
    expect(availability([{ file: "uWSGI-2.0.28.tar.gz" }], 11, amd64)).toBe("source-only");
    // psycopg2 locks an sdist and Windows wheels: no interpreter choice gives a Linux wheel.
    const psycopg2 = [
      { file: "psycopg2-2.9.10-cp311-cp311-win_amd64.whl" },
      { file: "psycopg2-2.9.10.tar.gz" },
    ];
    expect(availability(psycopg2, 11, amd64)).toBe("source-only");
    const pyyaml = [
      { file: "PyYAML-6.0.2.tar.gz" },
      { file: "PyYAML-6.0.2-cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64.whl" },
    ];
    expect(availability(pyyaml, 13, amd64)).toBe("wheel");
    expect(availability(pyyaml, 14, amd64)).toBe("no-wheel-for-python");
    // Not knowing the interpreter, a wheel for the platform is enough.
    expect(availability(pyyaml, undefined, amd64)).toBe("wheel");
    expect(availability(pyyaml, undefined, arm64)).toBe("source-only");
  });
});
