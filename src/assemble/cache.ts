// What `couplet assemble` keeps between runs, keyed by content: facts about a base, installed sizes, finished layers.
import { createHash, randomBytes } from "node:crypto";
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";

/**
 * Bumped when what a record or a cached layer holds changes shape or content for the same inputs (a fix in
 * the wheel installer, a new file in every layer): old entries are then simply never looked up again.
 */
const FORMAT = 1;

/** A key for `parts`: the sha256 of their JSON, with the format version mixed in. */
export function cacheKey(parts: unknown): string {
  return createHash("sha256")
    .update(JSON.stringify([FORMAT, parts]))
    .digest("hex");
}

export class AssembleCache {
  constructor(private readonly root: string) {}

  private recordFile(kind: string, key: string): string {
    return path.join(this.root, "assemble", kind, key.slice(0, 2), `${key}.json`);
  }

  /** A record written by an earlier run, or undefined (a damaged one counts as absent). */
  async get<T>(kind: string, key: string): Promise<T | undefined> {
    try {
      return JSON.parse(await readFile(this.recordFile(kind, key), "utf8")) as T;
    } catch {
      return undefined;
    }
  }

  /**
   * Keep a record. The cache only saves time: a cache that cannot be written leaves this run's result intact,
   * so a failure here is swallowed.
   */
  async put(kind: string, key: string, value: unknown): Promise<void> {
    await writeAtomically(this.recordFile(kind, key), Buffer.from(JSON.stringify(value))).catch(
      () => undefined,
    );
  }

  /** Where a layer blob with this digest lives. */
  blobFile(digest: string): string {
    const hex = digest.replace(/^sha256:/, "");
    return path.join(this.root, "assemble", "blobs", "sha256", hex.slice(0, 2), hex);
  }

  /** The blob's bytes if they are there and still hash to the digest (a damaged cache must not reach an image). */
  async getBlob(digest: string, size: number): Promise<Buffer | undefined> {
    const file = this.blobFile(digest);
    const info = await stat(file).catch(() => undefined);
    if (info?.size !== size) return undefined;
    const data = await readFile(file).catch(() => undefined);
    if (!data || `sha256:${createHash("sha256").update(data).digest("hex")}` !== digest) return undefined;
    return data;
  }

  async putBlob(digest: string, data: Buffer): Promise<void> {
    await writeAtomically(this.blobFile(digest), data).catch(() => undefined);
  }

  /** A folder on the cache's file system for a blob being written whose digest is not known yet. */
  scratchFolder(): string {
    return path.join(this.root, "assemble", "tmp");
  }

  /** Move a finished file from scratchFolder() to where the blob with this digest lives; false if that failed. */
  async adoptBlob(digest: string, file: string): Promise<boolean> {
    const target = this.blobFile(digest);
    try {
      await mkdir(path.dirname(target), { recursive: true });
      await rename(file, target);
      return true;
    } catch {
      return false;
    }
  }
}

/** Temporary sibling, then rename: a reader never sees half a record, whatever runs at the same time. */
async function writeAtomically(file: string, data: Buffer): Promise<void> {
  const temporary = `${file}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(temporary, data);
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => undefined);
    throw error;
  }
}
