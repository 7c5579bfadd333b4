import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
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

describe("pullBase through Docker Hub's flow, anonymously", () => {
  it("takes a token from the realm without credentials, and follows blob redirects to storage that sees no token", async () => {
    // Three loopback servers in the roles of registry-1.docker.io, auth.docker.io and the storage blobs are
    // redirected to; the documents are Docker's (a manifest list, a schema 2 manifest), as Hub serves them.
    const blobs = new Map<string, Buffer>();
    const put = (data: Buffer) => {
      const digest = `sha256:${createHash("sha256").update(data).digest("hex")}`;
      blobs.set(digest, data);
      return { digest, size: data.length };
    };
    const layer = put(Buffer.from("a layer's bytes: pullBase stores them unread"));
    const config = put(
      Buffer.from(
        JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] } }),
      ),
    );
    const manifestType = "application/vnd.docker.distribution.manifest.v2+json";
    const listType = "application/vnd.docker.distribution.manifest.list.v2+json";
    const manifest = put(
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: manifestType,
          config: { mediaType: "application/vnd.docker.container.image.v1+json", ...config },
          layers: [{ mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", ...layer }],
        }),
      ),
    );
    const list = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: listType,
        manifests: [
          { mediaType: manifestType, ...manifest, platform: { os: "linux", architecture: "amd64" } },
        ],
      }),
    );
    const seen = { registry: [] as string[], tokens: [] as string[], storage: [] as string[] };
    const note = (
      log: string[],
      req: { method?: string; url?: string; headers: { authorization?: string } },
    ) => log.push(`${req.method} ${req.url} ${req.headers.authorization ?? "-"}`);
    const servers = [createServer(), createServer(), createServer()];
    const [registry, auth, storage] = servers as [Server, Server, Server];
    for (const server of servers) await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    const port = (server: Server) => (server.address() as AddressInfo).port;
    auth.on("request", (req, res) => {
      note(seen.tokens, req);
      res
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ token: "ANON", access_token: "ANON", expires_in: 300 }));
    });
    storage.on("request", (req, res) => {
      note(seen.storage, req);
      const body = blobs.get(req.url?.slice("/blob/".length) ?? "");
      if (body) res.writeHead(200, { "content-type": "application/octet-stream" }).end(body);
      else res.writeHead(404).end();
    });
    registry.on("request", (req, res) => {
      note(seen.registry, req);
      if (req.headers.authorization !== "Bearer ANON")
        return void res
          .writeHead(401, {
            "www-authenticate": `Bearer realm="http://127.0.0.1:${port(auth)}/token",service="registry.docker.io",scope="repository:library/python:pull"`,
          })
          .end();
      const found = /^\/v2\/library\/python\/(manifests|blobs)\/(.+)$/.exec(req.url ?? "");
      if (found?.[1] === "blobs")
        return void res
          .writeHead(307, { location: `http://127.0.0.1:${port(storage)}/blob/${found[2]}` })
          .end();
      if (found?.[2] === "3.11-slim") return void res.writeHead(200, { "content-type": listType }).end(list);
      const body = blobs.get(found?.[2] ?? "");
      if (body) res.writeHead(200, { "content-type": manifestType }).end(body);
      else res.writeHead(404).end();
    });
    // No credentials anywhere: an empty Docker config, no other auth file, nothing in the environment.
    const names = ["DOCKER_CONFIG", "REGISTRY_AUTH_FILE", "XDG_RUNTIME_DIR", "COUPLET_REGISTRY_USERNAME"];
    const saved = names.map((name) => process.env[name]);
    for (const name of names) delete process.env[name];
    process.env.DOCKER_CONFIG = mkdtempSync(path.join(tmpdir(), "couplet-docker-config-"));
    const cache = mkdtempSync(path.join(tmpdir(), "couplet-pull-"));
    try {
      const pulled = await pullBase(
        `127.0.0.1:${port(registry)}/library/python:3.11-slim`,
        parsePlatform("linux/amd64"),
        cache,
        () => undefined,
      );
      expect(pulled.origin.manifestDigest).toBe(manifest.digest);
      expect(pulled.opened.layers.map((l) => l.storedSize)).toEqual([layer.size]);
      // One anonymous token, asked for the scope the challenge named.
      expect(seen.tokens).toEqual([
        "GET /token?service=registry.docker.io&scope=repository%3Alibrary%2Fpython%3Apull -",
      ]);
      // The registry's first answer is the challenge; every request after carries the token.
      expect(seen.registry[0]).toBe("GET /v2/library/python/manifests/3.11-slim -");
      expect(seen.registry.slice(1).every((line) => line.endsWith(" Bearer ANON"))).toBe(true);
      // The storage host got both blobs, and never the registry's token.
      expect(seen.storage.sort()).toEqual(
        [`GET /blob/${config.digest} -`, `GET /blob/${layer.digest} -`].sort(),
      );
      expect(readdirSync(path.join(cache, "blobs", "sha256")).sort()).toEqual(
        [config.digest, layer.digest].map((digest) => digest.slice(7)).sort(),
      );
    } finally {
      names.forEach((name, index) => {
        const value = saved[index];
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      });
      for (const server of servers) {
        server.closeAllConnections();
        await new Promise((done) => server.close(done));
      }
    }
  });
});
