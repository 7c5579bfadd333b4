import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { glibcVersion, pythonVersion } from "./base.js";

describe("glibcVersion", () => {
  it("reads this machine's libc.so.6 as getconf reports it", () => {
    const libc = ["/lib/x86_64-linux-gnu/libc.so.6", "/lib/aarch64-linux-gnu/libc.so.6"].find(existsSync);
    if (!libc) throw new Error("no glibc on this machine");
    // "glibc 2.36"
    const reported = execFileSync("getconf", ["GNU_LIBC_VERSION"], { encoding: "utf8" }).trim();
    const [major, minor] = (reported.split(" ")[1] ?? "").split(".").map(Number) as [number, number];
    expect(glibcVersion(libc, readFileSync(libc))).toEqual({ major, minor });
  });
  it("reads the version from an old libc-2.X.so name", () => {
    expect(glibcVersion("/lib/x86_64-linux-gnu/libc-2.31.so", Buffer.alloc(0))).toEqual({
      major: 2,
      minor: 31,
    });
  });
});

describe("pythonVersion", () => {
  it("finds PY_VERSION in Debian's python3.11 binary", () => {
    const binary = realpathSync("/usr/bin/python3");
    const reported = execFileSync(binary, ["-c", "import platform; print(platform.python_version())"], {
      encoding: "utf8",
    }).trim();
    const [major, minor] = reported.split(".").map(Number) as [number, number];
    expect(pythonVersion(undefined, major, minor, [readFileSync(binary)])).toBe(reported);
  });
  it("prefers the image's PYTHON_VERSION and falls back to the minor version", () => {
    expect(pythonVersion("3.12.7", 3, 12, [])).toBe("3.12.7");
    expect(pythonVersion("3.13.0", 3, 12, [Buffer.from("nothing")])).toBe("3.12");
  });
});
