import { mkdir, mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatUserError, UserError } from "../../errors.js";
import { buildToArchive, destinationFromFlags, dockerfileFlags } from "./build.js";

function refusal(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    return formatUserError(error);
  }
  return undefined;
}

describe("--push and --output on couplet build", () => {
  it("builds as the --push reference, refusing another --tag or both destinations", () => {
    expect(destinationFromFlags({ push: "r.example/a:1" })).toEqual({
      destination: { push: true },
      tag: "r.example/a:1",
    });
    expect(destinationFromFlags({ push: "r.example/a:1", tag: "r.example/a:1" }).tag).toBe("r.example/a:1");
    expect(refusal(() => destinationFromFlags({ push: "r.example/a:1", tag: "other:2" }))).toMatch(
      /^--push r\.example\/a:1 names the image, and --tag names another \(other:2\) \(drop --tag/,
    );
    expect(refusal(() => destinationFromFlags({ push: "r/a", output: "a.tar" }))).toMatch(
      /^--push and --output both name where the image goes/,
    );
    expect(destinationFromFlags({ output: "/abs/a.tar", tag: "t" })).toEqual({
      destination: { archive: "/abs/a.tar" },
      tag: "t",
    });
  });
});

describe("--output FILE is written whole or not at all", () => {
  it("takes the name only when the build succeeds, leaving an earlier archive as it was otherwise", async () => {
    const dir = await mkdtemp(join(tmpdir(), "couplet-archive-"));
    const file = join(dir, "app.tar");
    await writeFile(file, "earlier archive");
    // The engine writes part of the archive, then fails.
    await expect(
      buildToArchive(file, async (temporary) => {
        await writeFile(temporary, "half");
        throw new UserError("build failed");
      }),
    ).rejects.toThrow("build failed");
    expect(await readFile(file, "utf8")).toBe("earlier archive");
    expect(await readdir(dir)).toEqual(["app.tar"]);
    // The engine writes the whole archive: it replaces the earlier one, with no temporary left.
    const result = await buildToArchive(file, async (temporary) => {
      expect(temporary).not.toBe(file);
      await writeFile(temporary, "new archive");
      return 7;
    });
    expect(result).toBe(7);
    expect(await readFile(file, "utf8")).toBe("new archive");
    expect(await readdir(dir)).toEqual(["app.tar"]);
  });

  it("refuses a missing folder or a folder in the way in one line, before building", async () => {
    const dir = await mkdtemp(join(tmpdir(), "couplet-archive-"));
    await mkdir(join(dir, "taken"));
    let built = false;
    const build = async () => {
      built = true;
    };
    await expect(buildToArchive(join(dir, "nope", "a.tar"), build)).rejects.toThrow(
      /cannot write: .*nope does not exist; nothing was written/,
    );
    await expect(buildToArchive(join(dir, "taken"), build)).rejects.toThrow(
      /cannot write: is a folder; nothing was written/,
    );
    for (const name of ["img,v2.tar", 'say"hi".tar'])
      await expect(buildToArchive(join(dir, name), build), name).rejects.toThrow(
        /cannot write: buildx cannot take a comma or a quote in the path/,
      );
    expect(built).toBe(false);
  });
});

describe("plan options with --dockerfile", () => {
  it("passes --base-image on as PYTHON_IMAGE and refuses the options that only shape a generated Dockerfile", () => {
    // path-tmpl-worker: `build --dockerfile Dockerfile --base-image X` pulled python:3.13-slim-trixie instead.
    expect(dockerfileFlags({ baseImage: "localhost/py:3.13", strategy: "optimal", buildArg: [] })).toEqual([
      "PYTHON_IMAGE=localhost/py:3.13",
    ]);
    expect(dockerfileFlags({ baseImage: "localhost/py:3.13", buildArg: ["PYTHON_IMAGE=other:1"] })).toEqual([
      "PYTHON_IMAGE=other:1",
    ]);
    expect(dockerfileFlags({ strategy: "optimal", buildArg: ["A=1"] })).toEqual(["A=1"]);
    expect(refusal(() => dockerfileFlags({ python: "3.12", cmd: "app", buildArg: [] }))).toMatch(
      /^--python, --cmd shape the Dockerfile couplet generates, and --dockerfile builds yours as it is \(drop them/,
    );
    expect(refusal(() => dockerfileFlags({ syntax: false, buildArg: [] }))).toMatch(/^--no-syntax shapes/);
    expect(refusal(() => dockerfileFlags({ baseImage: "not an image!", buildArg: [] }))).toMatch(
      /--base-image/,
    );
  });
});
