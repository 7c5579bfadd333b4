// A token service on loopback for docker-registry's `auth: token`: checks a user's password, issues ES256 JWTs.
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { promisify } from "node:util";
import { importPKCS8, SignJWT } from "jose";
import { freePort } from "./buildah.js";

const exec = promisify(execFile);

export interface TokenServer {
  /** The realm URL to put in the registry's config */
  realm: string;
  service: string;
  issuer: string;
  /** The certificate whose key signs the tokens: the registry's rootcertbundle */
  rootCertBundle: string;
  /** Each token request: who asked (undefined: anonymous) and the scopes asked for, and whether it was granted */
  issued: { user: string | undefined; scopes: string[]; granted: boolean }[];
  stop(): Promise<void>;
}

/**
 * Starts the service with a fresh P-256 key and self-signed certificate (openssl) in `dir`. A token carries the
 * certificate in its `x5c` header, which the registry checks against its rootcertbundle, and grants the actions
 * asked for on each repository to the one user with the right password; anonymous requests are refused.
 */
export async function startTokenServer(dir: string, user: string, password: string): Promise<TokenServer> {
  const keyFile = join(dir, "token-key.pem");
  const certFile = join(dir, "token-cert.pem");
  await exec("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    keyFile,
    "-out",
    certFile,
    "-subj",
    "/CN=couplet-test-token",
    "-days",
    "2",
  ]);
  const key = await importPKCS8(await readFile(keyFile, "utf8"), "ES256");
  const certDer = (await readFile(certFile, "utf8")).replace(/-----[^-]+-----|\s/g, "");
  const port = await freePort();
  const service = "couplet-test-registry";
  const issuer = "couplet-test-issuer";
  const issued: TokenServer["issued"] = [];
  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? "/", `http://127.0.0.1:${port}`);
      const scopes = url.searchParams.getAll("scope");
      const header = req.headers.authorization ?? "";
      const decoded = header.startsWith("Basic ")
        ? Buffer.from(header.slice(6), "base64").toString("utf8")
        : undefined;
      const asked = decoded?.slice(0, decoded.indexOf(":"));
      const granted = decoded === `${user}:${password}` && url.searchParams.get("service") === service;
      issued.push({ user: asked, scopes, granted });
      if (!granted) {
        res.writeHead(401, { "content-type": "application/json" });
        res.end(JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "bad credentials" }] }));
        return;
      }
      const access = scopes.map((scope) => {
        const [type, ...rest] = scope.split(":");
        const actions = rest.pop() ?? "";
        return { type, name: rest.join(":"), actions: actions.split(",").filter(Boolean) };
      });
      const token = await new SignJWT({ access })
        .setProtectedHeader({ alg: "ES256", typ: "JWT", x5c: [certDer] })
        .setIssuer(issuer)
        .setSubject(user)
        .setAudience(service)
        .setIssuedAt()
        .setNotBefore("-10s")
        .setExpirationTime("5m")
        .setJti(`${Date.now()}-${issued.length}`)
        .sign(key);
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ token, access_token: token, expires_in: 300 }));
    })().catch((error: unknown) => {
      res.writeHead(500);
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    rootCertBundle: certFile,
    issued,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
