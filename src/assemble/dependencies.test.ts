import { createHash } from "node:crypto";
import { readdirSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { BytecodeCompiler, findHostPython } from "./bytecode.js";
import { AssembleCache } from "./cache.js";
import {
  type DependencyContext,
  dependencyLayers,
  groupPackages,
  prepareDependencies,
} from "./dependencies.js";
import { storeInCache, type WheelRequest } from "./download.js";

// A real setuptools wheel (see test/fixtures/wheels/README.md), served from the wheel cache only: its index is
// a closed port on loopback, so any attempt to download it fails.
const fixture = new URL("../../test/fixtures/wheels/demo_scripts-1.0-py3-none-any.whl", import.meta.url)
  .pathname;

async function setup() {
  const dir = await mkdtemp(path.join(tmpdir(), "couplet-deps-"));
  const data = await readFile(fixture);
  const sha256 = createHash("sha256").update(data).digest("hex");
  const wheelFile = path.join(dir, "wheels", "sha256", sha256.slice(0, 2), sha256);
  await storeInCache(wheelFile, data);
  const request: WheelRequest = {
    name: "demo-scripts",
    version: "1.0",
    filename: path.basename(fixture),
    sha256,
    index: "https://127.0.0.1:1/simple/",
  };
  const lines: string[] = [];
  const context = (created: Date): DependencyContext => ({
    venv: {
      root: "/app/.venv",
      sitePackages: "/app/.venv/lib/python3.11/site-packages",
      pythonName: "python3.11",
    },
    python: { executable: "/usr/bin/python3.11", version: "3.11.2" },
    created,
    cacheDir: dir,
    cache: new AssembleCache(dir),
    progress: (line) => lines.push(line),
  });
  return { dir, request, wheelFile, lines, context };
}

describe("dependencyLayers reuses finished layers by content", () => {
  it("a second run reuses the compressed layer without opening the wheel; a new timestamp packs anew", async () => {
    const { dir, request, wheelFile, lines, context } = await setup();
    const first = await dependencyLayers([request], context(new Date(1_700_000_000_000)));
    expect(first.layers).toHaveLength(1);
    expect(first.packages).toEqual([{ request, downloaded: false }]);
    // Without the wheel, only a cache hit can give the layer.
    await rm(wheelFile);
    lines.length = 0;
    const second = await dependencyLayers([request], context(new Date(1_700_000_000_000)));
    expect(second.layers.map((l) => [l.packed.digest, l.packed.diffId])).toEqual(
      first.layers.map((l) => [l.packed.digest, l.packed.diffId]),
    );
    expect(second.layers[0]?.packed.gzip.equals(first.layers[0]?.packed.gzip as Buffer)).toBe(true);
    expect(lines).toEqual([
      expect.stringMatching(/^layer [0-9a-f]{12} \d+ KiB \(cached\): demo-scripts 1\.0$/),
    ]);
    // The timestamp is in every tar header: another one is another layer, which needs the wheel again.
    await expect(dependencyLayers([request], context(new Date(1_600_000_000_000)))).rejects.toThrow(
      /127\.0\.0\.1:1/,
    );
    await rm(dir, { recursive: true, force: true });
  });

  it("a damaged cached blob is not used: the layer is packed again from the wheel", async () => {
    const { dir, request, context } = await setup();
    const created = new Date(1_700_000_000_000);
    const first = await dependencyLayers([request], context(created));
    const digest = first.layers[0]?.packed.digest as string;
    const blob = new AssembleCache(dir).blobFile(digest);
    const bytes = await readFile(blob);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 0xff;
    await writeFile(blob, bytes);
    const again = await dependencyLayers([request], context(created));
    expect(again.layers[0]?.packed.digest).toBe(digest);
    expect(await readFile(blob)).toEqual(first.layers[0]?.packed.gzip);
    await rm(dir, { recursive: true, force: true });
  });
});

describe("prepareDependencies keeps each wheel's library facts with its size", () => {
  it("a second run answers from the cache; a record without library facts (an older couplet's) installs again", async () => {
    const { dir, request, wheelFile, context } = await setup();
    const created = new Date(1_700_000_000_000);
    const first = await prepareDependencies([request], context(created));
    // demo-scripts is pure Python: its files offer no library and need none.
    expect(first.installed[0]?.libraries).toEqual({ elves: [], files: [], links: [] });
    await rm(wheelFile);
    const second = await prepareDependencies([request], context(created));
    expect(second.installed).toEqual(first.installed);
    const records = path.join(dir, "assemble", "installed");
    const [shard] = readdirSync(records);
    const [name] = readdirSync(path.join(records, shard as string));
    await writeFile(path.join(records, shard as string, name as string), JSON.stringify({ size: 1 }));
    await expect(prepareDependencies([request], context(created))).rejects.toThrow(/127\.0\.0\.1:1/);
    await rm(dir, { recursive: true, force: true });
  });
});

describe("dependencyLayers with bytecode", () => {
  it("keys a layer by the compiling interpreter's exact version: no reuse across none, 3.11.x and 3.11.y", async () => {
    const python = await findHostPython(3, 11);
    if (!python) throw new Error("no python3.11 on PATH: run scripts/install-test-deps");
    const { dir, request, wheelFile, context } = await setup();
    const created = new Date(1_700_000_000_000);
    const withBytecode = (version: string) => ({
      ...context(created),
      compiler: new BytecodeCompiler({ ...python, version }),
    });
    const plain = await dependencyLayers([request], context(created));
    const compiled = await dependencyLayers([request], withBytecode(python.version));
    expect(compiled.layers[0]?.packed.digest).not.toBe(plain.layers[0]?.packed.digest);
    expect(compiled.layers[0]?.reused).toBeUndefined();
    // The same interpreter again: the finished layer, without the wheel.
    await rm(wheelFile);
    const again = await dependencyLayers([request], withBytecode(python.version));
    expect(again.layers[0]).toMatchObject({
      reused: true,
      packed: { digest: compiled.layers[0]?.packed.digest },
    });
    // Another patch release may emit other bytes: its layer is not the cached one (and needs the wheel).
    await expect(dependencyLayers([request], withBytecode("3.11.999"))).rejects.toThrow(/127\.0\.0\.1:1/);
    await rm(dir, { recursive: true, force: true });
  });
});

describe("groupPackages", () => {
  const item = (name: string, size: number) => ({
    request: { name, version: "1", filename: `${name}.whl`, sha256: name, index: "" },
    size,
  });
  it("gives a big package its own layer, after the shared buckets, and adding one moves no other", () => {
    const before = groupPackages([item("a", 10), item("big", 5 << 20), item("b", 10)]);
    expect(before.at(-1)?.map((x) => x.request.name)).toEqual(["big"]);
    const after = groupPackages([item("a", 10), item("big", 5 << 20), item("b", 10), item("c", 10)]);
    const names = (groups: typeof before) => groups.map((g) => g.map((x) => x.request.name).join(","));
    for (const group of names(before))
      expect(names(after).some((g) => g === group || g.includes(group))).toBe(true);
  });
});
