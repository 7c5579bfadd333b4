// The seed variants (reconstructed from the seed documents) give exactly the findings the seeds say each lacks.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { fixText, lintText } from "./engine.js";

const dir = new URL("../../test/fixtures/dockerfiles/seed/", import.meta.url);
const dockerignore = { path: ".dockerignore", text: readFileSync(new URL(".dockerignore", dir), "utf8") };

function lint(name: string): string[] {
  const text = readFileSync(new URL(name, dir), "utf8");
  return [...new Set(lintText(text, name, { dockerignore }).map((f) => f.rule))].sort();
}

// Each id is justified in test/fixtures/dockerfiles/seed/README.md.
const EXPECTED: Record<string, string[]> = {
  "basic-full-image.dockerfile": ["CPL001", "CPL003", "CPL005", "CPL006", "CPL013"],
  "basic-slim-image.dockerfile": ["CPL001", "CPL003", "CPL005", "CPL006", "CPL012"],
  "basic-slim-image-buildkit.dockerfile": ["CPL001", "CPL003", "CPL005", "CPL006", "CPL009", "CPL012"],
  "layered-slim-image.dockerfile": ["CPL001", "CPL003", "CPL005", "CPL006"],
  "multi-layered-slim-iamge.dockerfile": ["CPL001", "CPL005"],
};

describe("seed variants", () => {
  for (const [name, rules] of Object.entries(EXPECTED)) {
    it(`${name}: ${rules.join(" ")}`, () => {
      expect(lint(name)).toEqual(rules);
    });
  }

  it("the typo is caught on the RUN that has it, and fixing it leaves a real cache mount", () => {
    const name = "basic-slim-image-buildkit.dockerfile";
    const text = readFileSync(new URL(name, dir), "utf8");
    const typo = lintText(text, name, { dockerignore }).filter((f) => f.rule === "CPL009");
    expect(typo.map((f) => [f.line, f.column])).toEqual([[14, 5]]);
    const fixed = fixText(text, name, { dockerignore });
    expect(fixed.text).toContain("RUN --mount=type=cache,target=/root/.cache \\\n    poetry install");
    expect(fixed.text.startsWith("# syntax=docker/dockerfile:1\n")).toBe(true);
    const after = fixed.remaining.map((f) => f.rule);
    expect(after).not.toContain("CPL009");
    expect(after).not.toContain("CPL010");
  });

  it("the development target of the multi-stage variant has the dev groups", () => {
    const name = "multi-layered-slim-iamge.dockerfile";
    const text = readFileSync(new URL(name, dir), "utf8");
    const rules = lintText(text, name, { dockerignore, target: "development" }).map((f) => f.rule);
    expect(rules).toContain("CPL006");
  });
});
