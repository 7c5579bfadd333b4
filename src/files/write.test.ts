import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { OutputFileError, RefusedError } from "../errors.js";
import { writeFiles } from "./write.js";

function folder(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "couplet-write-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const pair = (dir: string) => [
  { path: join(dir, "Dockerfile"), text: "NEW DOCKERFILE\n" },
  { path: join(dir, ".dockerignore"), text: "NEW IGNORE\n" },
];
const read = (dir: string, name: string) => readFileSync(join(dir, name), "utf8");
const leftovers = (dir: string) => readdirSync(dir).filter((n) => n.includes("couplet-"));

describe("writeFiles", () => {
  it("writes new files and makes no backup", async () => {
    const dir = folder();
    const result = await writeFiles(pair(dir), { replace: false });
    expect(result.backups).toEqual([]);
    expect(read(dir, "Dockerfile")).toBe("NEW DOCKERFILE\n");
    expect(readdirSync(dir).sort()).toEqual([".dockerignore", "Dockerfile"]);
  });

  it("replaces a report without a backup when asked (backup: false), leaving nothing else behind", async () => {
    const dir = folder({ "report.html": "OLD\n" });
    const file = { path: join(dir, "report.html"), text: "NEW\n" };
    for (let run = 0; run < 3; run++) {
      const result = await writeFiles([file], { replace: true, backup: false });
      expect(result.backups).toEqual([]);
    }
    expect(read(dir, "report.html")).toBe("NEW\n");
    expect(readdirSync(dir)).toEqual(["report.html"]);
  });

  it("refuses to replace without `replace`, and writes nothing (not even the file that is free)", async () => {
    const dir = folder({ Dockerfile: "MINE\n" });
    await expect(writeFiles(pair(dir), { replace: false })).rejects.toBeInstanceOf(RefusedError);
    expect(readdirSync(dir)).toEqual(["Dockerfile"]);
  });

  it("never replaces an existing backup: the next free X.bak.N is used", async () => {
    const dir = folder({
      Dockerfile: "ORIGINAL\n",
      "Dockerfile.bak": "MY BACKUP\n",
      "Dockerfile.bak.1": "OLDER\n",
    });
    const result = await writeFiles(pair(dir).slice(0, 1), { replace: true });
    expect(result.backups).toEqual([join(dir, "Dockerfile.bak.2")]);
    expect(read(dir, "Dockerfile.bak")).toBe("MY BACKUP\n");
    expect(read(dir, "Dockerfile.bak.1")).toBe("OLDER\n");
    expect(read(dir, "Dockerfile.bak.2")).toBe("ORIGINAL\n");
    expect(read(dir, "Dockerfile")).toBe("NEW DOCKERFILE\n");
  });

  it("a folder named .dockerignore.bak is skipped like any taken name: both files are replaced", async () => {
    const dir = folder({ Dockerfile: "ORIGINAL\n", ".dockerignore": "ORIG IGNORE\n" });
    mkdirSync(join(dir, ".dockerignore.bak"));
    await writeFiles(pair(dir), { replace: true });
    expect(read(dir, "Dockerfile")).toBe("NEW DOCKERFILE\n");
    expect(read(dir, ".dockerignore")).toBe("NEW IGNORE\n");
    expect(read(dir, ".dockerignore.bak.1")).toBe("ORIG IGNORE\n");
    expect(leftovers(dir)).toEqual([]);
  });

  it("a folder where the Dockerfile goes: one clear error, nothing written, no temporary file", async () => {
    const dir = folder({ ".dockerignore": "ORIG IGNORE\n" });
    mkdirSync(join(dir, "Dockerfile"));
    const error = await writeFiles(pair(dir), { replace: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OutputFileError);
    expect((error as Error).message).toMatch(/is a folder, not a file; nothing was written/);
    expect(read(dir, ".dockerignore")).toBe("ORIG IGNORE\n");
    expect(readdirSync(dir).sort()).toEqual([".dockerignore", "Dockerfile"]);
  });

  it("a failure while staging the second file leaves the first untouched and removes every temp and backup", async () => {
    const dir = folder({ Dockerfile: "ORIGINAL\n", blocker: "a file where a folder goes\n" });
    const files = [
      { path: join(dir, "Dockerfile"), text: "NEW\n" },
      { path: join(dir, "blocker", ".dockerignore"), text: "NEW\n" },
    ];
    await expect(writeFiles(files, { replace: true })).rejects.toBeInstanceOf(OutputFileError);
    expect(readdirSync(dir).sort()).toEqual(["Dockerfile", "blocker"]);
    expect(read(dir, "Dockerfile")).toBe("ORIGINAL\n");
  });

  it("makes the folders a new file needs (.github/workflows)", async () => {
    const dir = folder();
    const path = join(dir, ".github", "workflows", "couplet.yml");
    await writeFiles([{ path, text: "name: ci\n" }], { replace: false });
    expect(readFileSync(path, "utf8")).toBe("name: ci\n");
  });

  it("takes away the folders it made when a later file fails: nothing was written means no folder either", async () => {
    const dir = folder({ blocker: "a file where a folder goes\n" });
    const files = [
      { path: join(dir, ".github", "workflows", "couplet.yml"), text: "name: ci\n" },
      { path: join(dir, "blocker", "Dockerfile"), text: "NEW\n" },
    ];
    await expect(writeFiles(files, { replace: false })).rejects.toBeInstanceOf(OutputFileError);
    expect(readdirSync(dir)).toEqual(["blocker"]);
  });

  it("keeps a folder that was already there, even empty, when it takes its own away", async () => {
    const dir = folder({ blocker: "x\n" });
    mkdirSync(join(dir, ".github"));
    const files = [
      { path: join(dir, ".github", "workflows", "couplet.yml"), text: "name: ci\n" },
      { path: join(dir, "blocker", "Dockerfile"), text: "NEW\n" },
    ];
    await expect(writeFiles(files, { replace: false })).rejects.toBeInstanceOf(OutputFileError);
    expect(readdirSync(join(dir, ".github"))).toEqual([]);
  });

  it("follows a symlink: the target is rewritten, the link stays a link", async () => {
    const dir = folder();
    mkdirSync(join(dir, "real"));
    writeFileSync(join(dir, "real", "prod.Dockerfile"), "ORIGINAL\n");
    symlinkSync("real/prod.Dockerfile", join(dir, "Dockerfile"));
    const result = await writeFiles(pair(dir).slice(0, 1), { replace: true });
    expect(lstatSync(join(dir, "Dockerfile")).isSymbolicLink()).toBe(true);
    expect(read(dir, "real/prod.Dockerfile")).toBe("NEW DOCKERFILE\n");
    expect(result.backups).toEqual([join(dir, "real", "prod.Dockerfile.bak")]);
    expect(read(dir, "real/prod.Dockerfile.bak")).toBe("ORIGINAL\n");
  });

  it("keeps the replaced file's mode (a read-only Dockerfile stays read-only)", async () => {
    const dir = folder({ Dockerfile: "ORIGINAL\n" });
    chmodSync(join(dir, "Dockerfile"), 0o444);
    await writeFiles(pair(dir).slice(0, 1), { replace: true });
    expect(statSync(join(dir, "Dockerfile")).mode & 0o777).toBe(0o444);
    expect(read(dir, "Dockerfile")).toBe("NEW DOCKERFILE\n");
  });
});
