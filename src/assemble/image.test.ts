import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatUserError, OutputFileError, RefusedError } from "../errors.js";
import { type Assembled, checkReplaceable, ociRefName, writeDockerArchive, writeOciLayout } from "./image.js";

function scratch(): string {
  return mkdtempSync(join(tmpdir(), "couplet-image-"));
}

describe("assemble's outputs replace only an earlier output of their kind", () => {
  it("refuses a folder that is not an OCI layout, and leaves what is in it", async () => {
    const dir = scratch();
    writeFileSync(join(dir, "pyproject.toml"), "[tool.poetry]\n");
    await expect(checkReplaceable(dir, "oci-layout")).rejects.toThrow(RefusedError);
    // The writer itself checks before anything is written: the image is never looked at.
    await expect(writeOciLayout({} as Assembled, dir, "x:latest")).rejects.toThrow(/not an OCI layout/);
    expect(readdirSync(dir)).toEqual(["pyproject.toml"]);
  });

  it("refuses a folder or a non-file where a docker-archive goes", async () => {
    const dir = scratch();
    mkdirSync(join(dir, "image.tar"));
    writeFileSync(join(dir, "image.tar", "keep"), "");
    await expect(
      writeDockerArchive({} as Assembled, join(dir, "image.tar"), "x:latest", new Date(0)),
    ).rejects.toThrow(/is not a file/);
    expect(readdirSync(join(dir, "image.tar"))).toEqual(["keep"]);
    expect(readdirSync(dir)).toEqual(["image.tar"]);
  });

  it("accepts a new path, an earlier archive file, an empty folder and an earlier layout", async () => {
    const dir = scratch();
    writeFileSync(join(dir, "old.tar"), "");
    mkdirSync(join(dir, "empty"));
    mkdirSync(join(dir, "layout"));
    writeFileSync(join(dir, "layout", "oci-layout"), '{"imageLayoutVersion":"1.0.0"}\n');
    await expect(checkReplaceable(join(dir, "new.tar"), "file")).resolves.toBeUndefined();
    await expect(checkReplaceable(join(dir, "old.tar"), "file")).resolves.toBeUndefined();
    await expect(checkReplaceable(join(dir, "empty"), "oci-layout")).resolves.toBeUndefined();
    await expect(checkReplaceable(join(dir, "layout"), "oci-layout")).resolves.toBeUndefined();
  });

  it("an output that cannot be written is one line naming it, with nothing left behind", async () => {
    const dir = scratch();
    writeFileSync(join(dir, "file"), "");
    const target = join(dir, "file", "image.tar");
    const error = await writeDockerArchive({} as Assembled, target, "x:latest", new Date(0)).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OutputFileError);
    expect(formatUserError(error as OutputFileError)).toMatch(
      /file\/image\.tar: cannot write: .*\/file is not a folder; nothing was written/,
    );
    const layout = await writeOciLayout({} as Assembled, join(dir, "file", "layout"), "x:latest").catch(
      (e: unknown) => e,
    );
    expect(layout).toBeInstanceOf(OutputFileError);
    expect(readdirSync(dir)).toEqual(["file"]);
  });
});

describe("a missing output folder", () => {
  it("is an error line before anything is written, not created silently", async () => {
    const dir = scratch();
    const target = join(dir, "missing", "deeper", "image.tar");
    const error = await checkReplaceable(target, "file").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OutputFileError);
    expect(formatUserError(error as OutputFileError)).toMatch(
      /image\.tar: cannot write: .*\/missing\/deeper does not exist; nothing was written \(create the folder first/,
    );
    await expect(writeDockerArchive({} as Assembled, target, "x:latest", new Date(0))).rejects.toThrow(
      OutputFileError,
    );
    await expect(writeOciLayout({} as Assembled, join(dir, "missing", "oci"), "x")).rejects.toThrow(
      /does not exist/,
    );
    expect(existsSync(join(dir, "missing"))).toBe(false);
  });
});

describe("ociRefName", () => {
  it("is the tag, never a registry's port", () => {
    expect(ociRefName("localhost:5000/team/app:1.2")).toBe("1.2");
    expect(ociRefName("localhost:5000/app")).toBe("latest");
    expect(ociRefName("couplet/yamlstat:latest")).toBe("latest");
    expect(ociRefName("app")).toBe("latest");
  });
});
