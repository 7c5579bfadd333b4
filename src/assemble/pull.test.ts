import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { UserError } from "../errors.js";
import { matchesPlatform, parsePlatform, pullBase } from "./pull.js";

describe("parsePlatform", () => {
  it("reads os/architecture[/variant] and refuses anything but linux", () => {
    expect(parsePlatform("linux/arm64/v8")).toEqual({ os: "linux", architecture: "arm64", variant: "v8" });
    expect(parsePlatform("linux/amd64")).toEqual({ os: "linux", architecture: "amd64" });
    for (const bad of ["windows/amd64", "linux", "linux/arm/v7/x", "amd64"])
      expect(() => parsePlatform(bad), bad).toThrow(/expected linux\/<architecture>/);
  });
});

describe("matchesPlatform", () => {
  it("matches the architecture, a variant only when both name one, and never an attestation entry", () => {
    const arm64 = parsePlatform("linux/arm64");
    expect(matchesPlatform({ os: "linux", architecture: "arm64", variant: "v8" } as never, arm64)).toBe(true);
    expect(matchesPlatform({ os: "linux", architecture: "arm64" }, parsePlatform("linux/arm64/v8"))).toBe(
      true,
    );
    expect(matchesPlatform({ os: "linux", architecture: "amd64" }, arm64)).toBe(false);
    expect(matchesPlatform({ os: "unknown", architecture: "unknown" }, arm64)).toBe(false);
    expect(
      matchesPlatform(
        { os: "linux", architecture: "arm", variant: "v6" } as never,
        parsePlatform("linux/arm/v7"),
      ),
    ).toBe(false);
  });
});

describe("pullBase from a registry that drops the connection mid-blob", () => {
  it("is one typed line naming the blob's request, and nothing is kept in the cache", async () => {
    const config = Buffer.from(
      JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] } }),
    );
    const configDigest = `sha256:${createHash("sha256").update(config).digest("hex")}`;
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: {
        mediaType: "application/vnd.oci.image.config.v1+json",
        digest: configDigest,
        size: config.length,
      },
      layers: [],
    });
    const server = createServer((req, res) => {
      if (req.url?.includes("/manifests/")) {
        res.writeHead(200, { "content-type": "application/vnd.oci.image.manifest.v1+json" }).end(manifest);
        return;
      }
      res.writeHead(200, { "content-length": config.length });
      res.write(config.subarray(0, 10));
      setTimeout(() => res.socket?.destroy(), 30);
    });
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    const { port } = server.address() as AddressInfo;
    const cache = mkdtempSync(path.join(tmpdir(), "couplet-pull-"));
    try {
      const error = await pullBase(`127.0.0.1:${port}/base:1`, undefined, cache, () => undefined).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(UserError);
      expect((error as UserError).message).toBe(
        `127.0.0.1:${port}: GET /v2/base/blobs/${configDigest}: the connection broke off while reading the answer`,
      );
      expect(readdirSync(path.join(cache, "blobs", "sha256"))).toEqual([]);
    } finally {
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
    }
  });
});
