// Gzip a byte range of a file into another file on worker threads, so the compression's reading, hashing and
// stream plumbing run beside the main thread's work (installing wheels, packing layers) instead of between it.
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Worker } from "node:worker_threads";

export interface GzipJob {
  /** The file holding the input, and where in it */
  file: string;
  start: number;
  size: number;
  /** The input is a zstd stream, to be decompressed before gzipping */
  zstd: boolean;
  /** sha256 the uncompressed content must have (the layer's diff_id): a gzip of anything else is refused */
  diffId: string | undefined;
  /** Gzip only this many bytes of the content; the rest is still read, for the diff_id check (default: all) */
  gzipBytes?: number;
  level: number;
  /** Where the gzip goes; created by the worker */
  output: string;
}

export type GzipOutcome =
  | { ok: true; digest: string; size: number }
  /**
   * `writing`: the output could not be written (a full disk, no permission); otherwise the input could not be
   * read or is not what its diff_id says. `code`: the errno name of a file-system failure.
   */
  | { ok: false; writing: boolean; message: string; code?: string };

/**
 * The worker's code: plain JavaScript on Node's built-ins (and fzstd, by the absolute path it is given), evaluated
 * from this string, so it runs the same from dist/ and from the TypeScript sources under vitest. 1 MB reads and
 * zlib output chunks: zlib's default 16 KB chunk made ~6,500 round trips and writes for a 100 MB result.
 */
const WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const { createReadStream, createWriteStream } = require("node:fs");
const { createHash } = require("node:crypto");
const { Readable, Transform } = require("node:stream");
const { pipeline } = require("node:stream/promises");
const { createGzip } = require("node:zlib");
const { job, fzstd } = workerData;
let writing = false;
async function main() {
  const hash = createHash("sha256");
  let read = 0;
  let written = 0;
  const input = job.size === 0
    ? Readable.from([])
    : createReadStream(job.file, { start: job.start, end: job.start + job.size - 1, highWaterMark: 1 << 20 });
  const counted = new Transform({
    transform(chunk, _encoding, done) {
      read += chunk.length;
      done(null, chunk);
    },
    flush(done) {
      done(read === job.size ? null : new Error("the layer ends " + (job.size - read) + " bytes early: the file was cut short"));
    },
  });
  const stages = [input, counted];
  if (job.zstd) {
    const { Decompress } = require(fzstd);
    let decoder;
    const unzstd = new Transform({
      transform(chunk, _encoding, done) {
        try { decoder.push(chunk); done(); } catch (error) { done(new Error("zstd: " + error.message)); }
      },
      flush(done) {
        try { decoder.push(new Uint8Array(0), true); done(); } catch (error) { done(new Error("zstd: " + error.message)); }
      },
    });
    // fzstd may reuse its window after the callback returns: copy.
    decoder = new Decompress((data) => { if (data.length) unzstd.push(Buffer.from(data)); });
    stages.push(unzstd);
  }
  if (job.diffId) {
    const content = createHash("sha256");
    stages.push(new Transform({
      transform(chunk, _encoding, done) {
        content.update(chunk);
        done(null, chunk);
      },
      flush(done) {
        const got = "sha256:" + content.digest("hex");
        done(got === job.diffId ? null : new Error("its content hashes to " + got + ", not to the diff_id " + job.diffId + " the image config lists"));
      },
    }));
  }
  if (job.gzipBytes !== undefined) {
    let fed = 0;
    stages.push(new Transform({
      transform(chunk, _encoding, done) {
        const take = Math.max(0, Math.min(chunk.length, job.gzipBytes - fed));
        fed += take;
        done(null, take === chunk.length ? chunk : take > 0 ? chunk.subarray(0, take) : undefined);
      },
    }));
  }
  const summed = new Transform({
    transform(chunk, _encoding, done) {
      hash.update(chunk);
      written += chunk.length;
      done(null, chunk);
    },
  });
  // A write that fails mid-way (a full disk) carries no path, unlike a failed open: the stream's own error says so.
  const output = createWriteStream(job.output).once("error", () => { writing = true; });
  await pipeline(...stages, createGzip({ level: job.level, chunkSize: 1 << 20 }), summed, output);
  return { ok: true, digest: "sha256:" + hash.digest("hex"), size: written };
}
main().then(
  (outcome) => parentPort.postMessage(outcome),
  (error) => parentPort.postMessage({
    ok: false,
    writing: writing || (error && error.path === job.output),
    message: String((error && error.message) || error),
    // A file-system error's code, which the caller puts in words; not a stream's internal ERR_ codes.
    ...(error && error.syscall && typeof error.code === "string" ? { code: error.code } : {}),
  }),
);
`;

const fzstdPath = createRequire(import.meta.url).resolve("fzstd");

/**
 * Run `job` on a worker thread. Settles only once the worker has exited, so none outlives the call; `signal`
 * terminates it (the promise then rejects with the signal's reason, and the caller removes the output). A worker
 * that dies without an answer (out of memory) is reported as a read failure naming what happened. `started`
 * sees the worker (for tests: its threadId is -1 once it has stopped).
 */
export function gzipInWorker(
  job: GzipJob,
  signal?: AbortSignal,
  started?: (worker: Worker) => void,
): Promise<GzipOutcome> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  const worker = new Worker(WORKER, { eval: true, workerData: { job, fzstd: fzstdPath } });
  started?.(worker);
  return new Promise<GzipOutcome>((resolve, reject) => {
    let outcome: GzipOutcome | undefined;
    let crash: Error | undefined;
    const stop = () => void worker.terminate();
    signal?.addEventListener("abort", stop, { once: true });
    worker.on("message", (message: GzipOutcome) => {
      outcome = message;
    });
    worker.on("error", (error) => {
      crash = error;
    });
    worker.once("exit", (code) => {
      signal?.removeEventListener("abort", stop);
      if (signal?.aborted) reject(signal.reason);
      else if (outcome) resolve(outcome);
      else
        resolve({
          ok: false,
          writing: false,
          message: `the compressing thread stopped${crash ? `: ${crash.message}` : ` (exit code ${code})`}`,
        });
    });
  });
}

/**
 * A plain layer this large is gzipped in two halves on two threads, written one after the other: a file of two
 * gzip members, which every gzip reader (Go's, as Docker, podman and buildah use; zlib's; Python's) reads as one
 * stream. On two cores the single thread was what a cold `couplet assemble` waited for at the end (2.3 s of
 * level-1 compression for a 259 MB layer). A zstd layer is one stream that cannot be entered in the middle.
 */
export const SPLIT_AT_LEAST = 32 << 20;
const MiB = 1 << 20;

/**
 * `job` on one worker, or on two for a large plain layer (`splitAtLeast`, for tests). The first worker reads the
 * whole range, so the diff_id check still covers every byte, and gzips the first half (cut on a MiB boundary, so
 * the same layer gives the same bytes); the second gzips the rest into a file that is then appended. Settles
 * only once every worker has exited; the appended file is removed whatever happens.
 */
export async function gzipLayer(
  job: GzipJob,
  signal?: AbortSignal,
  splitAtLeast = SPLIT_AT_LEAST,
): Promise<GzipOutcome> {
  if (job.zstd || job.gzipBytes !== undefined || job.size < Math.max(splitAtLeast, 2 * MiB))
    return gzipInWorker(job, signal);
  const cut = Math.floor(job.size / 2 / MiB) * MiB;
  const tail = `${job.output}.rest`;
  // One failing stops the other; the caller's signal stops both.
  const both = new AbortController();
  const forward = () => both.abort(signal?.reason);
  signal?.addEventListener("abort", forward, { once: true });
  const run = (part: GzipJob) =>
    gzipInWorker(part, both.signal).then((outcome) => {
      if (!outcome.ok) both.abort(new Error("the other half failed"));
      return outcome;
    });
  try {
    const [head, rest] = await Promise.allSettled([
      run({ ...job, gzipBytes: cut }),
      run({ ...job, start: job.start + cut, size: job.size - cut, diffId: undefined, output: tail }),
    ]);
    if (signal?.aborted) throw signal.reason;
    for (const half of [head, rest]) if (half.status === "fulfilled" && !half.value.ok) return half.value;
    if (head.status === "rejected") throw head.reason;
    if (rest.status === "rejected") throw rest.reason;
    return await appendMember(job.output, tail, head.value.ok ? head.value.size : 0);
  } finally {
    signal?.removeEventListener("abort", forward);
    await rm(tail, { force: true }).catch(() => undefined);
  }
}

/** Append `tail` to `output`, hashing both: the digest and size of the whole. */
async function appendMember(output: string, tail: string, headSize: number): Promise<GzipOutcome> {
  const hash = createHash("sha256");
  let size = headSize;
  try {
    for await (const chunk of createReadStream(output, { highWaterMark: MiB })) hash.update(chunk as Buffer);
    const summed = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        size += chunk.length;
        done(null, chunk);
      },
    });
    await pipeline(
      createReadStream(tail, { highWaterMark: MiB }),
      summed,
      createWriteStream(output, { flags: "a" }),
    );
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { ok: false, writing: true, message: String((error as Error).message), ...(code ? { code } : {}) };
  }
  return { ok: true, digest: `sha256:${hash.digest("hex")}`, size };
}
