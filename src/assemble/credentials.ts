// Registry credentials: the auth files docker login and podman login write (and the credential helpers they name),
// or COUPLET_REGISTRY_USERNAME/PASSWORD.
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import path from "node:path";
import { InputFileError, UserError } from "../errors.js";
import { askCredentialHelper, validHelperName } from "./credential-helper.js";

/**
 * A user name and password (or token used as one), or an identity token: what a credential helper answers with the
 * user name `<token>`, or `identitytoken` in an auths entry, which only a Bearer token service takes (OAuth2
 * refresh_token grant, as Docker and containers/image send it). `source` says where they came from, for messages
 * (never the secret).
 */
export type Credentials =
  | { username: string; password: string; source: string }
  | { identityToken: string; source: string };

/** The auth files in the order podman and skopeo read them, then Docker's. */
export function authFiles(env: NodeJS.ProcessEnv = process.env): string[] {
  const files: string[] = [];
  if (env.REGISTRY_AUTH_FILE) files.push(env.REGISTRY_AUTH_FILE);
  if (env.XDG_RUNTIME_DIR) files.push(path.join(env.XDG_RUNTIME_DIR, "containers", "auth.json"));
  files.push(path.join(env.DOCKER_CONFIG ?? path.join(homedir(), ".docker"), "config.json"));
  return files;
}

/** The keys an auths table may use for a registry: `host`, `https://host`, a URL with a path; Docker Hub's legacy key. */
function keysFor(registry: string): string[] {
  if (registry === "docker.io")
    return ["https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io"];
  return [registry];
}

function hostOf(key: string): string {
  return key.replace(/^https?:\/\//, "").replace(/\/.*$/, "");
}

/** What one auth file says for a registry: ask a credential helper, credentials written in the file, or nothing. */
export type AuthFileAnswer =
  | { helper: string; field: "credHelpers" | "credsStore" }
  | { credentials: Credentials }
  | undefined;

interface AuthFile {
  auths?: Record<string, { auth?: unknown; identitytoken?: unknown } | null>;
  credHelpers?: Record<string, unknown>;
  credsStore?: unknown;
}

/** Whether an auth file key (`host`, `https://host/v1/`) is one of `registry`'s. */
function keyMatches(key: string, wanted: string[]): boolean {
  return wanted.includes(key) || wanted.includes(hostOf(key));
}

function helperName(file: string, field: string, value: unknown): string {
  if (typeof value !== "string" || !validHelperName(value))
    throw new InputFileError(`${field} ${JSON.stringify(value)} is not a credential helper's name`, {
      location: { file },
      hint: 'a helper is named without its docker-credential- prefix, e.g. "pass" or "desktop"',
    });
  return value;
}

/**
 * One auth file's answer for `registry`, in Docker's order: a `credHelpers` entry for the registry, else the
 * `credsStore` helper for every registry, else the `auths` entry. A file that names a helper answers through
 * it alone, as Docker reads it (`docker login` with a helper leaves an empty auths entry). A broken entry is one
 * line naming the file.
 */
export function lookupAuthFile(file: string, text: string, registry: string): AuthFileAnswer {
  let data: AuthFile;
  try {
    data = JSON.parse(text);
  } catch {
    throw new InputFileError("not valid JSON", {
      location: { file },
      hint: "fix or remove the file, or log in again",
    });
  }
  const wanted = keysFor(registry);
  for (const [key, helper] of Object.entries(data?.credHelpers ?? {}))
    if (keyMatches(key, wanted))
      return { helper: helperName(file, `credHelpers["${key}"]`, helper), field: "credHelpers" };
  if (data?.credsStore !== undefined && data.credsStore !== "")
    return { helper: helperName(file, "credsStore", data.credsStore), field: "credsStore" };
  for (const [key, entry] of Object.entries(data?.auths ?? {})) {
    if (!keyMatches(key, wanted)) continue;
    if (typeof entry?.identitytoken === "string" && entry.identitytoken)
      return { credentials: { identityToken: entry.identitytoken, source: file } };
    if (typeof entry?.auth !== "string" || !entry.auth) continue;
    const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon <= 0)
      throw new InputFileError(`auths["${key}"].auth is not base64 of user:password`, {
        location: { file },
        hint: "log in again",
      });
    return {
      credentials: { username: decoded.slice(0, colon), password: decoded.slice(colon + 1), source: file },
    };
  }
  return undefined;
}

/** The server a helper is asked about: what `docker login` stored it under (Docker Hub's legacy URL). */
export function helperServerUrl(registry: string): string {
  return registry === "docker.io" ? "https://index.docker.io/v1/" : registry;
}

/**
 * Credentials for `registry`: the first auth file with an answer for that host wins (through its credential helper,
 * if it names one); otherwise COUPLET_REGISTRY_USERNAME and COUPLET_REGISTRY_PASSWORD for the registries COUPLET_REGISTRY names (a CI job
 * that holds a token in its environment).
 * They are sent only when the registry asks (a 401), and only over HTTPS or loopback.
 */
export async function credentialsFor(
  registry: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Credentials | undefined> {
  for (const file of authFiles(env)) {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch {
      continue;
    }
    const found = lookupAuthFile(file, text, registry);
    if (found && "credentials" in found) return found.credentials;
    if (found) {
      const asked = await askCredentialHelper(
        { helper: found.helper, serverUrl: helperServerUrl(registry), namedBy: { file, field: found.field } },
        env,
      );
      if (asked) return asked;
    }
  }
  const username = env.COUPLET_REGISTRY_USERNAME;
  const password = env.COUPLET_REGISTRY_PASSWORD;
  if (!username || password === undefined) return undefined;
  // The environment's credentials belong to the registries COUPLET_REGISTRY names, never to every registry:
  // a base pulled from Docker Hub would otherwise hand a CI job's push token to Hub's token service.
  const named = (env.COUPLET_REGISTRY ?? "")
    .split(",")
    .map((host) => host.trim())
    .filter(Boolean);
  if (named.length === 0)
    throw new UserError(
      "COUPLET_REGISTRY_USERNAME and COUPLET_REGISTRY_PASSWORD are set, but COUPLET_REGISTRY does not name the registry they are for",
      {
        hint: "set COUPLET_REGISTRY=host[:port] (several: a comma list); other registries get no credentials from the environment",
      },
    );
  if (named.includes(registry))
    return { username, password, source: "COUPLET_REGISTRY_USERNAME/COUPLET_REGISTRY_PASSWORD" };
  return undefined;
}
