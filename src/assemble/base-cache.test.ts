import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { pack } from "tar-stream";
import { describe, expect, it } from "vitest";
import { readBaseCached } from "./base-cache.js";
import { AssembleCache } from "./cache.js";

const sha = (data: Buffer) => createHash("sha256").update(data).digest("hex");

/** An uncompressed layer with what readBase looks for: python3 → python3.11 on PATH, and libc.so.6. */
async function layer(machine: string, python = "3.11.2"): Promise<Buffer> {
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

/** A docker-archive of one layer, with LD_LIBRARY_PATH set in its config. */
async function writeDockerArchive(file: string, tar: Buffer): Promise<void> {
  const config = Buffer.from(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      config: { Env: ["PATH=/usr/bin", "LD_LIBRARY_PATH=/opt/lib:relative"] },
      rootfs: { type: "layers", diff_ids: [`sha256:${sha(tar)}`] },
    }),
  );
  const packer = pack();
  const chunks: Buffer[] = [];
  packer.on("data", (chunk: unknown) => chunks.push(chunk as Buffer));
  const ended = new Promise<void>((resolve) => packer.on("end", () => resolve()));
  const configName = `${sha(config)}.json`;
  packer.entry({ name: configName }, config);
  packer.entry({ name: "layer.tar" }, tar);
  packer.entry(
    { name: "manifest.json" },
    Buffer.from(JSON.stringify([{ Config: configName, RepoTags: [], Layers: ["layer.tar"] }])),
  );
  packer.finalize();
  await ended;
  writeFileSync(file, Buffer.concat(chunks));
}
