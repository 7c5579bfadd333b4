import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { type Pack, pack } from "tar-stream";
import { describe, expect, it } from "vitest";
import { readBaseCached } from "./base-cache.js";
import { AssembleCache } from "./cache.js";

const sha = (data: Buffer) => createHash("sha256").update(data).digest("hex");

/** An uncompressed layer with what readBase looks for: python3 → python3.11 on PATH, and libc.so.6. */
async function layer(machine: string, python = "3.11.2", more?: (packer: Pack) => void): Promise<Buffer> {
  const packer = pack();
  const chunks: Buffer[] = [];
  packer.on("data", (chunk: unknown) => chunks.push(chunk as Buffer));
  const ended = new Promise<void>((resolve) => packer.on("end", () => resolve()));
  packer.entry({ name: "usr/bin/python3", type: "symlink", linkname: "python3.11" });
  packer.entry({ name: "usr/bin/python3.11", mode: 0o755 }, Buffer.from(`\x00${python}\0`));
  packer.entry(
    { name: `usr/lib/${machine}-linux-gnu/libc.so.6` },
    Buffer.from("GNU C Library (Debian GLIBC 2.36-9) stable release version 2.36.\n"),
  );
  // What the library check needs: a merged-/usr link, a library folder from ld.so.conf.d, the release.
  packer.entry({ name: "lib", type: "symlink", linkname: "usr/lib" });
  packer.entry({ name: "etc/ld.so.conf.d/odbc.conf" }, Buffer.from("# unixODBC\n/opt/odbc/lib\n"));
  packer.entry({ name: "opt/odbc/lib/libodbc.so.2.0.0" }, Buffer.from("\x7fELF"));
  packer.entry({ name: "opt/odbc/lib/libodbc.so.2", type: "symlink", linkname: "libodbc.so.2.0.0" });
  packer.entry({ name: "etc/os-release", type: "symlink", linkname: "../usr/lib/os-release" });
  packer.entry({ name: "usr/lib/os-release" }, Buffer.from('ID=debian\nVERSION_CODENAME="bookworm"\n'));
  more?.(packer);
  packer.finalize();
  await ended;
  return Buffer.concat(chunks);
}

describe("readBaseCached", () => {
  it("keeps each platform of an OCI layout's index apart (the second platform is not the first one's record)", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "couplet-base-cache-"));
    const layout = path.join(dir, "layout");
    const blobs = path.join(layout, "blobs", "sha256");
    mkdirSync(blobs, { recursive: true });
    const put = (data: Buffer) => {
      writeFileSync(path.join(blobs, sha(data)), data);
      return { digest: `sha256:${sha(data)}`, size: data.length };
    };
    const manifests = [];
    for (const [architecture, machine] of [
      ["amd64", "x86_64"],
      ["arm64", "aarch64"],
    ] as const) {
      const tar = await layer(machine);
      const config = put(
        Buffer.from(
          JSON.stringify({
            architecture,
            os: "linux",
            config: { Env: ["PATH=/usr/bin"] },
            rootfs: { type: "layers", diff_ids: [`sha256:${sha(tar)}`] },
          }),
        ),
      );
      const manifest = put(
        Buffer.from(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: "application/vnd.oci.image.manifest.v1+json",
            config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
            layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", ...put(tar) }],
          }),
        ),
      );
      manifests.push({
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        ...manifest,
        platform: { os: "linux", architecture },
      });
    }
    writeFileSync(path.join(layout, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
    writeFileSync(path.join(layout, "index.json"), JSON.stringify({ schemaVersion: 2, manifests }));
    const cache = new AssembleCache(path.join(dir, "cache"));
    const read = (architecture: string) =>
      readBaseCached(layout, cache, { cacheDir: dir, platform: { os: "linux", architecture } });
    const amd64 = await read("amd64");
    const arm64 = await read("arm64");
    expect([amd64.base.architecture, amd64.base.machine]).toEqual(["amd64", "x86_64"]);
    expect([arm64.cached, arm64.base.architecture, arm64.base.machine]).toEqual([false, "arm64", "aarch64"]);
    const again = await read("arm64");
    expect([again.cached, again.base.machine, again.layers[0]?.digest]).toEqual([
      true,
      "aarch64",
      arm64.layers[0]?.digest,
    ]);
  });

  it("keeps the base's library index with its facts, and reads again a record kept without one", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "couplet-base-cache-"));
    const archive = path.join(dir, "base.tar");
    await writeDockerArchive(archive, await layer("x86_64"));
    const cache = new AssembleCache(path.join(dir, "cache"));
    const read = () => readBaseCached(archive, cache, { cacheDir: dir });
    const first = await read();
    const expected = {
      files: expect.arrayContaining([
        "/usr/lib/x86_64-linux-gnu/libc.so.6",
        "/opt/odbc/lib/libodbc.so.2",
        "/opt/odbc/lib/libodbc.so.2.0.0",
      ]),
      folderLinks: [["/lib", "usr/lib"]],
      ldConfigDirs: ["/opt/odbc/lib"],
      ldLibraryPath: ["/opt/lib"],
      release: "bookworm",
    };
    expect(first.base.libraries).toEqual(expected);
    expect(first.base.libraries.files).toHaveLength(3);
    const again = await read();
    expect([again.cached, again.base.libraries]).toEqual([true, expected]);
    // The record an older couplet kept: the same facts without the library index.
    const records = path.join(dir, "cache", "assemble", "base");
    const [shard] = readdirSync(records);
    const [name] = readdirSync(path.join(records, shard as string));
    const file = path.join(records, shard as string, name as string);
    const record = JSON.parse(readFileSync(file, "utf8")) as { facts: { libraries?: unknown } };
    delete record.facts.libraries;
    writeFileSync(file, JSON.stringify(record));
    const reread = await read();
    expect([reread.cached, reread.base.libraries]).toEqual([false, expected]);
  });
});

describe("the base's Debian packages", () => {
  // dpkg's status file of the bookworm stand-in base (scripts/make-base-image) after `apt-get install ssdeep
  // unixodbc-common` and `dpkg -r unixodbc-common`, cut to ten of its 142 stanzas (test/fixtures/dpkg/README.md).
  const status = readFileSync(new URL("../../test/fixtures/dpkg/status", import.meta.url));
  const stanzas = status.toString("utf8").trimEnd().split("\n\n");
  /** The same database after `apt-get purge ssdeep`: its stanza gone. */
  const purged = Buffer.from(`${stanzas.filter((s) => !s.startsWith("Package: ssdeep\n")).join("\n\n")}\n`);
  const withStatus = (data: Buffer) => (packer: Pack) => packer.entry({ name: "var/lib/dpkg/status" }, data);
  async function readArchive(layers: Buffer[]) {
    const dir = mkdtempSync(path.join(tmpdir(), "couplet-base-dpkg-"));
    const archive = path.join(dir, "base.tar");
    await writeDockerArchive(archive, layers);
    const cache = new AssembleCache(path.join(dir, "cache"));
    return { read: () => readBaseCached(archive, cache, { cacheDir: dir }), cache: path.join(dir, "cache") };
  }

  it("lists what dpkg's status says is installed, and keeps it with the facts (a record without it is read again)", async () => {
    const { read, cache } = await readArchive([await layer("x86_64", "3.11.2", withStatus(status))]);
    const first = await read();
    expect(first.base.dpkg).toEqual({
      installed: [
        "apt:amd64",
        "ca-certificates:all",
        "dpkg:amd64",
        "libc6:amd64",
        "libpython3.11-stdlib:amd64",
        "libssl3:amd64",
        "python3.11-minimal:amd64",
        "ssdeep:amd64",
        "tzdata:all",
      ],
      provided: ["apt-transport-https:amd64", "tzdata-bookworm:all"],
      database: ["/var/lib/dpkg/status"],
      aptGet: false,
    });
    const again = await read();
    expect([again.cached, again.base.dpkg]).toEqual([true, first.base.dpkg]);
    // The record an older couplet kept: the same facts without the package list.
    const records = path.join(cache, "assemble", "base");
    const [shard] = readdirSync(records);
    const [name] = readdirSync(path.join(records, shard as string));
    const file = path.join(records, shard as string, name as string);
    const record = JSON.parse(readFileSync(file, "utf8")) as { facts: { dpkg?: unknown } };
    delete record.facts.dpkg;
    writeFileSync(file, JSON.stringify(record));
    const reread = await read();
    expect([reread.cached, reread.base.dpkg]).toEqual([false, first.base.dpkg]);
    // A record kept before the provided names were: read again too, or a trixie base kept refusing libmagic1.
    const older = JSON.parse(readFileSync(file, "utf8")) as { facts: { dpkg: { provided?: unknown } } };
    delete older.facts.dpkg.provided;
    writeFileSync(file, JSON.stringify(older));
    const refreshed = await read();
    expect([refreshed.cached, refreshed.base.dpkg]).toEqual([false, first.base.dpkg]);
  });

  it("takes the status file of the last layer that wrote it, not a union of the layers'", async () => {
    const { read } = await readArchive([
      await layer("x86_64", "3.11.2", withStatus(status)),
      await plainLayer([["var/lib/dpkg/status", purged], ["usr/bin/apt-get"]]),
    ]);
    const { dpkg } = (await read()).base;
    expect(dpkg?.installed).toContain("libc6:amd64");
    expect(dpkg?.installed).not.toContain("ssdeep:amd64");
    expect(dpkg?.aptGet).toBe(true);
  });

  it("has no database when a later layer's whiteout removed the status file", async () => {
    const { read } = await readArchive([
      await layer("x86_64", "3.11.2", withStatus(status)),
      await plainLayer([["var/lib/dpkg/.wh.status"]]),
    ]);
    expect((await read()).base.dpkg).toBeNull();
  });

  it("reads a distroless-style status.d (a package's control fields per file, no Status) and skips its .md5sums", async () => {
    const files: [string, Buffer][] = stanzas.slice(0, 3).flatMap((stanza) => {
      const name = /^Package: (.+)$/m.exec(stanza)?.[1] as string;
      const control = stanza.replace(/^Status: .*\n/m, "");
      return [
        [`var/lib/dpkg/status.d/${name}`, Buffer.from(`${control}\n`)],
        [`var/lib/dpkg/status.d/${name}.md5sums`, Buffer.from(`Package: not-a-package\n`)],
      ];
    });
    const { read } = await readArchive([
      await layer("x86_64", "3.11.2", (packer) => {
        for (const [name, data] of files) packer.entry({ name }, data);
      }),
    ]);
    expect((await read()).base.dpkg).toEqual({
      installed: ["apt:amd64", "ca-certificates:all", "dpkg:amd64"],
      provided: ["apt-transport-https:amd64"],
      database: ["/var/lib/dpkg/status.d"],
      aptGet: false,
    });
  });
});

describe("readBaseCached with a registry base", () => {
  it("keeps the facts under the manifest digest: a second run reads none of the base's layers, a moved tag is read afresh", async () => {
    // A registry on loopback that serves the OCI distribution API's reads from a table of blobs and a movable tag.
    const blobs = new Map<string, Buffer>();
    const put = (data: Buffer) => {
      const digest = `sha256:${sha(data)}`;
      blobs.set(digest, data);
      return { digest, size: data.length };
    };
    const image = async (python: string) => {
      const tar = await layer("x86_64", python);
      const config = JSON.stringify({
        architecture: "amd64",
        os: "linux",
        config: { Env: ["PATH=/usr/bin"] },
        rootfs: { type: "layers", diff_ids: [`sha256:${sha(tar)}`] },
      });
      return put(
        Buffer.from(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: "application/vnd.oci.image.manifest.v1+json",
            config: { mediaType: "application/vnd.oci.image.config.v1+json", ...put(Buffer.from(config)) },
            layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", ...put(tar) }],
          }),
        ),
      ).digest;
    };
    let tagged = await image("3.11.2");
    const served: string[] = [];
    const server = createServer((req, res) => {
      served.push(req.url ?? "");
      const found = /^\/v2\/python\/(manifests|blobs)\/(.+)$/.exec(req.url ?? "");
      const digest = found?.[1] === "manifests" && found[2] === "3.11" ? tagged : found?.[2];
      const body = digest ? blobs.get(digest) : undefined;
      if (!body) {
        res.writeHead(404).end();
        return;
      }
      const type =
        found?.[1] === "manifests"
          ? "application/vnd.oci.image.manifest.v1+json"
          : "application/octet-stream";
      res.writeHead(200, { "content-type": type, "docker-content-digest": digest as string }).end(body);
    });
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    const dir = mkdtempSync(path.join(tmpdir(), "couplet-base-cache-"));
    const cache = new AssembleCache(path.join(dir, "cache"));
    const ref = `127.0.0.1:${(server.address() as AddressInfo).port}/python:3.11`;
    const read = () => readBaseCached(ref, cache, { cacheDir: path.join(dir, "blobs") });
    try {
      const first = await read();
      expect([first.cached, first.base.python.version, first.base.origin?.manifestDigest]).toEqual([
        false,
        "3.11.2",
        tagged,
      ]);
      served.length = 0;
      const again = await read();
      // The manifest is asked for (the tag may have moved); no blob is fetched, and the facts are the record's.
      expect(served).toEqual(["/v2/python/manifests/3.11"]);
      expect(again.cached).toBe(true);
      expect(again.layers).toEqual(first.layers);
      const { opened: _a, ...firstFacts } = first.base;
      const { opened: _b, ...againFacts } = again.base;
      expect(againFacts).toEqual(firstFacts);
      expect(again.base.opened.layers).toEqual(first.base.opened.layers);

      // The tag now names another image: another manifest digest, so its layers are fetched and read.
      tagged = await image("3.11.9");
      const moved = await read();
      expect([moved.cached, moved.base.python.version, moved.base.origin?.manifestDigest]).toEqual([
        false,
        "3.11.9",
        tagged,
      ]);
    } finally {
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
    }
  });
});

/** An uncompressed layer of just these entries (`data` undefined: an empty file). */
async function plainLayer(entries: [name: string, data?: Buffer][]): Promise<Buffer> {
  const packer = pack();
  const chunks: Buffer[] = [];
  packer.on("data", (chunk: unknown) => chunks.push(chunk as Buffer));
  const ended = new Promise<void>((resolve) => packer.on("end", () => resolve()));
  for (const [name, data] of entries) packer.entry({ name }, data ?? Buffer.alloc(0));
  packer.finalize();
  await ended;
  return Buffer.concat(chunks);
}

/** A docker-archive of these layers, oldest first, with LD_LIBRARY_PATH set in its config. */
async function writeDockerArchive(file: string, tars: Buffer | Buffer[]): Promise<void> {
  const layers = Array.isArray(tars) ? tars : [tars];
  const config = Buffer.from(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      config: { Env: ["PATH=/usr/bin", "LD_LIBRARY_PATH=/opt/lib:relative"] },
      rootfs: { type: "layers", diff_ids: layers.map((tar) => `sha256:${sha(tar)}`) },
    }),
  );
  const packer = pack();
  const chunks: Buffer[] = [];
  packer.on("data", (chunk: unknown) => chunks.push(chunk as Buffer));
  const ended = new Promise<void>((resolve) => packer.on("end", () => resolve()));
  const configName = `${sha(config)}.json`;
  packer.entry({ name: configName }, config);
  const names = layers.map((_, index) => `${index}/layer.tar`);
  for (const [index, tar] of layers.entries()) packer.entry({ name: names[index] as string }, tar);
  packer.entry(
    { name: "manifest.json" },
    Buffer.from(JSON.stringify([{ Config: configName, RepoTags: [], Layers: names }])),
  );
  packer.finalize();
  await ended;
  writeFileSync(file, Buffer.concat(chunks));
}
