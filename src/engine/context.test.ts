import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { copyTree, stageContext } from "./context.js";

function project(): string {
  const dir = mkdtempSync(join(tmpdir(), "couplet-ctx-src-"));
  mkdirSync(join(dir, "pkg"));
  mkdirSync(join(dir, ".venv/lib"), { recursive: true });
  mkdirSync(join(dir, "docs"));
  writeFileSync(join(dir, "pyproject.toml"), "[tool.poetry]\n");
  writeFileSync(join(dir, "pkg/__init__.py"), "");
  writeFileSync(join(dir, ".venv/lib/big.so"), "x");
  writeFileSync(join(dir, "docs/keep.md"), "keep");
  writeFileSync(join(dir, "docs/drop.md"), "drop");
  return dir;
}

describe("stageContext", () => {
  it("copies what the ignore rules keep, writes the generated files, and leaves the project untouched", async () => {
    const src = project();
    const dest = await stageContext(src, ".venv\ndocs\n!docs/keep.md\n", { Dockerfile: "FROM x\n" });
    expect(readFileSync(join(dest, "Dockerfile"), "utf8")).toBe("FROM x\n");
    expect(existsSync(join(dest, "pkg/__init__.py"))).toBe(true);
    expect(existsSync(join(dest, ".venv/lib/big.so"))).toBe(false);
    // Docker lets `!` bring back a file under an excluded folder; the copy must agree.
    expect(existsSync(join(dest, "docs/keep.md"))).toBe(true);
    expect(existsSync(join(dest, "docs/drop.md"))).toBe(false);
    expect(existsSync(join(src, "Dockerfile"))).toBe(false);
  });

  it("skips an ignored folder without descending into it when no rule re-includes anything", async () => {
    const src = project();
    const dest = mkdtempSync(join(tmpdir(), "couplet-ctx-dest-"));
    await copyTree(src, dest, ".venv\n");
    expect(existsSync(join(dest, ".venv"))).toBe(false);
    expect(existsSync(join(dest, "docs/drop.md"))).toBe(true);
  });
});
