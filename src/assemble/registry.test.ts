import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createServer as createTcpServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { UserError } from "../errors.js";
import { parsePushReference } from "./push.js";
import { apiRoot, parseChallenge, parseReference, RegistryClient } from "./registry.js";

/** Runs `body` with a real HTTP server on loopback; closes it after. */
async function withServer<T>(
  handler: Parameters<typeof createServer>[1],
  body: (port: number) => Promise<T>,
) {
  const server: Server = createServer(handler);
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  try {
    return await body((server.address() as AddressInfo).port);
  } finally {
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
  }
}

describe("parseReference", () => {
  it("splits registry, repository and tag (latest by default)", () => {
    expect(parseReference("127.0.0.1:5000/team/app:1.2")).toEqual({
      registry: "127.0.0.1:5000",
      repository: "team/app",
      tag: "1.2",
      digest: undefined,
    });
    expect(parseReference("registry.example.com/app")).toMatchObject({
      registry: "registry.example.com",
      repository: "app",
      tag: "latest",
    });
  });
  it("takes a digest, with or without a tag", () => {
    const digest = `sha256:${"ab".repeat(32)}`;
    expect(parseReference(`localhost:5000/python@${digest}`)).toMatchObject({ tag: undefined, digest });
    expect(parseReference(`localhost:5000/python:3.11@${digest}`)).toMatchObject({ tag: "3.11", digest });
  });
  it("reads a name without a registry as Docker Hub's only where asked (a base, not a push target)", () => {
    expect(parseReference("python:3.12-slim", "--base", true)).toMatchObject({
      registry: "docker.io",
      repository: "library/python",
      tag: "3.12-slim",
    });
    expect(parseReference("bitnami/python", "--base", true)).toMatchObject({
      registry: "docker.io",
      repository: "bitnami/python",
    });
    expect(() => parseReference("python:3.12-slim")).toThrow(/name the registry/);
  });
  it("refuses a reference without a registry, an upper-case name, a bad tag or digest", () => {
    for (const bad of [
      "app:1.0",
      "team/app",
      "localhost:5000/App",
      "localhost:5000/app:-x",
      "localhost:5000/app@sha256:12",
      "",
    ])
      expect(() => parseReference(bad), bad).toThrow(UserError);
  });
  it("refuses a digest as a push target", () => {
    expect(() => parsePushReference(`localhost:5000/app@sha256:${"0".repeat(64)}`)).toThrow(/give a tag/);
  });
});

describe("apiRoot", () => {
  it("is plain HTTP on loopback only, and Docker Hub's API host for docker.io", () => {
    expect(apiRoot("127.0.0.1:5000").href).toBe("http://127.0.0.1:5000/v2/");
    expect(apiRoot("localhost:5000").href).toBe("http://localhost:5000/v2/");
    expect(apiRoot("registry.example.com").href).toBe("https://registry.example.com/v2/");
    expect(apiRoot("docker.io").href).toBe("https://registry-1.docker.io/v2/");
  });
});

describe("parseChallenge", () => {
  // Captured from Debian's docker-registry 2.8.2 (token auth) answering a cross-repository mount POST.
  it("reads docker-registry's Bearer challenge, whose scope holds commas and a space", () => {
    expect(
      parseChallenge(
        'Bearer realm="http://127.0.0.1:45999/token",service="couplet-test-registry",scope="repository:team/app:push,pull repository:python:pull"',
      ),
    ).toEqual({
      scheme: "bearer",
      params: {
        realm: "http://127.0.0.1:45999/token",
        service: "couplet-test-registry",
        scope: "repository:team/app:push,pull repository:python:pull",
      },
    });
  });
  it("reads a Basic challenge (docker-registry with htpasswd) and unquoted, escaped and spaced values", () => {
    expect(parseChallenge('Basic realm="couplet-test"')).toEqual({
      scheme: "basic",
      params: { realm: "couplet-test" },
    });
    expect(parseChallenge('Bearer Realm = "a\\"b" , error=invalid_token')).toEqual({
      scheme: "bearer",
      params: { realm: 'a"b', error: "invalid_token" },
    });
  });
  it("gives nothing for an empty header", () => {
    expect(parseChallenge("")).toBeUndefined();
  });
});

describe("registry addresses", () => {
  it("refuses a registry that is not a host and port, in one line, before any request", () => {
    for (const bad of [
      ":5000/x:1",
      "exa mple.com/x:1",
      "[::1/x:1",
      "example.com:99999/x:1",
      "example.com:0/x",
    ]) {
      expect(() => parseReference(bad, "--base", true), bad).toThrow(UserError);
    }
    expect(() => parseReference("example.com:99999/x:1", "--base", true)).toThrow(/not a registry address/);
    expect(parseReference("[::1]:5000/x:1").registry).toBe("[::1]:5000");
  });
});

describe("RegistryClient: where credentials go", () => {
  const credentials = { username: "u", password: "SECRET", source: "test" };

  it("sends them to the registry's own origin only, never to an upload address on another host", async () => {
    const seen: (string | undefined)[] = [];
    await withServer(
      (req, res) => {
        seen.push(req.headers.authorization);
        res.writeHead(401, { "www-authenticate": 'Basic realm="other"' }).end();
      },
      async (otherPort) => {
        await withServer(
          (req, res) => {
            if (!req.headers.authorization)
              return void res.writeHead(401, { "www-authenticate": 'Basic realm="r"' }).end();
            res.writeHead(202, { location: `http://localhost:${otherPort}/upload/1` }).end();
          },
          async (port) => {
            const client = new RegistryClient(`127.0.0.1:${port}`, ["repository:x:push"], credentials);
            const started = await client.request("POST", "x/blobs/uploads/");
            expect(started.status).toBe(202);
            started.drop();
            const upload = new URL(String(started.headers.location));
            await expect(client.request("PUT", upload)).rejects.toThrow(
              /sends them only to http:\/\/127\.0\.0\.1/,
            );
          },
        );
      },
    );
    expect(seen).toEqual([undefined]);
  });

  it("gives up on a registry that accepts the connection and never answers, in one line", async () => {
    const sockets: Socket[] = [];
    const silent = createTcpServer((socket) => void sockets.push(socket));
    await new Promise<void>((done) => silent.listen(0, "127.0.0.1", done));
    const port = (silent.address() as AddressInfo).port;
    const before = process.env.COUPLET_REGISTRY_TIMEOUT;
    process.env.COUPLET_REGISTRY_TIMEOUT = "1";
    try {
      const client = new RegistryClient(`127.0.0.1:${port}`, [], credentials);
      await expect(client.request("GET", "x/manifests/1")).rejects.toThrow(/no answer for 1 s/);
    } finally {
      if (before === undefined) delete process.env.COUPLET_REGISTRY_TIMEOUT;
      else process.env.COUPLET_REGISTRY_TIMEOUT = before;
      for (const socket of sockets) socket.destroy();
      await new Promise((done) => silent.close(done));
    }
  });
});

describe("RegistryClient: a connection that breaks off", () => {
  const credentials = { username: "u", password: "p", source: "test" };
  /** Answers 200 with a content-length it never reaches, then drops the connection. */
  const dropsMidBody: Parameters<typeof createServer>[1] = (_req, res) => {
    res.writeHead(200, { "content-type": "application/json", "content-length": 100_000 });
    res.write('{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json"');
    setTimeout(() => res.socket?.destroy(), 30);
  };

  it("reading an answer's body is one typed line naming the request, not a raw 'aborted'", async () => {
    await withServer(dropsMidBody, async (port) => {
      const client = new RegistryClient(`127.0.0.1:${port}`, [], credentials);
      const answer = await client.request("GET", "x/manifests/1");
      const error = await answer.text().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UserError);
      expect((error as UserError).message).toBe(
        `127.0.0.1:${port}: GET /v2/x/manifests/1: the connection broke off while reading the answer`,
      );
    });
  });

  it("a registry that goes silent in the middle of a body: the timeout's line, not 'aborted'", async () => {
    const before = process.env.COUPLET_REGISTRY_TIMEOUT;
    process.env.COUPLET_REGISTRY_TIMEOUT = "1";
    try {
      await withServer(
        (_req, res) => {
          res.writeHead(200, { "content-length": 1000 });
          res.write("part");
        },
        async (port) => {
          const client = new RegistryClient(`127.0.0.1:${port}`, [], credentials);
          const answer = await client.request("GET", "x/manifests/1");
          await expect(answer.text()).rejects.toThrow(
            new RegExp(`^127\\.0\\.0\\.1:${port}: GET /v2/x/manifests/1: no answer for 1 s`),
          );
        },
      );
    } finally {
      if (before === undefined) delete process.env.COUPLET_REGISTRY_TIMEOUT;
      else process.env.COUPLET_REGISTRY_TIMEOUT = before;
    }
  });

  it("a registry that drops the connection while an upload is sent: one typed line", async () => {
    await withServer(
      (req) => {
        req.once("data", () => req.socket.destroy());
      },
      async (port) => {
        const client = new RegistryClient(`127.0.0.1:${port}`, [], credentials);
        const body = Buffer.alloc(8 << 20, 1);
        const error = await client
          .request("PUT", "x/blobs/uploads/1?digest=sha256:0", { "content-length": body.length }, () => body)
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(UserError);
        expect((error as UserError).message).toBe(
          `127.0.0.1:${port}: PUT /v2/x/blobs/uploads/1: the connection broke off`,
        );
      },
    );
  });

  it("a registry that is not listening: connection refused, in one line", async () => {
    const { port } = await new Promise<AddressInfo>((done) => {
      const probe = createTcpServer();
      probe.listen(0, "127.0.0.1", () => {
        const address = probe.address() as AddressInfo;
        probe.close(() => done(address));
      });
    });
    const client = new RegistryClient(`127.0.0.1:${port}`, [], credentials);
    await expect(client.request("GET", "x/manifests/1")).rejects.toThrow(
      /^127\.0\.0\.1:\d+: connection refused$/,
    );
  });
});

describe("RegistryClient: the token service the registry names", () => {
  interface Seen {
    method: string;
    path: string;
    authorization: string | undefined;
    body: string;
  }
  /** A registry that wants a Bearer token from `realm(port)` and a token service at /token: both log what they get. */
  function registryAndTokenService(seen: { registry: Seen[]; tokens: Seen[] }, grant: (t: Seen) => boolean) {
    return (realm: string): Parameters<typeof createServer>[1] =>
      (req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (chunk: Buffer) => chunks.push(chunk));
        req.on("end", () => {
          const entry = {
            method: req.method ?? "",
            path: req.url ?? "",
            authorization: req.headers.authorization,
            body: Buffer.concat(chunks).toString(),
          };
          if (entry.path.startsWith("/token")) {
            seen.tokens.push(entry);
            if (!grant(entry)) return void res.writeHead(401).end();
            return void res
              .writeHead(200, { "content-type": "application/json" })
              .end(JSON.stringify({ access_token: "TOKEN-1" }));
          }
          seen.registry.push(entry);
          if (entry.authorization !== "Bearer TOKEN-1")
            return void res
              .writeHead(401, {
                "www-authenticate": `Bearer realm="${realm}",service="test-registry",scope="repository:app:pull"`,
              })
              .end();
          res.writeHead(200, { "content-type": "application/json" }).end("{}");
        });
      };
  }
  const basicCredentials = { username: "u", password: "SECRET", source: "test" };
  const basicGrant = (t: Seen) => t.authorization === `Basic ${Buffer.from("u:SECRET").toString("base64")}`;

  it("on the registry's own origin: Basic credentials to its /token, the token to the registry", async () => {
    const seen = { registry: [] as Seen[], tokens: [] as Seen[] };
    const make = registryAndTokenService(seen, basicGrant);
    let port = 0;
    await withServer(
      (req, res) => make(`http://127.0.0.1:${port}/token`)?.(req, res),
      async (p) => {
        port = p;
        const client = new RegistryClient(`127.0.0.1:${port}`, ["repository:app:pull"], basicCredentials);
        const answer = await client.request("GET", "app/manifests/1");
        expect(answer.status).toBe(200);
        answer.drop();
      },
    );
    expect(seen.tokens).toHaveLength(1);
    expect(seen.tokens[0]?.path).toBe("/token?service=test-registry&scope=repository%3Aapp%3Apull");
    expect(seen.registry.map((r) => r.authorization)).toEqual([undefined, "Bearer TOKEN-1"]);
  });

  it("on another origin (another port): the credentials go to it, as Docker sends them; the registry sees only the token", async () => {
    const seen = { registry: [] as Seen[], tokens: [] as Seen[] };
    const make = registryAndTokenService(seen, basicGrant);
    await withServer(make("unused"), async (tokenPort) => {
      await withServer(make(`http://127.0.0.1:${tokenPort}/token`), async (port) => {
        const client = new RegistryClient(`127.0.0.1:${port}`, ["repository:app:pull"], basicCredentials);
        const answer = await client.request("GET", "app/manifests/1");
        expect(answer.status).toBe(200);
        answer.drop();
      });
    });
    expect(seen.tokens.map((t) => t.authorization)).toEqual([
      `Basic ${Buffer.from("u:SECRET").toString("base64")}`,
    ]);
    expect(seen.registry.map((r) => r.authorization)).toEqual([undefined, "Bearer TOKEN-1"]);
  });

  it("never over plain HTTP to a host that is not loopback: refused before anything is sent", async () => {
    const seen = { registry: [] as Seen[], tokens: [] as Seen[] };
    await withServer(
      registryAndTokenService(seen, basicGrant)("http://tokens.example/token"),
      async (port) => {
        const client = new RegistryClient(`127.0.0.1:${port}`, ["repository:app:pull"], basicCredentials);
        await expect(client.request("GET", "app/manifests/1")).rejects.toThrow(
          new RegExp(`^127\\.0\\.0\\.1:${port}: the token service http://tokens\\.example is not HTTPS$`),
        );
      },
    );
    expect(seen.registry.map((r) => r.authorization)).toEqual([undefined]);
  });

  it("an identity token (a helper's <token> answer) is a refresh_token grant POSTed to the realm, never Basic", async () => {
    const seen = { registry: [] as Seen[], tokens: [] as Seen[] };
    const make = registryAndTokenService(
      seen,
      (t) => t.method === "POST" && new URLSearchParams(t.body).get("refresh_token") === "ID-TOKEN",
    );
    await withServer(make("unused"), async (tokenPort) => {
      await withServer(make(`http://127.0.0.1:${tokenPort}/token`), async (port) => {
        const client = new RegistryClient(`127.0.0.1:${port}`, ["repository:app:pull,push"], {
          identityToken: "ID-TOKEN",
          source: "docker-credential-x",
        });
        const answer = await client.request("GET", "app/manifests/1");
        expect(answer.status).toBe(200);
        answer.drop();
      });
    });
    expect(seen.tokens).toHaveLength(1);
    const [asked] = seen.tokens;
    expect(asked?.path).toBe("/token");
    expect(asked?.authorization).toBeUndefined();
    expect(Object.fromEntries(new URLSearchParams(asked?.body))).toEqual({
      grant_type: "refresh_token",
      refresh_token: "ID-TOKEN",
      client_id: "couplet",
      scope: "repository:app:pull,push repository:app:pull",
      service: "test-registry",
    });
  });

  it("an identity token for a registry that asks for Basic auth: one line saying so", async () => {
    await withServer(
      (_req, res) => void res.writeHead(401, { "www-authenticate": 'Basic realm="r"' }).end(),
      async (port) => {
        const client = new RegistryClient(`127.0.0.1:${port}`, [], {
          identityToken: "ID-TOKEN",
          source: "docker-credential-x (credsStore in f)",
        });
        await expect(client.request("GET", "app/manifests/1")).rejects.toThrow(
          /asks for a user name and password, and docker-credential-x \(credsStore in f\) holds an identity token/,
        );
      },
    );
  });
});

describe("RegistryClient: credentials from a credential helper", () => {
  it("runs the helper at the first challenge only, once per registry for all clients (a pull, then a push)", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "couplet-helper-"));
    const helper = path.join(dir, "docker-credential-counting");
    writeFileSync(
      helper,
      `#!/bin/sh\nread -r server\necho "$server" >> "${dir}/runs"\nprintf '{"ServerURL":"%s","Username":"u","Secret":"SECRET"}' "$server"\n`,
    );
    chmodSync(helper, 0o755);
    writeFileSync(path.join(dir, "config.json"), JSON.stringify({ credsStore: "counting" }));
    const names = ["PATH", "DOCKER_CONFIG", "REGISTRY_AUTH_FILE", "XDG_RUNTIME_DIR"] as const;
    const saved = Object.fromEntries(names.map((name) => [name, process.env[name]]));
    process.env.PATH = `${dir}:${process.env.PATH}`;
    process.env.DOCKER_CONFIG = dir;
    // Only this Docker config: none of the machine's own auth files.
    delete process.env.REGISTRY_AUTH_FILE;
    delete process.env.XDG_RUNTIME_DIR;
    try {
      await withServer(
        (req, res) => {
          if (req.url === "/v2/open/manifests/1") return void res.writeHead(200).end("{}");
          if (req.headers.authorization !== `Basic ${Buffer.from("u:SECRET").toString("base64")}`)
            return void res.writeHead(401, { "www-authenticate": 'Basic realm="r"' }).end();
          res.writeHead(200).end("{}");
        },
        async (port) => {
          const registry = `127.0.0.1:${port}`;
          const open = await new RegistryClient(registry, []).request("GET", "open/manifests/1");
          open.drop();
          expect(existsSync(path.join(dir, "runs"))).toBe(false);
          for (const scope of ["repository:app:pull", "repository:app:pull,push"]) {
            const answer = await new RegistryClient(registry, [scope]).request("GET", "app/manifests/1");
            expect(answer.status).toBe(200);
            answer.drop();
          }
          expect(readFileSync(path.join(dir, "runs"), "utf8")).toBe(`${registry}\n`);
        },
      );
    } finally {
      for (const name of names)
        if (saved[name] === undefined) delete process.env[name];
        else process.env[name] = saved[name];
    }
  });
});
