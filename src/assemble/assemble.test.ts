import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { UserError } from "../errors.js";
import { assemble, missingLibrariesError, parseBaseArgument } from "./assemble.js";

const cliTool = new URL("../../examples/cli-tool", import.meta.url).pathname;

describe("parseBaseArgument", () => {
  it("reads PLATFORM=REF, and anything else (a path, a reference with a digest) as a plain base", () => {
    expect(parseBaseArgument("linux/arm64=127.0.0.1:5000/python:3.11")).toEqual({
      platform: { os: "linux", architecture: "arm64" },
      ref: "127.0.0.1:5000/python:3.11",
    });
    expect(parseBaseArgument("linux/arm64/v8=base-arm.tar").platform).toEqual({
      os: "linux",
      architecture: "arm64",
      variant: "v8",
    });
    expect(parseBaseArgument(`r.example/python@sha256:${"a".repeat(64)}`)).toEqual({
      ref: `r.example/python@sha256:${"a".repeat(64)}`,
    });
    expect(parseBaseArgument("./dir=with=equals.tar")).toEqual({ ref: "./dir=with=equals.tar" });
  });
});

describe("assemble's platform and base choice", () => {
  const output = () => path.join(mkdtempSync(path.join(tmpdir(), "couplet-asm-")), "image.tar");
  // Each is refused before any base is read (the bases named here do not exist).
  it.each([
    [{ base: ["a.tar", "b.tar"] }, /--base given 2 times without a platform/],
    [{ base: "a.tar", platform: "linux/amd64,linux/amd64" }, /linux\/amd64 is named twice/],
    [{ base: "a.tar", platform: "linux/amd64,windows/amd64" }, /expected linux\/<architecture>/],
    [{ base: ["linux/arm64=a.tar"], platform: "linux/amd64" }, /linux\/amd64: no --base for this platform/],
  ])("refuses %j in one line", async (options, message) => {
    const failed = await assemble(cliTool, { ...options, output: output() }).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(UserError);
    expect((failed as UserError).message).toMatch(message);
  });
});

describe("missingLibrariesError", () => {
  const lacks = (file: string, needed: string, debianPackage?: string) => ({
    label: "pkg 1.0",
    missing: [{ file, needed, ...(debianPackage ? { debianPackage } : {}) }],
  });
  it("names each platform when there are several, and the Debian packages to install once", () => {
    const error = missingLibrariesError([
      { platform: "linux/amd64", problems: [lacks("/v/site-packages/a.so", "libGL.so.1", "libgl1")] },
      {
        platform: "linux/arm64",
        problems: [lacks("/v/site-packages/a.so", "libGL.so.1", "libgl1"), lacks("/opt/b", "libzz.so.9")],
      },
    ]);
    expect(error.message).toBe(
      "cannot assemble an image that would fail at import: linux/amd64: pkg 1.0: a.so needs libGL.so.1 (Debian package libgl1), which the base lacks; linux/arm64: pkg 1.0: a.so needs libGL.so.1 (Debian package libgl1), which the base lacks; linux/arm64: pkg 1.0: /opt/b needs libzz.so.9, which the base lacks",
    );
    expect(error.hint).toContain("apt-get install -y --no-install-recommends libgl1`");
    expect(error.hint).toContain("no Debian package is known for libzz.so.9");
    expect(error.exitCode).toBe(2);
  });
});
