import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { UserError } from "../errors.js";
import { detectEngine } from "./detect.js";

describe("detectEngine", () => {
  const empty = mkdtempSync(join(tmpdir(), "couplet-nopath-"));

  it("names every engine it looked for and how to install one when none is found", async () => {
    const error = await detectEngine({ path: empty }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).exitCode).toBe(2);
    expect((error as UserError).message).toMatch(/docker.*podman.*buildah/);
    expect((error as UserError).hint).toMatch(/apt-get install buildah/);
  });

  it("rejects an unknown --engine", async () => {
    await expect(detectEngine({ engine: "kaniko" })).rejects.toThrow(/unknown engine "kaniko"/);
  });

  it("refuses an engine that is asked for but missing", async () => {
    await expect(detectEngine({ engine: "podman", path: empty })).rejects.toThrow(
      /podman: not found on PATH/,
    );
  });

  it("gives podman and buildah the same storage and isolation settings, the user's over the defaults", async () => {
    const bin = mkdtempSync(join(tmpdir(), "couplet-path-"));
    for (const name of ["podman", "buildah"]) {
      writeFileSync(join(bin, name), "#!/bin/sh\nexit 0\n");
      chmodSync(join(bin, name), 0o755);
    }
    for (const engine of ["podman", "buildah"]) {
      const chosen = await detectEngine({ engine, path: bin, storageDriver: "vfs", isolation: "oci" });
      const args = chosen.buildCommand({ context: "/p", dockerfile: "/p/Dockerfile", tag: "t" }).args;
      expect(chosen.program).toBe(join(bin, engine));
      expect(args.slice(0, 2)).toEqual(["--storage-driver", "vfs"]);
      expect(args.slice(args.indexOf("--isolation"), args.indexOf("--isolation") + 2)).toEqual([
        "--isolation",
        "oci",
      ]);
    }
  });

  it("takes the docker client named by --docker, refusing one that is not there or a clash with --engine", async () => {
    await expect(detectEngine({ docker: join(empty, "docker") })).rejects.toThrow(
      /cannot use docker: .*docker \(named by --docker\) is not an executable file/,
    );
    // The hint is about the path given, not about installing an engine.
    await expect(detectEngine({ docker: join(empty, "docker") })).rejects.toMatchObject({
      hint: expect.stringMatching(/full path.*leave --docker out/),
    });
    await expect(detectEngine({ docker: "/usr/bin/docker", engine: "buildah" })).rejects.toThrow(
      /--docker names a docker client, but --engine is buildah/,
    );
  });
});
