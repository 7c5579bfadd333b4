// An OCI layout's blobs written for a new output: what the layout being replaced already holds is linked, not copied.
import { constants, createWriteStream } from "node:fs";
import { copyFile, link, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";

export interface LayoutBlob {
  digest: string;
  size: number;
  /** The blob as a whole file on disk (a base from an OCI layout or the pull cache), when it is one */
  file?: string;
  open: () => Buffer | Readable;
}

/** How each blob got there: `linked` from the replaced layout, `cloned` from a file, `written` from its bytes. */
export type Placement = "linked" | "cloned" | "written";

/**
 * Put `blobs` into `folder` (a new layout's blobs/sha256). A blob the earlier layout at `earlier` holds under
 * its digest with the right size is hard-linked from there (that layout is removed once the new one is in
 * place, so nothing is shared for long); a blob is trusted by its name and size there, as containers/image's
 * OCI layout writer trusts an existing blob by its name. A blob that is a file elsewhere is copied with
 * copy-on-write where the file system has it (a reflink on btrfs or XFS; the kernel's copy elsewhere), and
 * only the rest go through this process.
 */
export async function placeBlobs(folder: string, earlier: string, blobs: LayoutBlob[]): Promise<Placement[]> {
  const placed: Placement[] = [];
  for (const blob of blobs) {
    const name = blob.digest.replace(/^sha256:/, "");
    const target = path.join(folder, name);
    const old = path.join(earlier, name);
    const info = await stat(old).catch(() => undefined);
    if (info?.isFile() && info.size === blob.size) {
      // A file system without hard links (or another device) gets a copy instead.
      const how = await link(old, target)
        .then((): Placement => "linked")
        .catch(async () => {
          await copyFile(old, target, constants.COPYFILE_FICLONE);
          return "cloned" as const;
        });
      placed.push(how);
      continue;
    }
    if (blob.file) {
      await copyFile(blob.file, target, constants.COPYFILE_FICLONE);
      placed.push("cloned");
      continue;
    }
    const data = blob.open();
    if (Buffer.isBuffer(data)) await writeFile(target, data);
    else await pipeline(data, createWriteStream(target));
    placed.push("written");
  }
  return placed;
}
