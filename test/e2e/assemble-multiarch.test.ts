// End to end: `couplet assemble --platform linux/amd64,linux/arm64` from a two-platform base index in a registry on
// loopback: one image per platform from that platform's wheels, an index over them (OCI archive, layout and push).
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { promisify } from "node:util";
import { createGunzip } from "node:zlib";
import { extract } from "tar-stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AssembleReport } from "../../src/assemble/assemble.js";
import { readElf } from "../../src/image/elf.js";
import type { InspectReport } from "../../src/image/inspect.js";
import { ensureBaseImage } from "../support/base-image.js";
import { buildah, imageId, removeImages, runInImage } from "../support/buildah.js";
import { type CliResult as Result, couplet as runCouplet } from "../support/cli.js";
import { type Registry, startRegistry } from "../support/registry.js";

const run = promisify(execFile);
const repo = new URL("../..", import.meta.url).pathname;
const runId = `${process.pid}-${Date.now()}`;
const ELF_X86_64 = 62;
const ELF_AARCH64 = 183;

const couplet = (args: string[], env: NodeJS.ProcessEnv) => runCouplet(args, { env });

async function sha256(file: string): Promise<string> {
  return createHash("sha256")
    .update(await readFile(file))
    .digest("hex");
}

interface Index {
  manifests: { mediaType: string; digest: string; platform?: { os: string; architecture: string } }[];
}

/** e_machine of every shared object in a gzipped layer blob. */
async function sharedObjects(blob: string): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  const reader = extract();
  reader.on("entry", (header, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: unknown) => {
      if (/\.so(\.\d+)*$/.test(header.name)) chunks.push(chunk as Buffer);
    });
    stream.on("end", () => {
      const elf = chunks.length > 0 ? readElf(Buffer.concat(chunks)) : undefined;
      if (elf) found.set(header.name, elf.machine);
      next();
    });
    stream.resume();
  });
  await pipeline(createReadStream(blob), createGunzip(), reader);
  return found;
}

describe("couplet assemble for two platforms", () => {
  let work: string;
  let registry: Registry;
  let baseRef: string;
  let first: Result;
  let report: AssembleReport;
  let target: string;
  const env = (name: string): NodeJS.ProcessEnv => ({
    ...process.env,
    COUPLET_CACHE: join(work, name, "cache"),
    SOURCE_DATE_EPOCH: "1700000000",
  });
  const blob = (name: string, digest: string) => join(work, name, "oci", "blobs", "sha256", digest.slice(7));

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "couplet-e2e-multiarch-"));
    const amd64 = await ensureBaseImage({ debian: "bookworm", flavor: "slim" });
    // Debootstrapped for arm64 (second stage under qemu) by scripts/make-base-image; cached after the first time.
    const arm64 = await ensureBaseImage({ debian: "bookworm", flavor: "slim", arch: "arm64" });
    registry = await startRegistry();
    // The base as the official images are published: one tag, an index over both platforms (made by buildah).
    baseRef = `${registry.address}/python:bookworm-slim`;
    const list = `localhost/couplet-e2e-multiarch-base:${runId}`;
    for (const args of [
      ["manifest", "create", list],
      ["manifest", "add", list, `containers-storage:${amd64}`],
      ["manifest", "add", list, `containers-storage:${arm64}`],
      ["manifest", "push", "--all", "--tls-verify=false", list, `docker://${baseRef}`],
      ["manifest", "rm", list],
    ]) {
      const done = await buildah(args);
      if (done.code !== 0) throw new Error(`buildah ${args.join(" ")}: ${done.stderr}`);
    }
    target = `${registry.address}/couplet-e2e/cli-multi:${runId}`;
    for (const name of ["a", "b"]) {
      await mkdir(join(work, name));
      await cp(join(repo, "examples/cli-tool"), join(work, name, "cli-tool"), { recursive: true });
    }
    const args = (name: string) => [
      "assemble",
      join(work, name, "cli-tool"),
      "--base",
      baseRef,
      "--platform",
      "linux/amd64,linux/arm64",
      "--output",
      join(work, name, "multi.tar"),
      "--oci-layout",
      join(work, name, "oci"),
      "--json",
    ];
    first = await couplet([...args("a"), "--push", target], env("a"));
    if (first.code !== 0) throw new Error(`couplet assemble failed:\n${first.stderr}`);
    report = JSON.parse(first.stdout) as AssembleReport;
  }, 30 * 60_000);

  afterAll(async () => {
    await registry?.stop();
    await removeImages(target);
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("writes an index over both platforms, each image from its own platform's wheels", async () => {
    expect(report.images.map((image) => image.platform)).toEqual(["linux/amd64", "linux/arm64"]);
    const wheels = report.images.map((image) => image.packages.find((pkg) => pkg.name === "pyyaml")?.wheel);
    expect(wheels[0]).toMatch(/manylinux_2_17_x86_64/);
    expect(wheels[1]).toMatch(/manylinux_2_17_aarch64/);
    // The layout: index.json names the image index by the tag; the index lists one manifest per platform.
    const top = JSON.parse(await readFile(join(work, "a", "oci", "index.json"), "utf8")) as Index;
    expect(top.manifests).toHaveLength(1);
    expect(top.manifests[0]?.digest).toBe(report.digest);
    const index = JSON.parse(await readFile(blob("a", report.digest), "utf8")) as Index;
    expect(index.manifests.map((entry) => [entry.platform?.architecture, entry.digest])).toEqual([
      ["amd64", report.images[0]?.manifestDigest],
      ["arm64", report.images[1]?.manifestDigest],
    ]);
    expect(first.stderr).toMatch(/a docker-archive holds one image, not an index/);
  });

  it("puts aarch64 shared objects in the arm64 image and x86-64 ones in the amd64 image (ELF e_machine)", async () => {
    const machines = async (index: number) => {
      const layer = report.images[index]?.layers.find((entry) => entry.holds.startsWith("pyyaml"));
      if (!layer) throw new Error("no pyyaml layer");
      return [...(await sharedObjects(blob("a", layer.digest))).values()];
    };
    const amd64 = await machines(0);
    const arm64 = await machines(1);
    expect(arm64.length).toBeGreaterThan(0);
    expect(new Set(arm64)).toEqual(new Set([ELF_AARCH64]));
    expect(new Set(amd64)).toEqual(new Set([ELF_X86_64]));
  });

  it("passes couplet inspect's missing-library check for each platform's image", async () => {
    // inspect opens a layout's image for this machine's platform; a layout naming one platform's manifest (the
    // same blobs, linked) lets it read the other one.
    for (const [index, image] of report.images.entries()) {
      const view = join(work, `oci-${index}`);
      await mkdir(view);
      await symlink(join(work, "a", "oci", "blobs"), join(view, "blobs"));
      await writeFile(join(view, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
      const manifest = {
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        digest: image.manifestDigest,
      };
      const size = (await readFile(blob("a", image.manifestDigest))).length;
      await writeFile(
        join(view, "index.json"),
        JSON.stringify({ schemaVersion: 2, manifests: [{ ...manifest, size }] }),
      );
      const inspected = await couplet(
        ["inspect", view, "--format", "json", "--fail-on", "missing-libraries"],
        env("a"),
      );
      expect(inspected.code, `${image.platform}: ${inspected.stderr}`).toBe(0);
      const found = JSON.parse(inspected.stdout) as InspectReport;
      // The platform's own image was read, and its extension modules (pyyaml's, at least) were checked.
      expect(`linux/${found.image.architecture}`).toBe(image.platform);
      expect(found.sharedObjectsChecked, image.platform).toBeGreaterThan(0);
      expect(found.missingLibraries, image.platform).toEqual([]);
    }
  });

  it("gives the same index digest and byte-identical archive from empty caches in another folder", async () => {
    const second = await couplet(
      [
        "assemble",
        join(work, "b", "cli-tool"),
        "--base",
        baseRef,
        "--platform",
        "linux/amd64,linux/arm64",
        "--output",
        join(work, "b", "multi.tar"),
        "--oci-layout",
        join(work, "b", "oci"),
        "--json",
      ],
      env("b"),
    );
    expect(second.code, second.stderr).toBe(0);
    expect((JSON.parse(second.stdout) as AssembleReport).digest).toBe(report.digest);
    expect(await sha256(join(work, "b", "multi.tar"))).toBe(await sha256(join(work, "a", "multi.tar")));
  });

  it("pushes the index: buildah pulls and runs the amd64 image, and the arm64 one under qemu emulation", async () => {
    expect(report.outputs.pushed?.digest).toBe(report.digest);
    // Every base layer is mounted from the base's repository, none sent.
    const base = report.outputs.pushed?.blobs.filter((entry) => entry.what === "base layer") ?? [];
    expect(base.length).toBe(2);
    expect(base.every((entry) => entry.how === "mounted")).toBe(true);

    const env = { ...process.env, CONTAINERS_REGISTRIES_CONF: registry.registriesConf };
    await run("buildah", ["--storage-driver", "overlay", "pull", "--arch", "amd64", target], { env });
    expect(`sha256:${await imageId(target)}`).toBe(report.images[0]?.configDigest);
    const amd64 = await runInImage(target, ["sh", "-c", 'uname -m; echo "a: [1, 2]" | yamlstat -']);
    expect(amd64.stdout).toBe("x86_64\nyamlstat: document 0 has 3 nodes (pyyaml 6.0.2, libyaml)\n");
    await removeImages(target);

    await run("buildah", ["--storage-driver", "overlay", "pull", "--arch", "arm64", target], { env });
    expect(`sha256:${await imageId(target)}`).toBe(report.images[1]?.configDigest);
    const arm64 = await runInImage(target, ["sh", "-c", 'uname -m; echo "a: [1, 2]" | yamlstat -']);
    expect(arm64.stdout).toBe("aarch64\nyamlstat: document 0 has 3 nodes (pyyaml 6.0.2, libyaml)\n");
  });
});
