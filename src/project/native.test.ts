import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { analyze } from "./analyze.js";
import { normalizeName } from "./names.js";
import { defaultNativeNeed, nativeNeedFor, nativeTable } from "./native.js";

const DEBIAN_PACKAGE = /^[a-z0-9][a-z0-9+.-]+$/;
const RELEASES = ["bookworm", "trixie"];

describe("data/native-needs.json", () => {
  const table = nativeTable();

  it("has the documented shape: normalized keys, Debian package names, notes, known releases only", () => {
    const checkLists = (where: string, entry: Record<string, unknown>) => {
      for (const key of ["build", "runtime"]) {
        const list = entry[key];
        expect(Array.isArray(list), `${where}.${key}`).toBe(true);
        for (const deb of list as unknown[]) expect(deb, `${where}.${key}`).toMatch(DEBIAN_PACKAGE);
        expect(new Set(list as string[]).size, `${where}.${key} has duplicates`).toBe(
          (list as string[]).length,
        );
      }
    };
    checkLists("default", table.default as unknown as Record<string, unknown>);
    expect(table.default.note).toMatch(/guess/);
    for (const [name, entry] of Object.entries(table.packages)) {
      expect(name).toBe(normalizeName(name));
      checkLists(name, entry as unknown as Record<string, unknown>);
      expect(
        Object.keys(entry).every((k) =>
          ["build", "runtime", "note", "runtimeWithWheel", "unlessInstalled", "debian"].includes(k),
        ),
        name,
      ).toBe(true);
      expect(typeof entry.note, `${name}.note`).toBe("string");
      if (entry.runtimeWithWheel !== undefined) expect(typeof entry.runtimeWithWheel).toBe("boolean");
      // A bundling package is named as plan and lint compare it: PEP 503 normalized.
      for (const other of entry.unlessInstalled ?? []) expect(other).toBe(normalizeName(other));
      for (const [release, override] of Object.entries(entry.debian ?? {})) {
        expect(RELEASES).toContain(release);
        checkLists(`${name}.debian.${release}`, override as Record<string, unknown>);
      }
      // Something that must be compiled needs a compiler.
      if (entry.build.length > 0)
        expect(
          entry.build.some((d) => ["gcc", "g++"].includes(d)),
          name,
        ).toBe(true);
    }
  });

  it("covers the packages the seed and the issue name", () => {
    for (const name of [
      "uwsgi",
      "psycopg2",
      "psycopg",
      "mysqlclient",
      "lxml",
      "pillow",
      "cffi",
      "cryptography",
      "pyyaml",
      "python-ldap",
      "pycairo",
      "gevent",
      "numpy",
      "scipy",
      "pyodbc",
    ])
      expect(table.packages[name], name).toBeDefined();
  });
});

describe("nativeNeedFor", () => {
  it("gives the seed's uwsgi needs on bookworm and PCRE2 on trixie, which dropped libpcre3", () => {
    expect(nativeNeedFor("uWSGI")).toMatchObject({
      build: ["gcc", "libc6-dev", "libpcre3-dev"],
      runtime: ["libpcre3"],
    });
    expect(nativeNeedFor("uwsgi", undefined, "trixie")).toMatchObject({
      build: expect.arrayContaining(["libpcre2-dev"]),
      runtime: ["libpcre2-8-0"],
    });
  });

  it("says psycopg 3 needs libpq at run time even as a pure-Python wheel", () => {
    expect(nativeNeedFor("psycopg")).toMatchObject({
      build: [],
      runtime: ["libpq5"],
      runtimeWithWheel: true,
    });
  });

  it("is undefined for a package it does not know; the default guess says it is a guess", () => {
    expect(nativeNeedFor("requests")).toBeUndefined();
    expect(defaultNativeNeed()).toMatchObject({ build: ["gcc", "libc6-dev"], runtime: [] });
  });

  it("returns copies: a caller cannot change the table", () => {
    nativeNeedFor("psycopg2")?.build.push("oops");
    defaultNativeNeed().build.push("oops");
    expect(nativeNeedFor("psycopg2")?.build).not.toContain("oops");
    expect(defaultNativeNeed().build).not.toContain("oops");
  });

  it("lets [tool.couplet.native] of the project replace the shipped entry", async () => {
    const project = await analyze(
      fileURLToPath(new URL("../../test/fixtures/projects/extras-dynamic", import.meta.url)),
    );
    expect(nativeNeedFor("Pillow", project)).toEqual({
      build: ["libwebp-dev"],
      runtime: ["libwebp7"],
      note: "we rebuild pillow against the system libwebp",
      declaredAt: 29,
    });
    expect(nativeNeedFor("lxml", project)).toEqual(nativeNeedFor("lxml"));
  });
});
