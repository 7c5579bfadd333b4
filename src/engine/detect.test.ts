import { mkdtempSync } from "node:fs";
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
});
