import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { UserError } from "../errors.js";
import { buildahEngine } from "./buildah.js";
import { dockerEngine } from "./docker.js";
import {
  type BinfmtEntry,
  checkMultiPlatform,
  emulationProblem,
  hostArch,
  isMultiPlatform,
  parseBinfmtEntry,
  readBinfmt,
  requestPlatforms,
} from "./platforms.js";
import { podmanEngine } from "./podman.js";

// Copied from /proc/sys/fs/binfmt_misc on a Debian bookworm host with qemu-user-static and binfmt-support.
const fixture = (name: string) =>
  readFileSync(new URL(`../../test/fixtures/binfmt/${name}`, import.meta.url), "utf8");
const aarch64 = parseBinfmtEntry("qemu-aarch64", fixture("qemu-aarch64"));
const riscv = parseBinfmtEntry("qemu-riscv64", fixture("qemu-riscv64"));
const jar = parseBinfmtEntry("jar", fixture("jar"));

describe("binfmt_misc entries", () => {
  it("reads the kernel's text: state, interpreter, flags and the magic", () => {
    expect(aarch64).toMatchObject({
      enabled: true,
      interpreter: "/usr/libexec/qemu-binfmt/aarch64-binfmt-P",
      flags: "PF",
      offset: 0,
    });
    expect(aarch64.magic?.length).toBe(20);
    expect(aarch64.magic?.[18]).toBe(0xb7);
    expect(aarch64.mask?.[16]).toBe(0xfe);
    expect(jar.flags).toBe("");
    expect(jar.magic).toEqual(Uint8Array.from([0x50, 0x4b, 0x03, 0x04]));
  });
});

describe("emulationProblem", () => {
  const noFix: BinfmtEntry = parseBinfmtEntry(
    "qemu-aarch64",
    fixture("qemu-aarch64").replace("flags: PF", "flags: P"),
  );
  const disabled = parseBinfmtEntry("qemu-aarch64", fixture("qemu-aarch64").replace(/^enabled/, "disabled"));

  it("is none for the machine's own platform, and for arm64 where qemu-aarch64 is registered with F", () => {
    expect(emulationProblem(["linux/amd64"], "amd64", [])).toBeUndefined();
    expect(emulationProblem(["linux/amd64", "linux/arm64"], "amd64", [jar, riscv, aarch64])).toBeUndefined();
    expect(emulationProblem(["linux/arm64/v8"], "amd64", [aarch64])).toBeUndefined();
  });

  it("says what to install when nothing runs arm64 binaries (none registered, another machine's, disabled)", () => {
    for (const entries of [[], [jar, riscv], [disabled]]) {
      expect(emulationProblem(["linux/amd64", "linux/arm64"], "amd64", entries)).toMatch(
        /^this amd64 machine cannot run linux\/arm64 binaries: no qemu handler .* apt-get install qemu-user-static binfmt-support/,
      );
    }
    // An arm64 host needs qemu-x86_64 for amd64, which the aarch64 handler is not.
    expect(emulationProblem(["linux/amd64"], "arm64", [aarch64])).toMatch(/cannot run linux\/amd64 binaries/);
  });

  it("names the missing F flag, which a chroot or container needs", () => {
    expect(emulationProblem(["linux/arm64"], "amd64", [noFix])).toMatch(
      /qemu-aarch64 handler for linux\/arm64 binaries lacks the F \(fix-binary\) flag.*aarch64-binfmt-P/,
    );
  });

  it("is silent on a machine it does not know", () => {
    expect(hostArch("x64")).toBe("amd64");
    expect(hostArch("arm64")).toBe("arm64");
    expect(hostArch("riscv64")).toBeUndefined();
    expect(emulationProblem(["linux/arm64"], hostArch("riscv64"), [])).toBeUndefined();
  });

  it("reads nothing where binfmt_misc is absent", async () => {
    expect(await readBinfmt("/nonexistent/binfmt_misc")).toEqual([]);
  });
});

describe("several platforms", () => {
  it("splits the request's list", () => {
    expect(requestPlatforms({ platform: "linux/amd64, linux/arm64" })).toEqual([
      "linux/amd64",
      "linux/arm64",
    ]);
    expect(requestPlatforms({})).toEqual([]);
    expect(isMultiPlatform({ platform: "linux/arm64" })).toBe(false);
    expect(isMultiPlatform({ platform: "linux/amd64,linux/arm64" })).toBe(true);
  });

  it("refuses them, before building, on the classic docker build, and takes them on buildx, buildah and podman", () => {
    const request = { platform: "linux/amd64,linux/arm64" };
    for (const builder of ["legacy", "buildkit"] as const) {
      const engine = dockerEngine({ builder, server: "20.10.24" });
      let error: unknown;
      try {
        checkMultiPlatform(engine, request);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(UserError);
      expect((error as UserError).exitCode).toBe(2);
      expect((error as UserError).message).toMatch(
        /cannot build several platforms at once \(linux\/amd64, linux\/arm64\)/,
      );
      expect((error as UserError).hint).toMatch(/docker-buildx.*--platform linux\/amd64\)/);
      expect(() => checkMultiPlatform(engine, { platform: "linux/arm64" })).not.toThrow();
    }
    for (const engine of [
      dockerEngine({ builder: "buildx", server: "27.3.1" }),
      buildahEngine(),
      podmanEngine(),
    ])
      expect(() => checkMultiPlatform(engine, request)).not.toThrow();
  });
});
