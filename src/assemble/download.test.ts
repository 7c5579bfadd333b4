import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatUserError, OutputFileError } from "../errors.js";
import { DownloadError, get, indexFiles, parseIndexJson, storeInCache } from "./download.js";

describe("download errors are one line, not internal errors", () => {
  it("a package source url in the lock that is not a URL", async () => {
    await expect(indexFiles("not a url", "demo")).rejects.toThrow(DownloadError);
    await expect(indexFiles("not a url", "demo")).rejects.toThrow(/not a URL/);
    await expect(get("::")).rejects.toThrow(DownloadError);
  });

  it("an index that answers broken or foreign JSON for a project page", () => {
    const page = "https://index.example/simple/demo/";
    const broken = (() => {
      try {
        return parseIndexJson(Buffer.from("{not json"), page);
      } catch (e) {
        return e;
      }
    })();
    expect(broken).toBeInstanceOf(DownloadError);
    expect(formatUserError(broken as DownloadError)).toMatch(/does not parse/);
    expect(() => parseIndexJson(Buffer.from('{"meta": {}}'), page)).toThrow(/no files list/);
    expect(() => parseIndexJson(Buffer.from("null"), page)).toThrow(/no files list/);
    expect(() => parseIndexJson(Buffer.from('{"files": [{"filename": 5}]}'), page)).toThrow(/no files list/);
    expect(
      parseIndexJson(Buffer.from('{"files": [{"filename": "a.whl", "url": "a.whl"}]}'), page),
    ).toHaveLength(1);
  });

  it("a download cache where a file stands in place of a folder", async () => {
    const dir = mkdtempSync(join(tmpdir(), "couplet-cache-"));
    writeFileSync(join(dir, "wheels"), "not a folder");
    const error = await storeInCache(join(dir, "wheels", "sha256", "ab", "abcd"), Buffer.from("x")).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OutputFileError);
    expect(formatUserError(error as OutputFileError)).toMatch(/download cache.*COUPLET_CACHE/);
  });

  it("stores a download under its name", async () => {
    const dir = mkdtempSync(join(tmpdir(), "couplet-cache-"));
    const file = join(dir, "wheels", "sha256", "ab", "abcd");
    await storeInCache(file, Buffer.from("wheel bytes"));
    expect(readFileSync(file, "utf8")).toBe("wheel bytes");
  });
});
