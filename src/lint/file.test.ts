import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
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
});
