// Gzip a byte range of a file into another file on a worker thread, so the compression's reading, hashing and
// stream plumbing run beside the main thread's work (installing wheels, packing layers) instead of between it.
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

export interface GzipJob {
  /** The file holding the input, and where in it */
  file: string;
  start: number;
  size: number;
  /** The input is a zstd stream, to be decompressed before gzipping */
  zstd: boolean;
  /** sha256 the uncompressed content must have (the layer's diff_id): a gzip of anything else is refused */
  diffId: string;
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
  const content = createHash("sha256");
  const checked = new Transform({
    transform(chunk, _encoding, done) {
      content.update(chunk);
      done(null, chunk);
    },
    flush(done) {
      const got = "sha256:" + content.digest("hex");
      done(got === job.diffId ? null : new Error("its content hashes to " + got + ", not to the diff_id " + job.diffId + " the image config lists"));
    },
  });
  stages.push(checked);
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
