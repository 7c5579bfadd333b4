import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseLock } from "./lock.js";
import { evaluateMarker, linuxCPython, packageApplies } from "./markers.js";
import type { Lock } from "./types.js";

const ROOTS = ["../../test/fixtures/projects/", "../../examples/"].map((r) =>
  fileURLToPath(new URL(r, import.meta.url)),
);

async function allLocks(): Promise<Lock[]> {
  const locks: Lock[] = [];
  for (const root of ROOTS)
    for (const d of await readdir(root, { withFileTypes: true }).catch(() => [])) {
      const path = join(root, d.name, "poetry.lock");
      const text = await readFile(path, "utf8").catch(() => undefined);
      if (d.isDirectory() && text !== undefined) locks.push(parseLock(text, path));
    }
  return locks;
}

describe("evaluateMarker", () => {
  const py311 = linuxCPython("3.11", "x86_64");
  const py313 = linuxCPython("3.13", "aarch64");

  it("decides the markers of real locks for Linux CPython (only patch-level comparisons stay unknown)", async () => {
    const markers = new Set<string>();
    for (const lock of await allLocks())
      for (const pkg of lock.packages)
        if (typeof pkg.markers === "string") markers.add(pkg.markers);
        else for (const m of Object.values(pkg.markers ?? {})) markers.add(m);
    expect(markers.size).toBeGreaterThan(10);
    for (const marker of markers) {
      const value = evaluateMarker(marker, { ...py311, extras: [] });
      if (marker.includes("python_full_version")) continue;
      expect(value, marker).toBeTypeOf("boolean");
    }
  });

  it.each([
    ['os_name == "nt"', false],
    ['platform_python_implementation == "PyPy"', false],
    ['sys_platform != "win32" and sys_platform != "emscripten"', true],
    ['python_version < "3.12"', true],
    ['python_version >= "3.13"', false],
    ['os_name != "nt" or sys_platform != "win32" and sys_platform != "emscripten"', true],
    ['(platform_machine == "x86_64" or platform_machine == "AMD64") and python_version == "3.11"', true],
    ['"3.10" < python_version', true],
    ['platform_machine in "x86_64 aarch64"', true],
    ['platform_machine not in "x86_64 aarch64"', false],
  ] as const)("on Linux CPython 3.11 x86_64: %s is %s", (marker, expected) => {
    expect(evaluateMarker(marker, py311)).toBe(expected);
  });

  it("compares versions as versions, not strings", () => {
    expect(evaluateMarker('python_version >= "3.9"', py313)).toBe(true);
    expect(evaluateMarker('python_version < "3.13"', py313)).toBe(false);
  });

  it("is unknown, not guessed, for the patch release, an unknown machine or extras, and nonsense", () => {
    expect(evaluateMarker('python_full_version < "3.11.3"', py311)).toBeUndefined();
    expect(evaluateMarker('platform_machine == "x86_64"', linuxCPython("3.11"))).toBeUndefined();
    expect(evaluateMarker('extra == "standard"', py311)).toBeUndefined();
    expect(evaluateMarker('extra == "Standard"', { ...py311, extras: ["standard"] })).toBe(true);
    // Known false on one side of `and` decides it even if the other side is unknown.
    expect(evaluateMarker('os_name == "nt" and platform_release > "1"', py311)).toBe(false);
    expect(evaluateMarker("python_version <", py311)).toBeUndefined();
    expect(evaluateMarker('bogus_var == "1"', py311)).toBeUndefined();
  });
});

describe("packageApplies on the large real lock", () => {
  it("drops Windows-only and PyPy-only packages for Linux CPython, keeps unconditional ones", async () => {
    const lock = (await allLocks()).find((l) => l.packages.length > 250) as Lock;
    const env = linuxCPython("3.13", "x86_64");
    const applies = (name: string) => {
      const pkg = lock.packages.find((p) => p.name === name);
      if (!pkg) throw new Error(`${name} is not in the large lock`);
      return packageApplies(pkg, env);
    };
    expect(applies("pywinpty")).toBe(false);
    expect(applies("pypydispatcher")).toBe(false);
    expect(applies("requests")).toBe(true);
  });
});
