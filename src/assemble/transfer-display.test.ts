import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { type BlobTransfer, pullBase } from "./pull.js";
import { formatTransfer, TransferDisplay } from "./transfer-display.js";

const digestOf = (data: Buffer) => `sha256:${createHash("sha256").update(data).digest("hex")}`;
const CHUNKS = 8;

/** A registry on loopback whose one layer arrives in CHUNKS pieces, 25 ms apart. */
async function slowRegistry(layer: Buffer) {
  const config = Buffer.from(
    JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] } }),
  );
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: {
      mediaType: "application/vnd.oci.image.config.v1+json",
      digest: digestOf(config),
      size: config.length,
    },
    layers: [
      {
        mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
        digest: digestOf(layer),
        size: layer.length,
      },
    ],
  });
  const server = createServer((req, res) => {
    if (req.url?.includes("/manifests/")) {
      res.writeHead(200, { "content-type": "application/vnd.oci.image.manifest.v1+json" }).end(manifest);
      return;
    }
    if (req.url?.endsWith(digestOf(config))) {
      res.writeHead(200, { "content-length": config.length }).end(config);
      return;
    }
    res.writeHead(200, { "content-length": layer.length });
    const piece = layer.length / CHUNKS;
    let sent = 0;
    const next = () => {
      res.write(layer.subarray(sent * piece, (sent + 1) * piece));
      sent++;
      if (sent === CHUNKS) res.end();
      else setTimeout(next, 25);
    };
    next();
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((done) => server.close(done)),
  };
}

describe("a base layer's download progress", () => {
  it("reports bytes as they arrive from a slow registry, and a log gets a line at 25, 50 and 75%", async () => {
    const layer = randomBytes(1048576);
    const registry = await slowRegistry(layer);
    const cache = mkdtempSync(path.join(tmpdir(), "couplet-transfer-"));
    const events: BlobTransfer[] = [];
    const log: string[] = [];
    const display = new TransferDisplay({ write: (text: string) => log.push(text), isTTY: false });
    const lines: string[] = [];
    try {
      await pullBase(
        `${registry.address}/base:1`,
        undefined,
        cache,
        (line) => lines.push(line),
        (transfer) => {
          events.push(transfer);
          display.update(transfer);
        },
      );
    } finally {
      await registry.close();
      rmSync(cache, { recursive: true, force: true });
    }
    const label = `base layer ${digestOf(layer).slice(7, 19)} of ${registry.address}/base:1`;
    // Intermediate counts, before the blob was whole: the progress is live, not one report at the end.
    const partial = events.filter((event) => event.done < layer.length);
    expect(partial.length).toBeGreaterThanOrEqual(CHUNKS - 2);
    expect(events.every((event) => event.label === label && event.total === layer.length)).toBe(true);
    const counts = events.map((event) => event.done);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect(counts.at(-1)).toBe(layer.length);
    expect(log).toEqual([
      `[█████░░░░░░░░░░░░░░░] 0.3/1.0 MiB (25%): ${label}\n`,
      `[██████████░░░░░░░░░░] 0.5/1.0 MiB (50%): ${label}\n`,
      `[███████████████░░░░░] 0.8/1.0 MiB (75%): ${label}\n`,
    ]);
    expect(lines).toEqual([
      `pulled ${digestOf(layer).slice(7, 19)} 1.0 MiB: base layer of ${registry.address}/base:1`,
    ]);
  });

  it("on a terminal redraws one line at most every 100 ms, cut to the width, and erases it", () => {
    const writes: string[] = [];
    let clock = 0;
    const display = new TransferDisplay(
      { write: (text: string) => writes.push(text), isTTY: true, columns: 60 },
      () => clock,
    );
    const transfer = (done: number): BlobTransfer => ({
      label: "base layer 0123456789ab of registry.example/python:3.11-slim",
      done,
      total: 4 * 1048576,
    });
    display.update(transfer(1048576));
    clock = 50;
    display.update(transfer(2 * 1048576));
    clock = 120;
    display.update(transfer(3 * 1048576));
    display.clear();
    display.clear();
    expect(writes).toEqual([
      `\r\x1b[K${formatTransfer(transfer(1048576)).slice(0, 59)}`,
      `\r\x1b[K${formatTransfer(transfer(3 * 1048576)).slice(0, 59)}`,
      "\r\x1b[K",
    ]);
    expect(writes[1]).toContain("3.0/4.0 MiB (75%)");
    expect(writes.every((text) => !text.includes("\n"))).toBe(true);
  });

  it("without a size in the manifest, logs the bytes so far every 10 s", () => {
    const log: string[] = [];
    let clock = 0;
    const display = new TransferDisplay({ write: (text: string) => log.push(text) }, () => clock);
    for (const [at, done] of [
      [0, 1],
      [5_000, 2],
      [10_000, 3],
      [15_000, 4],
      [20_000, 5],
    ] as const) {
      clock = at;
      display.update({ label: "base layer x", done: done * 1048576, total: undefined });
    }
    expect(log).toEqual(["pulling 3.0 MiB: base layer x\n", "pulling 5.0 MiB: base layer x\n"]);
  });
});
