// Keeps code and docs in step: every rule has its own file, test table and doc page named by its id.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ruleDoc, ruleDocUrl } from "./docs.js";
import { RULES } from "./rules/index.js";

const rulesDir = new URL("./rules/", import.meta.url);

describe("rule registry, files and docs", () => {
  it("ids are unique CPL### in order", () => {
    const ids = RULES.map((r) => r.meta.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^CPL\d{3}$/);
    expect([...ids].sort()).toEqual(ids);
  });

  it("every rule file is registered, and every registered rule has its file and test table", () => {
    const files = readdirSync(rulesDir).filter((f) => /^CPL\d{3}\.ts$/.test(f));
    expect(files.map((f) => f.slice(0, 6)).sort()).toEqual(RULES.map((r) => r.meta.id));
    for (const rule of RULES) expect(existsSync(new URL(`${rule.meta.id}.test.ts`, rulesDir))).toBe(true);
  });

  it.each(RULES.map((r) => [r.meta.id, r] as const))(
    "%s has a doc page that matches its metadata",
    (id, rule) => {
      const doc = ruleDoc(id);
      expect(doc, `docs/rules/${id}.md`).toBeDefined();
      const text = doc as string;
      expect(text.split("\n")[0]).toBe(`# ${id}: ${rule.meta.name}`);
      expect(text).toContain(`Default severity: **${rule.meta.defaultSeverity}**`);
      expect(text).toContain(`Autofix: **${rule.meta.fixable ? "yes" : "no"}**`);
      for (const section of [
        "## What it finds",
        "## Why it matters",
        "## How to fix it",
        "Before:",
        "After:",
      ])
        expect(text).toContain(section);
    },
  );

  it("every doc page belongs to a rule", () => {
    const pages = readdirSync(new URL(".", ruleDocUrl("CPL001"))).filter((f) => f.endsWith(".md"));
    expect(pages.map((p) => p.replace(/\.md$/, "")).sort()).toEqual(RULES.map((r) => r.meta.id));
  });

  it("each rule module names its id in its first line", () => {
    for (const rule of RULES) {
      const first = readFileSync(new URL(`${rule.meta.id}.ts`, rulesDir), "utf8").split("\n")[0];
      expect(first).toMatch(new RegExp(`^// ${rule.meta.id}: `));
    }
  });
});
