// The ELF dynamic-section reader on real shared objects, checked against binutils' readelf, whole and streamed.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import tar from "tar-stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openImageArchive } from "./archive.js";
import { ElfScanner, readElf, readElfAt } from "./elf.js";
import { inspectImage } from "./inspect.js";

/** What readelf -d says: the oracle the parser must agree with. */
function readelf(file: string): { needed: string[]; soname?: string; runpath: string[]; rpath: string[] } {
  const out = execFileSync("readelf", ["-d", "-W", file], { encoding: "utf8" });
  const values = (type: string) =>
    [...out.matchAll(new RegExp(`\\(${type}\\)\\s+[^\\[]*\\[([^\\]]*)\\]`, "g"))].map((m) => m[1] as string);
  const soname = values("SONAME")[0];
  return {
    needed: values("NEEDED"),
    ...(soname ? { soname } : {}),
    runpath: values("RUNPATH").flatMap((v) => v.split(":")),
    rpath: values("RPATH").flatMap((v) => v.split(":")),
  };
}

const LIBZ = "/usr/lib/x86_64-linux-gnu/libz.so.1";
/** 4-5 MB: large enough that reading it whole is what the in-place reader avoids. */
const LIBCRYPTO = "/usr/lib/x86_64-linux-gnu/libcrypto.so.3";
const SSL_MODULE = "/usr/lib/python3.11/lib-dynload/_ssl.cpython-311-x86_64-linux-gnu.so";

let wheelDir: string;
let psycopgModule: string;
let bundledLibpq: string;
beforeAll(async () => {
  // A real auditwheel-repaired extension module from PyPI: RUNPATH $ORIGIN/../psycopg2_binary.libs.
  wheelDir = await mkdtemp(path.join(tmpdir(), "couplet-elf-test-"));
  execFileSync(
    "python3",
    [
      "-m",
      "pip",
      "download",
      "--quiet",
      "--no-deps",
      "--only-binary",
      ":all:",
      "--platform",
      "manylinux2014_x86_64",
      "--python-version",
      "3.11",
      "--dest",
      wheelDir,
      "psycopg2-binary==2.9.10",
    ],
    { stdio: "inherit" },
  );
  const wheel = (await readdir(wheelDir)).find((f) => f.endsWith(".whl")) as string;
  execFileSync("python3", ["-m", "zipfile", "-e", path.join(wheelDir, wheel), path.join(wheelDir, "site")]);
  const site = path.join(wheelDir, "site");
  psycopgModule = path.join(
    site,
    "psycopg2",
    (await readdir(path.join(site, "psycopg2"))).find((f) => f.endsWith(".so")) as string,
  );
  const libs = path.join(site, "psycopg2_binary.libs");
  bundledLibpq = path.join(libs, (await readdir(libs)).find((f) => f.startsWith("libpq")) as string);
}, 120_000);
afterAll(async () => {
  await rm(wheelDir, { recursive: true, force: true });
});

describe("readElf", () => {
  it.each([
    ["zlib", () => LIBZ],
    ["a CPython extension module from the host", () => SSL_MODULE],
    ["an auditwheel-repaired module from a PyPI wheel", () => psycopgModule],
    ["a library patchelf renamed inside a wheel's .libs", () => bundledLibpq],
  ])("agrees with readelf -d on %s", async (_label, file) => {
    const info = readElf(await readFile(file()));
    const expected = readelf(file());
    expect(info).toBeDefined();
    expect(info?.needed).toEqual(expected.needed);
    expect(info?.soname).toEqual(expected.soname);
    expect(info?.runpath).toEqual(expected.runpath);
    expect(info?.rpath).toEqual(expected.rpath);
    expect(info?.machine).toBe(62);
    expect(info?.class).toBe(64);
  });

  it("reads the RPATH auditwheel wrote", async () => {
    const info = readElf(await readFile(psycopgModule));
    expect(info?.rpath).toEqual(["$ORIGIN/../psycopg2_binary.libs"]);
    expect(info?.needed.some((n) => /^libpq-[0-9a-f]+\.so\.5/.test(n))).toBe(true);
  });

  it("gives the same answer when the file arrives in small chunks", async () => {
    for (const file of [LIBZ, SSL_MODULE, psycopgModule]) {
      const data = await readFile(file);
      const scanner = new ElfScanner(data.length);
      for (let at = 0; at < data.length; at += 1000) scanner.push(data.subarray(at, at + 1000));
      expect(scanner.finish()).toEqual(readElf(data));
    }
  });

  it("keeps only the string table once the dynamic section has streamed past", async () => {
    // libcrypto: 4.7 MB, its read-only data (0.9 MB) and data segment lie between the string table and the end.
    const data = await readFile(LIBCRYPTO);
    const scanner = new ElfScanner(data.length);
    let held = 0;
    for (let at = 0; at < data.length; at += 65536) {
      scanner.push(data.subarray(at, at + 65536));
      held = Math.max(held, scanner.retained);
    }
    const info = scanner.finish();
    expect(info).toEqual((await readElfAt(async (o, l) => data.subarray(o, o + l), data.length)).info);
    expect(info?.needed).toContain("libc.so.6");
    // Its .dynstr, 112 KB: all that is left of the 2 MB held on the way to the dynamic section.
    expect(scanner.retained).toBeLessThan(256 * 1024);
    expect(held).toBeGreaterThan(1024 * 1024);
  });

  it("says undefined for files that are not ELF", async () => {
    expect(readElf(Buffer.from("#!/bin/sh\necho not an ELF file\n".repeat(10)))).toBeUndefined();
    expect(readElf(await readFile("/etc/os-release"))).toBeUndefined();
  });
});

/** readElfAt over a buffer, counting the bytes it asks for. */
async function inPlace(data: Buffer): Promise<{ info: unknown; problem?: string; bytesRead: number }> {
  let bytesRead = 0;
  const read = async (offset: number, length: number) => {
    const piece = data.subarray(offset, offset + length);
    bytesRead += piece.length;
    return Buffer.from(piece);
  };
  return { ...(await readElfAt(read, data.length)), bytesRead };
}

describe("readElfAt (reading in place)", () => {
  it.each([
    ["zlib", () => LIBZ],
    ["libcrypto", () => LIBCRYPTO],
    ["a CPython extension module from the host", () => SSL_MODULE],
    ["an auditwheel-repaired module from a PyPI wheel", () => psycopgModule],
    ["a library patchelf renamed inside a wheel's .libs", () => bundledLibpq],
  ])(
    "agrees with readelf -d and the streaming reader on %s, reading a small part of it",
    async (_label, file) => {
      const data = await readFile(file());
      const { info, problem, bytesRead } = await inPlace(data);
      expect(problem).toBeUndefined();
      expect(info).toEqual(readElf(data));
      const expected = readelf(file());
      expect(info).toMatchObject({
        needed: expected.needed,
        runpath: expected.runpath,
        rpath: expected.rpath,
      });
      // Header, program headers, dynamic section and string table: a few kilobytes, not the file.
      expect(bytesRead).toBeLessThan(Math.max(64 * 1024, data.length / 10));
    },
  );

  it("says undefined, with no problem, for files that are not ELF or too short to be", async () => {
    for (const data of [await readFile("/etc/os-release"), Buffer.from("\x7fELF")]) {
      const { info, problem } = await inPlace(data);
      expect(info).toBeUndefined();
      expect(problem).toBeUndefined();
    }
  });

  it("names a dynamic section or string table past the end of a cut file, as the streaming reader does", async () => {
    const whole = await readFile(LIBZ);
    // The dynamic segment's offset and size, as readelf -l shows them: cut inside it, and before it.
    const segment = /DYNAMIC\s+0x([0-9a-f]+)\s+0x[0-9a-f]+\s+0x[0-9a-f]+\s+0x([0-9a-f]+)/.exec(
      execFileSync("readelf", ["-l", "-W", LIBZ], { encoding: "utf8" }),
    );
    const dynamicEnd = Number.parseInt(segment?.[1] ?? "", 16) + Number.parseInt(segment?.[2] ?? "", 16);
    expect(dynamicEnd).toBeLessThan(whole.length);
    for (const keep of [dynamicEnd - 8, Math.floor(whole.length / 2)]) {
      const cut = whole.subarray(0, keep);
      const scanner = new ElfScanner(cut.length);
      scanner.push(cut);
      const streamed = scanner.finish();
      const { info, problem } = await inPlace(cut);
      expect(info).toEqual(streamed);
      expect(problem).toBe(scanner.problem);
      expect(problem).toMatch(/runs past the end of the file/);
    }
  });
});

/** One uncompressed layer tar holding these files (absolute path -> content, or a symlink target). */
async function layerTar(files: Record<string, Buffer | { symlink: string }>): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on("data", (chunk) => {
    chunks.push(chunk as Buffer);
  });
  const ended = new Promise<void>((resolve) => pack.on("end", () => resolve()));
  for (const [name, content] of Object.entries(files)) {
    if (Buffer.isBuffer(content)) pack.entry({ name: name.slice(1) }, content);
    else pack.entry({ name: name.slice(1), type: "symlink", linkname: content.symlink });
  }
  pack.finalize();
  await ended;
  return Buffer.concat(chunks);
}

/** An OCI layout folder with these layers, as an image exporter would write it. */
async function ociImage(dir: string, layers: Buffer[]): Promise<string> {
  const blob = async (data: Buffer | string) => {
    const digest = createHash("sha256").update(data).digest("hex");
    await mkdir(path.join(dir, "blobs/sha256"), { recursive: true });
    await writeFile(path.join(dir, "blobs/sha256", digest), data);
    return { digest: `sha256:${digest}`, size: Buffer.byteLength(data) };
  };
  const config = await blob(JSON.stringify({ os: "linux", architecture: "amd64", history: [] }));
  const layerDescriptors = [];
  for (const data of layers)
    layerDescriptors.push({ mediaType: "application/vnd.oci.image.layer.v1.tar", ...(await blob(data)) });
  const manifest = await blob(
    JSON.stringify({
      schemaVersion: 2,
      config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
      layers: layerDescriptors,
    }),
  );
  await writeFile(
    path.join(dir, "index.json"),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", ...manifest }],
    }),
  );
  return dir;
}

describe("missing libraries", () => {
  const site = "/app/.venv/lib/python3.11/site-packages";
  const lib = "/usr/lib/x86_64-linux-gnu";

  it("lists what an extension module needs and the image lacks, with the Debian package", async () => {
    const base = await layerTar({
      "/etc/os-release": Buffer.from("ID=debian\nVERSION_CODENAME=bookworm\n"),
      [`${lib}/libc.so.6`]: await readFile(`${lib}/libc.so.6`),
      "/lib": { symlink: "usr/lib" },
    });
    const app = await layerTar({
      "/app/.venv/pyvenv.cfg": Buffer.from("home = /usr/bin\n"),
      [`${site}/_ssl.cpython-311-x86_64-linux-gnu.so`]: await readFile(SSL_MODULE),
    });
    const dir = await mkdtemp(path.join(tmpdir(), "couplet-libs-test-"));
    try {
      const report = await inspectImage(await openImageArchive(await ociImage(dir, [base, app])));
      expect(report.sharedObjectsChecked).toBe(1);
      expect(report.missingLibraries).toEqual([
        {
          file: `${site}/_ssl.cpython-311-x86_64-linux-gnu.so`,
          needed: "libssl.so.3",
          debianPackage: "libssl3",
        },
        {
          file: `${site}/_ssl.cpython-311-x86_64-linux-gnu.so`,
          needed: "libcrypto.so.3",
          debianPackage: "libssl3",
        },
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("names trixie's package when the image is trixie, and finds libraries through /lib symlinks", async () => {
    const base = await layerTar({
      "/etc/os-release": Buffer.from('ID=debian\nVERSION_CODENAME="trixie"\n'),
      [`${lib}/libc.so.6`]: await readFile(`${lib}/libc.so.6`),
      "/lib": { symlink: "usr/lib" },
      [`${lib}/libcrypto.so.3`]: await readFile(`${lib}/libcrypto.so.3`),
    });
    const app = await layerTar({
      [`${site}/_ssl.cpython-311-x86_64-linux-gnu.so`]: await readFile(SSL_MODULE),
    });
    const dir = await mkdtemp(path.join(tmpdir(), "couplet-libs-test-"));
    try {
      const report = await inspectImage(await openImageArchive(await ociImage(dir, [base, app])));
      expect(report.missingLibraries).toEqual([
        {
          file: `${site}/_ssl.cpython-311-x86_64-linux-gnu.so`,
          needed: "libssl.so.3",
          debianPackage: "libssl3t64",
        },
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("follows $ORIGIN paths to a wheel's bundled .libs folder", async () => {
    const siteDir = path.dirname(path.dirname(psycopgModule));
    const files: Record<string, Buffer> = {};
    for (const sub of ["psycopg2", "psycopg2_binary.libs"])
      for (const name of await readdir(path.join(siteDir, sub)))
        if (name.includes(".so"))
          files[`${site}/${sub}/${name}`] = await readFile(path.join(siteDir, sub, name));
    // The system libraries they need (glibc, zlib, ...), taken from this machine.
    const system: Record<string, Buffer> = {};
    const bundledNames = new Set(Object.keys(files).map((f) => path.posix.basename(f)));
    for (const data of Object.values(files))
      for (const name of readElf(data)?.needed ?? [])
        if (!bundledNames.has(name)) system[`${lib}/${name}`] = await readFile(`${lib}/${name}`);
    const dir = await mkdtemp(path.join(tmpdir(), "couplet-libs-test-"));
    try {
      const withLibs = await inspectImage(
        await openImageArchive(await ociImage(dir, [await layerTar(system), await layerTar(files)])),
      );
      expect(withLibs.sharedObjectsChecked).toBe(Object.keys(files).length);
      expect(withLibs.missingLibraries).toEqual([]);
      // Without the bundled folder, the module's libpq is missing (and has no Debian package: it is renamed).
      const moduleOnly = Object.fromEntries(
        Object.entries(files).filter(([name]) => name.includes("/psycopg2/")),
      );
      await rm(dir, { recursive: true, force: true });
      const without = await inspectImage(
        await openImageArchive(await ociImage(dir, [await layerTar(system), await layerTar(moduleOnly)])),
      );
      expect(without.missingLibraries.map((m) => m.needed)).toEqual([
        expect.stringMatching(/^libpq-[0-9a-f]+\.so\.5/),
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
