import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { InputFileError } from "../errors.js";
import { MAX_BYTES } from "./engine.js";
import { lintFile } from "./file.js";

function dir(): string {
  return mkdtempSync(join(tmpdir(), "couplet-lint-file-"));
}

describe("lintFile", () => {
  it("--fix rewrites the file, keeps the original as .bak and leaves no temp file", async () => {
    const d = dir();
    const file = join(d, "Dockerfile");
    const original = "FROM python:3.11-slim\nRUN pip install poetry==1.8.5\nCMD python -m app\n";
    writeFileSync(file, original);
    const result = await lintFile(file, { fix: true });
    expect(readFileSync(file, "utf8")).toBe(
      'FROM python:3.11-slim\nRUN pip install --no-cache-dir poetry==1.8.5\nCMD ["python", "-m", "app"]\n',
    );
    expect(readFileSync(`${file}.bak`, "utf8")).toBe(original);
    expect(readdirSync(d).sort()).toEqual(["Dockerfile", "Dockerfile.bak"]);
    expect(result.fixed).toBe(2);
    expect(result.findings.some((f) => f.fix)).toBe(false);
    expect(result.notes.at(-1)).toMatch(/fixed 2 problem\(s\).*left that need a manual change/);
  });

  it("nothing fixable: the file and its folder are left alone", async () => {
    const d = dir();
    const file = join(d, "Dockerfile");
    writeFileSync(file, "FROM python:3.11-slim\n");
    const result = await lintFile(file, { fix: true });
    expect(existsSync(`${file}.bak`)).toBe(false);
    expect(result.notes.at(-1)).toContain("nothing could be fixed automatically");
  });

  it("refuses huge files and folders with exit code 2", async () => {
    const d = dir();
    const huge = join(d, "huge");
    writeFileSync(huge, Buffer.alloc(MAX_BYTES + 10, 0x41));
    await expect(lintFile(huge)).rejects.toMatchObject({ exitCode: 2, location: { file: huge } });
    await expect(lintFile(d)).rejects.toMatchObject({ message: "not a file" });
  });

  it("--fix never replaces an existing Dockerfile.bak (the fix goes to Dockerfile.bak.1)", async () => {
    const d = dir();
    const file = join(d, "Dockerfile");
    writeFileSync(file, "FROM python:3.11\nRUN pip install poetry\n");
    writeFileSync(`${file}.bak`, "MY BACKUP\n");
    const result = await lintFile(file, { fix: true, project: false });
    expect(result.fixed).toBeGreaterThan(0);
    expect(readFileSync(`${file}.bak`, "utf8")).toBe("MY BACKUP\n");
    expect(readFileSync(`${file}.bak.1`, "utf8")).toBe("FROM python:3.11\nRUN pip install poetry\n");
    expect(result.notes.join("\n")).toContain("Dockerfile.bak.1");
  });

  it("--fix on a symlinked Dockerfile fixes the target and keeps the link", async () => {
    const d = dir();
    mkdirSync(join(d, "real"));
    writeFileSync(join(d, "real", "prod.Dockerfile"), "FROM python:3.11\nRUN pip install poetry\n");
    symlinkSync("real/prod.Dockerfile", join(d, "Dockerfile"));
    await lintFile(join(d, "Dockerfile"), { fix: true, project: false });
    expect(lstatSync(join(d, "Dockerfile")).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(d, "real", "prod.Dockerfile"), "utf8")).toContain("--no-cache-dir");
  });

  it("a .dockerignore that is a folder is one clear input error, not a crash", async () => {
    const d = dir();
    mkdirSync(join(d, ".dockerignore"));
    writeFileSync(join(d, "Dockerfile"), "FROM python:3.11\n");
    const error = await lintFile(join(d, "Dockerfile")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputFileError);
    expect((error as Error).message).toBe("cannot read: is a folder, not a file");
  });
});
