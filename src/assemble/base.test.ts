import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { UserError } from "../errors.js";
import { glibcVersion, pythonVersion, readBase } from "./base.js";

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

describe("readBase with a name that is neither a file nor a tagged image", () => {
  it("is one line saying no such file, with the tag that asks the registry for it", async () => {
    const cwd = process.cwd();
    process.chdir(mkdtempSync(path.join(tmpdir(), "couplet-base-name-")));
    try {
      for (const name of ["python", "bitnami/python"]) {
        const error = await readBase(name, { cacheDir: "unused" }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(UserError);
        expect([(error as UserError).message, (error as UserError).hint]).toEqual([
          `${name}: no such file or directory`,
          `for the registry image, give its tag: --base ${name}:latest (Docker Hub's, when no registry is named)`,
        ]);
      }
      // A file name (a dot) stays a missing file, with no registry hint.
      const error = await readBase("base.tar", { cacheDir: "unused" }).catch((e: unknown) => e);
      expect([(error as UserError).message, (error as UserError).hint]).toEqual([
        "base.tar: no such file or directory",
        undefined,
      ]);
    } finally {
      process.chdir(cwd);
    }
  });
});
