// A small OCI distribution API client: image references, and requests that answer a registry's Basic or Bearer challenge.
import { Buffer } from "node:buffer";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import type { Readable } from "node:stream";
import { describeFsError, UserError } from "../errors.js";
import { type Credentials, credentialsFor } from "./credentials.js";
import { httpsAgent } from "./download.js";

export interface ImageReference {
  /** host[:port] as written (docker.io for Docker Hub) */
  registry: string;
  repository: string;
  /** A tag, or undefined when the reference names a digest only */
  tag: string | undefined;
  digest: string | undefined;
}

const REPOSITORY = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^\w[\w.-]{0,127}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;
export const DOCKER_HUB = "docker.io";

const HOST_LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
const REGISTRY_ADDRESS = new RegExp(
  `^(?:${HOST_LABEL}(?:\\.${HOST_LABEL})*|\\[[0-9A-Fa-f:.]+\\])(?::(\\d{1,5}))?$`,
);

/** A host name, IPv4 or bracketed IPv6 address, with an optional port 1-65535: what a URL's authority can hold. */
function validRegistry(registry: string): boolean {
  const found = REGISTRY_ADDRESS.exec(registry);
  if (!found) return false;
  const port = found[1] === undefined ? 443 : Number(found[1]);
  if (port < 1 || port > 65535) return false;
  try {
    new URL(`https://${registry}/`);
    return true;
  } catch {
    return false;
  }
}

/** Whether the first path part names a registry (as Docker decides: a dot, a port, or localhost). */
function isRegistryPart(part: string): boolean {
  return part.includes(".") || part.includes(":") || part === "localhost";
}

/**
 * `host[:port]/name[:tag][@sha256:…]`. With `implicitHub`, a name without a registry is Docker Hub's (`python:3.12`
 * → docker.io/library/python:3.12), as docker pull reads it; without, the registry must be named (a push target).
 */
export function parseReference(text: string, flag = "--push", implicitHub = false): ImageReference {
  const at = text.indexOf("@");
  const digest = at >= 0 ? text.slice(at + 1) : undefined;
  const named = at >= 0 ? text.slice(0, at) : text;
  const slash = named.indexOf("/");
  const first = slash > 0 ? named.slice(0, slash) : "";
  let registry: string;
  let rest: string;
  if (first && isRegistryPart(first)) {
    registry = first;
    rest = named.slice(slash + 1);
  } else if (implicitHub && named) {
    registry = DOCKER_HUB;
    rest = named;
  } else
    throw new UserError(
      `${flag} ${text}: name the registry, e.g. 127.0.0.1:5000/app:1.0 or registry.example.com/app`,
    );
  const colon = rest.lastIndexOf(":");
  let repository = colon > 0 ? rest.slice(0, colon) : rest;
  const tag = colon > 0 ? rest.slice(colon + 1) : digest ? undefined : "latest";
  if (!validRegistry(registry))
    throw new UserError(
      `${flag} ${text}: "${registry}" is not a registry address (a host name, IPv4 or [IPv6] address, and a port 1-65535)`,
    );
  if (registry === DOCKER_HUB && !repository.includes("/")) repository = `library/${repository}`;
  if (!REPOSITORY.test(repository))
    throw new UserError(
      `${flag} ${text}: "${repository}" is not a valid repository name (lower case, digits, . _ - /)`,
    );
  if (tag !== undefined && !TAG.test(tag))
    throw new UserError(`${flag} ${text}: "${tag}" is not a valid tag`);
  if (digest !== undefined && !DIGEST.test(digest))
    throw new UserError(`${flag} ${text}: "${digest}" is not a sha256 digest (sha256:<64 hex digits>)`);
  return { registry, repository, tag, digest };
}

export function formatReference(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}${ref.tag ? `:${ref.tag}` : ""}${ref.digest ? `@${ref.digest}` : ""}`;
}

/** Plain HTTP only on loopback, as engines treat an unconfigured local registry; TLS everywhere else. */
export function isLoopback(registry: string): boolean {
  const host = registry.replace(/:\d+$/, "");
  return host === "localhost" || host === "127.0.0.1" || host === "[::1]";
}

/** The API's root for a registry name: Docker Hub's API lives at registry-1.docker.io. */
export function apiRoot(registry: string): URL {
  const host = registry === DOCKER_HUB ? "registry-1.docker.io" : registry;
  return new URL(`${isLoopback(registry) ? "http" : "https"}://${host}/v2/`);
}

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/**
 * The first challenge of a WWW-Authenticate header (RFC 7235): `Bearer realm="…",service="…",scope="a:b:pull,push"`.
 * Quoted values may hold commas and escaped quotes; parameter names are case-insensitive.
 */
export function parseChallenge(header: string): Challenge | undefined {
  const head = /^\s*([A-Za-z][\w-]*)\s*/.exec(header);
  if (!head) return undefined;
  const params: Record<string, string> = {};
  let rest = header.slice(head[0].length);
  const param = /^([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]*))\s*(?:,\s*|$)/;
  for (;;) {
    const found = param.exec(rest);
    if (!found) break;
    params[(found[1] as string).toLowerCase()] =
      found[2] !== undefined ? found[2].replace(/\\(.)/g, "$1") : (found[3] as string);
    rest = rest.slice(found[0].length);
  }
  return { scheme: (head[1] as string).toLowerCase(), params };
}

export interface Answer {
  status: number;
  headers: IncomingMessage["headers"];
  /** The response, unread: read it with text() or pipe it; call drop() when the body is not wanted */
  stream: IncomingMessage;
  text(limit?: number): Promise<string>;
  /** A typed one-line error for a failure while the body streams (to use where the stream is piped) */
  failure(error: unknown): UserError;
  drop(): void;
}

export type Body = () => Buffer | Readable;

/** Seconds a registry may stay silent (COUPLET_REGISTRY_TIMEOUT, default 60). */
function registryTimeout(): number {
  const value = Number(process.env.COUPLET_REGISTRY_TIMEOUT);
  return Number.isFinite(value) && value > 0 ? value : 60;
}

/** Why a request failed below HTTP, in words a user can act on (Node's messages name syscalls, not causes). */
function networkFailure(url: URL, method: string, error: unknown, reading: boolean): UserError {
  const where = `${url.host}: ${method} ${url.pathname}`;
  if (error instanceof UserError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === "ECONNREFUSED")
    return new UserError(`${url.host}: connection refused`, {
      hint: "check the address, and that the registry (or token service) is running",
    });
  if (code === "ENOTFOUND" || code === "EAI_AGAIN")
    return new UserError(`${url.host}: no such host`, { hint: "check the registry's name" });
  if (
    code === "ECONNRESET" ||
    code === "EPIPE" ||
    code === "ERR_STREAM_PREMATURE_CLOSE" ||
    message === "aborted" ||
    message === "socket hang up"
  )
    return new UserError(`${where}: the connection broke off${reading ? " while reading the answer" : ""}`, {
      hint: "retry; if it keeps happening, look at the registry's log or a proxy in between",
    });
  if (code?.startsWith("ERR_TLS") || /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code ?? ""))
    return new UserError(`${url.host}: TLS: ${message}`, {
      hint: "a registry with a private CA: put the CA bundle in SSL_CERT_FILE",
    });
  return new UserError(`${where}: ${message}`);
}

function send(
  url: URL,
  method: string,
  headers: Record<string, string | number>,
  body: Body | undefined,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const https = url.protocol === "https:";
    // Set when the idle timer fires: the error then seen on the request or its answer is the timeout's.
    let timedOut: UserError | undefined;
    const failure = (error: unknown, reading: boolean) =>
      timedOut ?? networkFailure(url, method, error, reading);
    const req = (https ? httpsRequest : httpRequest)(
      url,
      { method, headers: { "user-agent": "couplet", ...headers }, ...(https ? { agent: httpsAgent() } : {}) },
      (res) =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          stream: res,
          text: (limit = 16 * 1024 * 1024) =>
            new Promise((done, fail) => {
              const chunks: Buffer[] = [];
              let size = 0;
              res.on("data", (chunk: Buffer) => {
                size += chunk.length;
                if (size > limit) {
                  res.destroy();
                  fail(
                    new UserError(
                      `${url.host}: the answer to ${method} ${url.pathname} is over ${limit} bytes`,
                    ),
                  );
                } else chunks.push(chunk);
              });
              res.on("end", () => done(Buffer.concat(chunks).toString("utf8")));
              res.on("error", (error) => fail(failure(error, true)));
            }),
          failure: (error) => failure(error, true),
          drop: () => res.resume(),
        }),
    );
    req.on("error", (error) => reject(failure(error, false)));
    // A registry that accepts the connection and then says nothing must not hang the command: the socket's
    // idle timer covers waiting for the answer and every pause while its body streams.
    req.setTimeout(registryTimeout() * 1000, () => {
      timedOut = new UserError(
        `${url.host}: ${method} ${url.pathname}: no answer for ${registryTimeout()} s (COUPLET_REGISTRY_TIMEOUT)`,
        { hint: "check that the registry is up, or raise COUPLET_REGISTRY_TIMEOUT (seconds)" },
      );
      req.destroy(timedOut);
    });
    const data = body?.();
    if (data === undefined) req.end();
    else if (Buffer.isBuffer(data)) req.end(data);
    else {
      // The upload's own source failing (a cached blob unreadable) is not the network's fault: say which.
      data.on("error", (error) =>
        req.destroy(
          new UserError(
            `${url.host}: ${method} ${url.pathname}: reading the data to upload failed: ${describeFsError(error)}`,
          ),
        ),
      );
      data.pipe(req);
    }
  });
}

const lookups = new Map<string, Promise<Credentials | undefined>>();
/** Once per registry and run: a pull and a push (and each platform's pull) must not unlock a keychain each. */
function sharedLookup(registry: string): Promise<Credentials | undefined> {
  let found = lookups.get(registry);
  if (!found) {
    found = credentialsFor(registry);
    lookups.set(registry, found);
  }
  return found;
}

/** One registry and the access wanted from it, e.g. ["repository:team/app:pull,push", "repository:base:pull"]. */
export class RegistryClient {
  readonly root: URL;
  private authorization: string | undefined;
  private lookup: Promise<Credentials | undefined> | undefined;
  /** The credentials, once looked up at the first challenge */
  private credentials: Credentials | undefined;

  constructor(
    readonly registry: string,
    private readonly scopes: string[],
    credentials?: Credentials,
  ) {
    this.root = apiRoot(registry);
    if (credentials) this.lookup = Promise.resolve(credentials);
  }

  /** Looked up when the registry first asks, not before: an open registry never makes couplet run a keychain helper. */
  private async lookUpCredentials(): Promise<Credentials | undefined> {
    this.lookup ??= sharedLookup(this.registry);
    this.credentials = await this.lookup;
    return this.credentials;
  }

  /** A request under /v2/; on a 401 it answers the challenge once (Basic, or a Bearer token) and tries again. */
  async request(
    method: string,
    path: string | URL,
    headers: Record<string, string | number> = {},
    body?: Body,
  ): Promise<Answer> {
    const url = typeof path === "string" ? new URL(path, this.root) : path;
    // Credentials go to the registry's own origin only (scheme, host and port): an upload Location on another
    // host, or on plain HTTP, gets none.
    const own = url.origin === this.root.origin;
    const withAuth = () =>
      own && this.authorization ? { ...headers, authorization: this.authorization } : headers;
    let answer = await send(url, method, withAuth(), body);
    if (answer.status !== 401) return this.follow(answer, method, headers);
    answer.drop();
    if (!own)
      throw new UserError(
        `${this.registry}: ${method} ${url.origin}${url.pathname} wants credentials, and couplet sends them only to ${this.root.origin}`,
        {
          hint: "the registry sent couplet to another address; check its configured URL (e.g. behind a proxy)",
        },
      );
    // An expired token is renewed the same way: one new answer to the challenge, then a refusal is final.
    await this.authorize(String(answer.headers["www-authenticate"] ?? ""));
    answer = await send(url, method, withAuth(), body);
    if (answer.status === 401) {
      answer.drop();
      throw this.refusedCredentials(`${method} ${url.pathname}`);
    }
    return this.follow(answer, method, headers);
  }

  /** Blob GETs are often redirected to storage on another host, which must not see the registry's credentials. */
  private async follow(
    answer: Answer,
    method: string,
    headers: Record<string, string | number>,
  ): Promise<Answer> {
    let current = answer;
    for (let hops = 0; hops < 5; hops++) {
      const location = current.headers.location;
      if ((method !== "GET" && method !== "HEAD") || ![301, 302, 303, 307, 308].includes(current.status))
        return current;
      if (!location) return current;
      current.drop();
      const target = new URL(location, this.root);
      const sameHost = target.origin === this.root.origin;
      current = await send(
        target,
        method,
        sameHost && this.authorization ? { ...headers, authorization: this.authorization } : headers,
        undefined,
      );
    }
    return current;
  }

  private refusedCredentials(what: string): UserError {
    return new UserError(
      this.credentials
        ? `${this.registry}: ${what}: the registry refused the credentials from ${this.credentials.source}`
        : `${this.registry}: ${what}: the registry wants credentials`,
      {
        hint: this.credentials
          ? "check the user name and password (or token) for this registry"
          : "log in (docker login, podman login), or set COUPLET_REGISTRY (this host), COUPLET_REGISTRY_USERNAME and COUPLET_REGISTRY_PASSWORD",
      },
    );
  }

  private async authorize(header: string): Promise<void> {
    const challenge = parseChallenge(header);
    const creds = await this.lookUpCredentials();
    if (!challenge) throw this.refusedCredentials("access");
    if (challenge.scheme === "basic") {
      if (!creds) throw this.refusedCredentials("access");
      if ("identityToken" in creds)
        throw new UserError(
          `${this.registry}: the registry asks for a user name and password, and ${creds.source} holds an identity token, which only a token service takes`,
          { hint: "log in to this registry with a user name and password (docker login -u USER)" },
        );
      this.authorization = basicAuthorization(creds.username, creds.password);
      return;
    }
    if (challenge.scheme !== "bearer" || !challenge.params.realm)
      throw new UserError(`${this.registry}: unsupported authentication scheme ${challenge.scheme}`);
    let realm: URL;
    try {
      realm = new URL(challenge.params.realm);
    } catch {
      throw new UserError(
        `${this.registry}: the token service's address is not a URL: ${challenge.params.realm}`,
      );
    }
    // Where the credentials go: to the token service the registry names, on whatever host, as Docker, podman and
    // skopeo send them (Docker Hub's registry-1.docker.io names auth.docker.io; GitLab's registry names its
    // GitLab host). Refusing another host would break those registries and protect nothing: these are the
    // credentials stored for this registry, and a registry that wanted them could as well have asked for Basic
    // auth and received them directly. What is guarded: they leave only over HTTPS (plain HTTP to loopback
    // only), and the token service's redirects are not followed.
    if (realm.protocol !== "https:" && !(realm.protocol === "http:" && isLoopback(realm.host)))
      throw new UserError(`${this.registry}: the token service ${realm.origin} is not HTTPS`, {
        hint: "couplet sends credentials over HTTPS only (plain HTTP on loopback)",
      });
    const scopes = [...new Set([...this.scopes, ...(challenge.params.scope?.split(" ") ?? [])])];
    const answer =
      creds && "identityToken" in creds
        ? await this.refreshTokenGrant(realm, challenge.params.service, scopes, creds.identityToken)
        : await this.tokenGet(realm, challenge.params.service, scopes, creds);
    const text = await answer.text(1024 * 1024);
    // 400 is an OAuth2 token service's refusal of a grant (invalid_grant: an expired identity token).
    if (answer.status === 401 || answer.status === 403 || (answer.status === 400 && creds))
      throw this.refusedCredentials("the token service");
    if (answer.status !== 200)
      throw new UserError(
        `${this.registry}: the token service ${realm.origin} answered HTTP ${answer.status}`,
      );
    let token: unknown;
    try {
      const parsed = JSON.parse(text) as { token?: unknown; access_token?: unknown };
      token = parsed.token ?? parsed.access_token;
    } catch {
      token = undefined;
    }
    if (typeof token !== "string" || !token)
      throw new UserError(`${this.registry}: the token service ${realm.origin} answered without a token`);
    this.authorization = `Bearer ${token}`;
  }

  /** Docker's token flow: a GET with service and scopes in the query, Basic credentials if there are any. */
  private tokenGet(
    realm: URL,
    service: string | undefined,
    scopes: string[],
    creds: Credentials | undefined,
  ): Promise<Answer> {
    const url = new URL(realm);
    if (service) url.searchParams.set("service", service);
    for (const scope of scopes) url.searchParams.append("scope", scope);
    const headers: Record<string, string> =
      creds && "username" in creds
        ? { authorization: basicAuthorization(creds.username, creds.password) }
        : {};
    return send(url, "GET", headers, undefined);
  }

  /**
   * An identity token is an OAuth2 refresh token: POSTed as a form to the realm (Docker's OAuth2 token flow; Docker
   * and containers/image do the same for a helper's `<token>` answer), never as a Basic password.
   */
  private refreshTokenGrant(
    realm: URL,
    service: string | undefined,
    scopes: string[],
    identityToken: string,
  ): Promise<Answer> {
    const form = new URLSearchParams({
      grant_type: "refresh_token",
      refresh_token: identityToken,
      client_id: "couplet",
      scope: scopes.join(" "),
    });
    if (service) form.set("service", service);
    const body = Buffer.from(form.toString());
    return send(
      realm,
      "POST",
      { "content-type": "application/x-www-form-urlencoded", "content-length": body.length },
      () => body,
    );
  }
}

function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
}

/** One line for a registry answer that is not the one wanted. */
export async function unexpected(registry: string, what: string, answer: Answer): Promise<UserError> {
  const detail = (await answer.text(64 * 1024).catch(() => "")).replace(/\s+/g, " ").trim().slice(0, 200);
  if (answer.status === 403)
    return new UserError(`${registry}: ${what}: access denied (HTTP 403)`, {
      hint: "check that these credentials may read (or push to) this repository",
    });
  return new UserError(`${registry}: ${what}: HTTP ${answer.status}${detail ? ` ${detail}` : ""}`);
}
