// Byte searches for secrets in a saved image: every file of the archive, each layer decompressed.
import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { gunzipSync } from "node:zlib";

const exec = promisify(execFile);

/** Every file under `dir`, decompressed when it is a gzip or zstd stream (layers may be either). */
async function* archiveContents(dir: string): AsyncGenerator<{ path: string; bytes: Buffer }> {
  for (const entry of await readdir(dir, { recursive: true })) {
    const path = join(dir, entry);
    if (!(await stat(path)).isFile()) continue;
    let bytes = await readFile(path);
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
    else if (bytes.length >= 4 && bytes.readUInt32LE(0) === 0xfd2fb528)
      bytes = (await exec("zstd", ["-dc", path], { encoding: "buffer", maxBuffer: 1 << 30 })).stdout;
    yield { path: entry, bytes };
  }
}

/**
 * The files of an image archive (docker-archive or OCI: layers, config, manifest) that hold any of `needles`,
 * byte for byte, and how many files were searched (so that a test can tell an empty search from a clean one).
 */
export async function archiveFilesHolding(
  archive: string,
  needles: Buffer[],
): Promise<{ files: number; leaks: string[] }> {
  const dir = await mkdtemp(join(tmpdir(), "couplet-e2e-unpacked-"));
  try {
    await exec("tar", ["-xf", archive, "-C", dir]);
    let files = 0;
    const leaks: string[] = [];
    for await (const { path, bytes } of archiveContents(dir)) {
      files++;
      if (needles.some((needle) => bytes.includes(needle))) leaks.push(path);
    }
    return { files, leaks };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
