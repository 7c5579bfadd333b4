// Fetch locked wheels from the project's package indexes into a content-addressed cache, checking each sha256.
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { Agent, request } from "node:https";
import { homedir } from "node:os";
import path from "node:path";
import { rootCertificates } from "node:tls";
import { describeFsError, InputFileError, OutputFileError, UserError } from "../errors.js";

const PYPI_SIMPLE = "https://pypi.org/simple/";

let agent: Agent | undefined;
/**
 * Node trusts only its bundled Mozilla roots (plus NODE_EXTRA_CA_CERTS, read once at start-up). A network whose
 * TLS goes through a proxy, or a private index, is trusted by the system store instead: add the bundle that
 * SSL_CERT_FILE names (or Debian's / Red Hat's default) to Node's roots. Verification stays on.
 */
export function httpsAgent(): Agent {
  if (agent) return agent;
  const candidates = [
    process.env.SSL_CERT_FILE,
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
  ].filter((file): file is string => Boolean(file));
  const ca = [...rootCertificates];
  for (const file of candidates) {
    try {
      ca.push(readFileSync(file, "utf8"));
      break;
    } catch {
      // not this one: try the next
    }
  }
  agent = new Agent({ ca, keepAlive: true, maxSockets: 8 });
  return agent;
}

export class DownloadError extends UserError {}

/** `new URL` without the throw (URL.parse needs Node 20.18; package.json allows 20.9). */
function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

/** GET a URL (following redirects) into memory. */
export function get(
  url: string,
  accept?: string,
  redirects = 5,
): Promise<{ body: Buffer; type: string; url: string }> {
  return new Promise((resolve, reject) => {
    const target = parseUrl(url);
    if (!target) {
      reject(
        new DownloadError(`${url}: not a URL`, {
          hint: "check the source url in pyproject.toml and poetry.lock",
        }),
      );
      return;
    }
    if (target.protocol !== "https:") {
      reject(new DownloadError(`${url}: only https package indexes are supported`));
      return;
    }
    const req = request(
      target,
      { agent: httpsAgent(), headers: { "user-agent": "couplet", ...(accept ? { accept } : {}) } },
      (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400 && res.headers.location && redirects > 0) {
          res.resume();
          resolve(get(new URL(res.headers.location, target).toString(), accept, redirects - 1));
          return;
        }
        if (status !== 200) {
          res.resume();
          reject(new DownloadError(`${url}: HTTP ${status}`));
          return;
        }
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({ body: Buffer.concat(chunks), type: String(res.headers["content-type"] ?? ""), url }),
        );
        // A connection cut mid-body ("aborted", a reset) is the network's fault: one line naming the URL.
        res.on("error", (error) =>
          reject(new DownloadError(`${url}: the download broke off (${error.message})`, { hint: "retry" })),
        );
      },
    );
    req.on("error", (error) => reject(new DownloadError(`${url}: ${error.message}`)));
    req.end();
  });
}

type IndexJsonFile = { filename: string; url: string; hashes?: Record<string, string> };

/** A PEP 691 project page's files, or one line saying the index answered something else. */
export function parseIndexJson(body: Buffer, page: string): IndexJsonFile[] {
  const hint = "check the source url in pyproject.toml, or that the index is up";
  let data: { files?: unknown };
  try {
    data = JSON.parse(body.toString("utf8"));
  } catch {
    throw new DownloadError(`package index ${page}: answered JSON that does not parse`, {
      location: { file: "poetry.lock" },
      hint,
    });
  }
  const files = data?.files;
  if (
    !Array.isArray(files) ||
    !files.every((f) => typeof f?.filename === "string" && typeof f?.url === "string")
  )
    throw new DownloadError(`package index ${page}: its JSON page has no files list (PEP 691)`, {
      location: { file: "poetry.lock" },
      hint,
    });
  return files as IndexJsonFile[];
}

export interface IndexFile {
  filename: string;
  url: string;
  sha256: string | undefined;
}

/** A project's files as a PEP 503 simple index lists them: PEP 691 JSON when offered, HTML otherwise. */
export async function indexFiles(indexUrl: string, name: string): Promise<IndexFile[]> {
  const base = parseUrl(indexUrl.endsWith("/") ? indexUrl : `${indexUrl}/`);
  // The index comes from poetry.lock's package source, which a hand edit can break.
  if (!base)
    throw new DownloadError(`package index ${indexUrl}: not a URL`, {
      location: { file: "poetry.lock" },
      hint: "fix the source url in pyproject.toml and run poetry lock",
    });
  const page = new URL(`${name}/`, base).toString();
  const { body, type, url } = await get(page, "application/vnd.pypi.simple.v1+json, text/html;q=0.1");
  if (type.includes("json")) {
    const data = parseIndexJson(body, page);
    return data.map((file) => ({
      filename: file.filename,
      url: new URL(file.url, url).toString(),
      sha256: file.hashes?.sha256,
    }));
  }
  const files: IndexFile[] = [];
  for (const found of body.toString("utf8").matchAll(/<a\s[^>]*href="([^"]+)"[^>]*>([^<]+)<\/a>/gi)) {
    const href = (found[1] as string).replace(/&amp;/g, "&");
    const absolute = new URL(href, url);
    const hash = /sha256=([0-9a-f]{64})/.exec(absolute.hash);
    absolute.hash = "";
    files.push({ filename: (found[2] as string).trim(), url: absolute.toString(), sha256: hash?.[1] });
  }
  return files;
}

export function cacheRoot(): string {
  return (
    process.env.COUPLET_CACHE ??
    path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir(), ".cache"), "couplet")
  );
}

export interface WheelRequest {
  /** Normalized package name */
  name: string;
  version: string;
  filename: string;
  /** Hex sha256 from the lock */
  sha256: string;
  /** Simple index to look the file up in (PyPI unless the lock names a source); for a --wheels file, its folder */
  index: string;
  /** A wheel from --wheels: read from here, its sha256 the file's own (the lock has no hash for it) */
  path?: string;
}

/** The wheel's bytes: from the cache when present, else downloaded, checked against the lock and cached. */
export async function fetchWheel(
  wanted: WheelRequest,
  cacheDir: string,
): Promise<{ data: Buffer; cached: boolean }> {
  if (wanted.path) {
    const data = await readFile(wanted.path).catch((error: unknown) => {
      throw new InputFileError(`--wheels: cannot read ${wanted.filename}: ${describeFsError(error)}`, {
        location: { file: wanted.path as string },
      });
    });
    // Hashed when the folder was read: a file replaced since must not go in under the other's name.
    if (createHash("sha256").update(data).digest("hex") !== wanted.sha256)
      throw new InputFileError(`--wheels: ${wanted.filename} changed while assembling`, {
        location: { file: wanted.path },
        hint: "run couplet assemble again once the wheels are built",
      });
    return { data, cached: true };
  }
  const file = path.join(cacheDir, "wheels", "sha256", wanted.sha256.slice(0, 2), wanted.sha256);
  try {
    const data = await readFile(file);
    // The name is the hash, but a cache can be damaged: a wrong file must never reach an image.
    if (createHash("sha256").update(data).digest("hex") === wanted.sha256) return { data, cached: true };
  } catch {
    // not cached
  }
  const listed = (await indexFiles(wanted.index, wanted.name)).find(
    (entry) => entry.filename === wanted.filename,
  );
  if (!listed)
    throw new DownloadError(`${wanted.filename} is not listed by ${wanted.index}${wanted.name}/`, {
      hint: "the lock may be stale: run poetry lock",
    });
  const { body } = await get(listed.url);
  const actual = createHash("sha256").update(body).digest("hex");
  if (actual !== wanted.sha256)
    throw new DownloadError(
      `${wanted.filename}: sha256 ${actual} does not match poetry.lock (${wanted.sha256})`,
      { hint: "the index served a different file than the one locked; run poetry lock if this is expected" },
    );
  await storeInCache(file, body);
  return { data: body, cached: false };
}

/** Keep a checked download under its hash; a cache that cannot be written is one line naming the folder. */
export async function storeInCache(file: string, body: Buffer): Promise<void> {
  const temporary = `${file}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(temporary, body);
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => undefined);
    throw new OutputFileError(`cannot write the download cache: ${describeFsError(error)}`, {
      location: { file: path.dirname(file) },
      hint: "set COUPLET_CACHE to a writable folder",
    });
  }
}

export { PYPI_SIMPLE };
