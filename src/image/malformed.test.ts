// inspect on archives a probe crafted to break it: every bad shape is one line naming the file (exit 2), never a crash.
import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UserError } from "../errors.js";
import { openImageArchive } from "./archive.js";
import { scanImage } from "./inspect.js";
import { isDigest } from "./schemas.js";

const fixtures = fileURLToPath(new URL("../../test/fixtures/inspect-malformed/", import.meta.url));

async function failure(target: string): Promise<UserError> {
  try {
    const opened = await openImageArchive(target);
    await scanImage(opened);
  } catch (error) {
    if (error instanceof UserError) return error;
    throw error;
  }
  throw new Error(`${target} was accepted`);
}

describe("archives whose JSON has the wrong shape", () => {
  it.each([
    ["config-null.tar", /c\.json: expected Object, got null$/],
    ["config-history-obj.tar", /c\.json: history: expected Array, got Object$/],
    ["config-history-null-items.tar", /c\.json: history\[0\]: expected Object, got null$/],
    ["config-env-obj.tar", /c\.json: config\.Env: expected Array, got Object$/],
    ["config-env-nums.tar", /c\.json: config\.Env\[0\]: expected string, got 1$/],
    ["manifest-null.tar", /manifest\.json: expected Array, got null$/],
    ["manifest-layers-num.tar", /manifest\.json: \[0\]\.Layers\[0\]: expected string, got 5$/],
    ["oci-index-null", /index\.json: expected Object, got null$/],
    ["oci-manifests-obj", /index\.json: manifests: expected Array, got Object$/],
    ["oci-no-digest", /index\.json: manifests\[0\]\.digest: missing$/],
    ["oci-digest-num", /index\.json: manifests\[0\]\.digest: expected string, got 5$/],
    ["oci-bad-digest", /index\.json: manifests\[0\]\.digest: expected a digest sha256:<64 hex digits>/],
    ["outer-pax-size-frac.tar", /not a valid image archive \(invalid pax size "1\.5"\)$/],
  ])("%s: one line naming the file and the problem, exit 2", async (name, expected) => {
    const error = await failure(path.join(fixtures, name));
    expect(error.exitCode).toBe(2);
    expect(error.message).toMatch(expected);
    expect(error.message.startsWith(path.join(fixtures, name))).toBe(true);
    expect(error.message).not.toMatch(/\n/);
  });
});

describe("digests", () => {
  it.each([
    "sha256:57c5eea1c70c458c8ab777688f24448b9e70dd67ad5dd95886c32b413fe10af5",
    `sha512:${"ab".repeat(64)}`,
  ])("accepts %s", (digest) => expect(isDigest(digest)).toBe(true));
  it.each([
    "sha256:../../etc/passwd",
    "sha256:57c5eea1c70c458c8ab777688f24448b9e70dd67ad5dd95886c32b413fe10af",
    "sha256:57C5EEA1C70C458C8AB777688F24448B9E70DD67AD5DD95886C32B413FE10AF5",
    "md5:d41d8cd98f00b204e9800998ecf8427e",
    "sha256",
    `sha256:${"a".repeat(64)}/x`,
    "",
  ])("refuses %j", (digest) => expect(isDigest(digest)).toBe(false));
});

describe("inputs that are read, not refused", () => {
  it("a path 5,000 folders deep is inspected without running out of stack", async () => {
    const { report, tree } = await scanImage(await openImageArchive(path.join(fixtures, "deep-path-5k.tar")));
    const deepest = report.layers[0]?.largestFiles[0]?.path ?? "";
    expect(deepest.split("/").length).toBeGreaterThan(5000);
    expect(tree.get(deepest)?.kind).toBe("file");
  });

  it("an ELF file with a 4 EiB dynamic section loses its own library check, not the layer", async () => {
    const { report } = await scanImage(await openImageArchive(path.join(fixtures, "elf-huge-dynamic.tar")));
    expect(report.layers).toHaveLength(1);
    expect(report.warnings).toEqual([
      expect.stringMatching(
        /_m\.cpython-311-x86_64-linux-gnu\.so: libraries not checked: its dynamic section \(\d+ bytes at 176\) runs past the end of the file$/,
      ),
    ]);
  });
});

describe("targets that are not archive files", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "couplet-malformed-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("a FIFO is refused at once instead of waiting for a writer", async () => {
    const fifo = path.join(dir, "image.tar");
    execFileSync("mkfifo", [fifo]);
    const error = await failure(fifo);
    expect(error.message).toBe(
      `${fifo}: not a regular file or folder (give a docker-archive tar, an OCI archive or an OCI layout)`,
    );
  });

  it("a device such as /dev/zero is refused instead of read forever", async () => {
    expect((await failure("/dev/zero")).message).toMatch(/^\/dev\/zero: not a regular file or folder/);
  });

  it("a folder that is no OCI layout says what it lacks", async () => {
    expect((await failure(dir)).message).toMatch(
      /neither a docker-archive \(no manifest\.json\) nor an OCI layout/,
    );
  });
});
