// Registry credentials: from COUPLET_REGISTRY_USERNAME/PASSWORD, or the auth files docker login and podman login write.
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { UserError } from "../errors.js";

export interface Credentials {
  username: string;
  password: string;
  /** Where they came from, for messages (never the secret) */
  source: string;
}

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

/** `auths` of one auth file, as `{user, password}` for `registry`; a broken entry is one line naming the file. */
export function fromAuthFile(file: string, text: string, registry: string): Credentials | undefined {
  let data: { auths?: Record<string, { auth?: unknown }> };
  try {
    data = JSON.parse(text);
  } catch {
    throw new UserError(`${file}: not valid JSON`, { hint: "fix or remove the file, or log in again" });
  }
  const wanted = keysFor(registry);
  for (const [key, entry] of Object.entries(data?.auths ?? {})) {
    if (!wanted.includes(key) && !wanted.includes(hostOf(key))) continue;
    if (typeof entry?.auth !== "string" || !entry.auth) continue;
    const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon <= 0)
      throw new UserError(`${file}: auths["${key}"].auth is not base64 of user:password`, {
        hint: "log in again",
      });
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1), source: file };
  }
  return undefined;
}

/**
 * Credentials for `registry`: an auth file entry for that host wins (it names the registry); otherwise
 * COUPLET_REGISTRY_USERNAME and COUPLET_REGISTRY_PASSWORD for the registries COUPLET_REGISTRY names (a CI job
 * that holds a token in its environment).
 * They are sent only when the registry asks (a 401), and only over HTTPS or loopback.
 */
export function credentialsFor(
  registry: string,
  env: NodeJS.ProcessEnv = process.env,
): Credentials | undefined {
  for (const file of authFiles(env)) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    const found = fromAuthFile(file, text, registry);
    if (found) return found;
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
