// Property-based: whatever an image archive holds (JSON of any shape, cut or flipped tar bytes, odd gzip and zstd
// streams), inspect either reports on it or stops with one line (a UserError, exit 2); never a crash or a hang.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fuzzParameters } from "../../test/support/fuzz.js";
import { configFor, gzip, makeTar, ociLayout, sha256, zstd } from "../../test/support/image-archive.js";
import { UserError } from "../errors.js";
import { openImageArchive } from "./archive.js";
import { scanImage } from "./inspect.js";

/** Memory one case may leave behind; a case that keeps a bomb's contents goes far past it. */
const HEAP_LIMIT = 1024 * 1024 * 1024;

let dir: string;
let counter = 0;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "couplet-archive-fuzz-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Inspect `target` (a small budget, so the budget path is exercised too): a report or one clean line, nothing else. */
async function inspectOrRefuse(target: string): Promise<"report" | "refused"> {
  try {
    const { report } = await scanImage(await openImageArchive(target), { budgetBytes: 4096 });
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
    return "report";
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    expect(error.exitCode).toBe(2);
    expect(error.message).not.toMatch(/[\n\r]/);
    expect(error.message.length).toBeLessThan(2000);
    return "refused";
  } finally {
    expect(process.memoryUsage().heapUsed).toBeLessThan(HEAP_LIMIT);
  }
}

async function writeCase(data: Buffer): Promise<string> {
  const file = path.join(dir, `case-${counter++}.tar`);
  await writeFile(file, data);
  return file;
}

async function writeLayout(files: Map<string, Buffer>): Promise<string> {
  const root = path.join(dir, `layout-${counter++}`);
  for (const [name, data] of files) {
    await mkdir(path.dirname(path.join(root, name)), { recursive: true });
    await writeFile(path.join(root, name), data);
  }
  return root;
}

/** A JSON value of any shape, leaning towards the ones the readers look at (arrays, objects, null, strings). */
const anyJson = fc.oneof(
  fc.constant(null),
  fc.jsonValue({ maxDepth: 3 }),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
);

/** Either the well-formed value or anything at all. */
const orAnything = <T>(good: T) => fc.oneof(fc.constant(good), anyJson);

const LAYER = makeTar([
  { name: "etc/os-release", body: "VERSION_CODENAME=bookworm\n" },
  { name: "app/main.py", body: "print(1)\n" },
  { name: "usr/local/lib/python3.11/site-packages/p-1.0.dist-info/RECORD", body: "p/__init__.py,,3\n" },
]);

describe("docker-archive with JSON of any shape", () => {
  it("reports or refuses with one line", async () => {
    const layer = await LAYER;
    const layerName = `${sha256(layer)}/layer.tar`;
    const config = JSON.parse(configFor(1, [{ created_by: "RUN x" }])) as Record<string, unknown>;
    const configArb = fc.oneof(
      anyJson,
      fc.record({
        architecture: orAnything("amd64"),
        os: orAnything("linux"),
        config: fc.oneof(orAnything(config.config), fc.record({ Env: anyJson })),
        history: fc.oneof(orAnything(config.history), fc.array(anyJson, { maxLength: 3 })),
      }),
    );
    const manifestArb = fc.oneof(
      anyJson,
      fc.array(
        fc.record({
          Config: orAnything("config.json"),
          RepoTags: orAnything(["x:1"]),
          Layers: fc.oneof(orAnything([layerName]), fc.array(anyJson, { maxLength: 2 })),
        }),
        { maxLength: 2 },
      ),
    );
    await fc.assert(
      fc.asyncProperty(configArb, manifestArb, async (configJson, manifestJson) => {
        const tar = await makeTar([
          { name: "config.json", body: JSON.stringify(configJson) ?? "" },
          { name: "manifest.json", body: JSON.stringify(manifestJson) ?? "" },
          { name: layerName, body: layer },
        ]);
        await inspectOrRefuse(await writeCase(tar));
      }),
      fuzzParameters(100, { timeout: 10_000 }),
    );
  });
});

describe("OCI layout with JSON of any shape and digests of any spelling", () => {
  it("reports or refuses with one line, and never reads outside blobs/", async () => {
    const layer = gzip(await LAYER);
    const good = ociLayout(
      [{ data: layer, mediaType: "application/vnd.oci.image.layer.v1.tar+gzip" }],
      configFor(1, [{ created_by: "RUN x" }]),
    );
    const blobs = [...good.keys()].filter((name) => name.startsWith("blobs/"));
    const digestArb = fc.oneof(
      fc.constantFrom(...blobs.map((name) => `sha256:${path.basename(name)}`)),
      fc.constantFrom("sha256:../../../etc/passwd", "sha256:", ":", "sha256:ABC", `md5:${"0".repeat(32)}`),
      fc.string({ maxLength: 80 }),
      anyJson,
    );
    const descriptorArb = fc.oneof(
      anyJson,
      fc.record({
        mediaType: orAnything("application/vnd.oci.image.manifest.v1+json"),
        digest: digestArb,
        size: orAnything(10),
        platform: orAnything({ os: "linux", architecture: "amd64" }),
      }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          anyJson,
          fc.record({ schemaVersion: fc.constant(2), manifests: fc.array(descriptorArb, { maxLength: 3 }) }),
        ),
        fc.oneof(
          anyJson,
          fc.record({ config: descriptorArb, layers: fc.array(descriptorArb, { maxLength: 2 }) }),
        ),
        async (index, manifest) => {
          const files = new Map(good);
          files.set("index.json", Buffer.from(JSON.stringify(index) ?? ""));
          // A mutated manifest under a name the index may point at.
          const text = Buffer.from(JSON.stringify(manifest) ?? "");
          files.set(`blobs/sha256/${sha256(text)}`, text);
          await inspectOrRefuse(await writeLayout(files));
        },
      ),
      fuzzParameters(60, { timeout: 10_000 }),
    );
  });
});

/** A well-formed docker-archive (or OCI archive) whose bytes the next properties cut and flip. */
async function goodArchive(layerBlob: Buffer, oci: boolean): Promise<Buffer> {
  const config = configFor(1, [{ created_by: "RUN x" }]);
  if (oci) {
    const files = ociLayout(
      [{ data: layerBlob, mediaType: "application/vnd.oci.image.layer.v1.tar+gzip" }],
      config,
    );
    return makeTar([...files].map(([name, body]) => ({ name, body })));
  }
  const layerName = `${sha256(layerBlob)}/layer.tar`;
  return makeTar([
    { name: "config.json", body: config },
    { name: "manifest.json", body: JSON.stringify([{ Config: "config.json", Layers: [layerName] }]) },
    { name: layerName, body: layerBlob },
  ]);
}

/** Byte edits: set a byte, or cut the data short. */
const editArb = fc.oneof(
  fc.record({ kind: fc.constant("set" as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant("cut" as const), at: fc.nat() }),
);

function applyEdits(data: Buffer, edits: { kind: "set" | "cut"; at: number; value?: number }[]): Buffer {
  let out = Buffer.from(data);
  for (const edit of edits) {
    if (out.length === 0) break;
    const at = edit.at % out.length;
    if (edit.kind === "cut") out = out.subarray(0, at);
    else out[at] = edit.value ?? 0;
  }
  return out;
}

describe("truncated and mutated tar headers", () => {
  it("outer archive: reports or refuses with one line", async () => {
    const layer = gzip(await LAYER);
    const archives = [await goodArchive(layer, false), await goodArchive(layer, true)];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(0, 1),
        // Edits aimed at the header blocks (the first 512 bytes of each 512-byte-aligned block) and anywhere.
        fc.array(editArb, { minLength: 1, maxLength: 4 }),
        async (which, edits) => {
          await inspectOrRefuse(await writeCase(applyEdits(archives[which] as Buffer, edits)));
        },
      ),
      fuzzParameters(150, { timeout: 10_000 }),
    );
  });

  it("layer tar (plain, gzip, zstd): reports or refuses with one line", async () => {
    const plain = await LAYER;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("none", "gzip", "zstd"),
        fc.array(editArb, { maxLength: 4 }),
        fc.boolean(),
        async (compression, edits, before) => {
          // Edit the tar before compressing (a well-formed stream of a broken tar) or after (a broken stream).
          const tarBytes = before ? applyEdits(plain, edits) : plain;
          let blob =
            compression === "gzip" ? gzip(tarBytes) : compression === "zstd" ? zstd(tarBytes) : tarBytes;
          if (!before) blob = applyEdits(blob, edits);
          await inspectOrRefuse(await writeCase(await goodArchive(blob, false)));
        },
      ),
      // Fewer runs: each zstd case spawns the zstd tool.
      fuzzParameters(60, { timeout: 10_000 }),
    );
  });
});

describe("pax records of any value", () => {
  it("on any entry of the outer archive or inside a layer: reports or refuses with one line", async () => {
    const paxArb = fc.record(
      {
        size: fc.oneof(
          { arbitrary: fc.constantFrom("1.5", "-1", "1e3", " 7", "0x10", "99999999999", "3"), weight: 3 },
          { arbitrary: fc.string({ maxLength: 12 }), weight: 1 },
        ),
        path: fc.string(),
      },
      { requiredKeys: ["size"] },
    );
    const whereArb = fc.constantFrom("config", "manifest", "layer", "inside the layer");
    await fc.assert(
      fc.asyncProperty(paxArb, whereArb, async (paxRecords, where) => {
        const pax = paxRecords as Record<string, string>;
        const on = (name: string) => (where === name ? { pax } : {});
        const layer =
          where === "inside the layer" ? await makeTar([{ name: "a.txt", body: "abc", pax }]) : await LAYER;
        const layerName = `${sha256(layer)}/layer.tar`;
        const tar = await makeTar([
          { name: "config.json", body: configFor(1, [{ created_by: "RUN x" }]), ...on("config") },
          {
            name: "manifest.json",
            body: JSON.stringify([{ Config: "config.json", Layers: [layerName] }]),
            ...on("manifest"),
          },
          { name: layerName, body: layer, ...on("layer") },
        ]);
        await inspectOrRefuse(await writeCase(tar));
      }),
      fuzzParameters(100, { timeout: 10_000 }),
    );
  });
});

describe("compressed stream oddities", () => {
  it.each([
    [
      "two gzip members back to back",
      async () => Buffer.concat([gzip((await LAYER).subarray(0, 1024)), gzip((await LAYER).subarray(1024))]),
    ],
    ["gzip followed by garbage", async () => Buffer.concat([gzip(await LAYER), Buffer.from("garbage")])],
    ["gzip header alone", async () => gzip(await LAYER).subarray(0, 10)],
    ["zstd magic alone", async () => Buffer.from([0x28, 0xb5, 0x2f, 0xfd])],
    [
      "zstd cut in the middle",
      async () => {
        const z = zstd(await LAYER);
        return z.subarray(0, z.length >> 1);
      },
    ],
    ["an empty blob", async () => Buffer.alloc(0)],
    [
      "a pax size of 1.5 inside the layer",
      async () => {
        const tar = await makeTar([{ name: "a.txt", body: "x", pax: { size: "1.5" } }]);
        return gzip(tar);
      },
    ],
  ])("%s: reports or refuses with one line", async (_name, make) => {
    await inspectOrRefuse(await writeCase(await goodArchive(await make(), false)));
  });
});
