// Push an assembled image to a registry with the OCI distribution API: blobs it already has are not sent again.
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import type { Readable } from "node:stream";
import { UserError } from "../errors.js";
import { httpsAgent } from "./download.js";
import type { Assembled } from "./image.js";

export interface ImageReference {
  /** host[:port] */
  registry: string;
  repository: string;
  tag: string;
}

/** `host:port/name[:tag]`; the registry part is required (no implicit Docker Hub). */
export function parseReference(text: string): ImageReference {
  const slash = text.indexOf("/");
  const registry = slash > 0 ? text.slice(0, slash) : "";
  if (!registry || !(registry.includes(".") || registry.includes(":") || registry === "localhost"))
    throw new UserError(
      `--push ${text}: name the registry, e.g. 127.0.0.1:5000/app:1.0 or registry.example.com/app`,
    );
  const rest = text.slice(slash + 1);
  const colon = rest.lastIndexOf(":");
  const repository = colon > 0 ? rest.slice(0, colon) : rest;
  const tag = colon > 0 ? rest.slice(colon + 1) : "latest";
  if (!/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(repository))
    throw new UserError(
      `--push ${text}: "${repository}" is not a valid repository name (lower case, digits, . _ - /)`,
    );
  if (!/^[\w][\w.-]{0,127}$/.test(tag)) throw new UserError(`--push ${text}: "${tag}" is not a valid tag`);
  return { registry, repository, tag };
}

/** Plain HTTP only on loopback, as engines treat an unconfigured local registry; TLS everywhere else. */
function isLoopback(registry: string): boolean {
  const host = registry.replace(/:\d+$/, "");
  return host === "localhost" || host === "127.0.0.1" || host === "[::1]";
}

interface Answer {
  status: number;
  headers: IncomingMessage["headers"];
  body: string;
}

function call(
  url: URL,
  method: string,
  headers: Record<string, string | number>,
  body?: Buffer | Readable,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    const req = send(
      url,
      { method, headers, ...(url.protocol === "https:" ? { agent: httpsAgent() } : {}) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", (error) => reject(new UserError(`${url.host}: ${error.message}`)));
    if (body === undefined) req.end();
    else if (Buffer.isBuffer(body)) req.end(body);
    else body.pipe(req);
  });
}

function refused(ref: ImageReference, what: string, answer: Answer): UserError {
  if (answer.status === 401 || answer.status === 403)
    return new UserError(`${ref.registry}: ${what}: the registry wants credentials (HTTP ${answer.status})`, {
      hint: "registry authentication is not supported yet; push to an open registry or load the --output archive",
    });
  const detail = answer.body.replace(/\s+/g, " ").trim().slice(0, 200);
  return new UserError(`${ref.registry}: ${what}: HTTP ${answer.status}${detail ? ` ${detail}` : ""}`);
}

export interface PushReport {
  reference: string;
  digest: string;
  /** Blobs sent, and blobs the registry already had */
  uploaded: number;
  reused: number;
}

/** Upload missing blobs (monolithic PUT), then the manifest under the tag. */
export async function pushImage(
  image: Assembled,
  target: string,
  progress: (line: string) => void,
): Promise<PushReport> {
  const ref = parseReference(target);
  const base = new URL(
    `${isLoopback(ref.registry) ? "http" : "https"}://${ref.registry}/v2/${ref.repository}/`,
  );
  const blobs: { digest: string; size: number; open: () => Buffer | Readable; what: string }[] = [
    ...image.baseLayers.map((layer) => ({
      digest: layer.digest,
      size: layer.size,
      open: () => image.base.opened.source.open(layer.blob),
      what: "base layer",
    })),
    ...image.layers.map((layer) => ({
      digest: layer.packed.digest,
      size: layer.packed.gzip.length,
      open: () => layer.packed.gzip,
      what: layer.holds,
    })),
    { digest: image.configDigest, size: image.config.length, open: () => image.config, what: "config" },
  ];
  let uploaded = 0;
  let reused = 0;
  for (const blob of blobs) {
    const head = await call(new URL(`blobs/${blob.digest}`, base), "HEAD", {});
    if (head.status === 200) {
      reused++;
      continue;
    }
    if (head.status !== 404) throw refused(ref, `checking ${blob.digest}`, head);
    const start = await call(new URL("blobs/uploads/", base), "POST", { "content-length": 0 });
    if (start.status !== 202 || !start.headers.location) throw refused(ref, "starting an upload", start);
    const location = new URL(start.headers.location, base);
    location.searchParams.set("digest", blob.digest);
    const put = await call(
      location,
      "PUT",
      { "content-type": "application/octet-stream", "content-length": blob.size },
      blob.open(),
    );
    if (put.status !== 201) throw refused(ref, `uploading ${blob.digest}`, put);
    uploaded++;
    progress(`pushed ${blob.digest.slice(7, 19)} ${(blob.size / 1024).toFixed(0)} KiB: ${blob.what}`);
  }
  const manifest = await call(
    new URL(`manifests/${ref.tag}`, base),
    "PUT",
    { "content-type": "application/vnd.oci.image.manifest.v1+json", "content-length": image.manifest.length },
    image.manifest,
  );
  if (manifest.status !== 201) throw refused(ref, "putting the manifest", manifest);
  progress(`pushed ${target}@${image.manifestDigest} (${uploaded} blobs sent, ${reused} already there)`);
  return {
    reference: `${ref.registry}/${ref.repository}:${ref.tag}`,
    digest: image.manifestDigest,
    uploaded,
    reused,
  };
}
