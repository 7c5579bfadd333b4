// Fixing is safe: a fix applies only where the shell parse is sure, removes its finding, keeps the file a
// Dockerfile, and a second run changes nothing. Cases from the probe of issue 8 (test/fixtures/dockerfiles/probe).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { fixText, lintText } from "./engine.js";
import type { Rule } from "./types.js";

const probe = (name: string): string =>
  readFileSync(new URL(`../../test/fixtures/dockerfiles/probe/${name}`, import.meta.url), "utf8");

describe("lint --fix settles", () => {
  it("does not fix inside an unterminated quote, and a second run changes nothing (fix-grows)", () => {
    const text = probe("fix-grows.Dockerfile");
    const findings = lintText(text, "Dockerfile");
    const lists = findings.find((f) => f.rule === "CPL017");
    // The finding is still reported, without a fix: the parse cannot say where the RUN's shell ends.
    expect(lists).toBeDefined();
    expect(lists?.fix).toBeUndefined();
    const once = fixText(text, "Dockerfile");
    expect(once.text).toBe(text);
    expect(fixText(once.text, "Dockerfile").text).toBe(once.text);
  });

  it("still fixes the same RUN once the quote is closed", () => {
    const text = probe("fix-grows.Dockerfile").replace('"gcc', '"gcc"');
    const fixed = fixText(text, "Dockerfile");
    expect(fixed.text).toContain('"gcc" && rm -rf /var/lib/apt/lists/*\n');
    expect(fixText(fixed.text, "Dockerfile").text).toBe(fixed.text);
  });

  it("keeps a byte order mark first and puts the # syntax line after it (bom-cpl010)", () => {
    const text = probe("bom-cpl010.Dockerfile");
    expect(text.startsWith("\uFEFFFROM")).toBe(true);
    const fixed = fixText(text, "Dockerfile");
    expect(fixed.text.startsWith("\uFEFF# syntax=docker/dockerfile:1\nFROM python:3.11-slim\n")).toBe(true);
    expect(lintText(fixed.text, "Dockerfile").some((f) => f.rule === "CPL010")).toBe(false);
    expect(fixText(fixed.text, "Dockerfile").text).toBe(fixed.text);
  });

  it("reports positions of a file with a byte order mark as an editor shows them", () => {
    const text = "\uFEFFFROM python\nRUN pip install poetry\n";
    const tag = lintText(text, "Dockerfile").find((f) => f.rule === "CPL022");
    expect(tag).toMatchObject({ line: 1, column: 6 });
  });

  it("drops a fix that does not remove its finding instead of applying it on every run", () => {
    const stubborn: Rule = {
      meta: { id: "CPL900", name: "t", defaultSeverity: "warning", description: "t", fixable: true },
      check({ model, report }) {
        const end = model.text.length;
        report({
          range: model.rangeOf(0, 1),
          message: "always",
          fix: [{ start: end, end, text: "# more\n" }],
        });
      },
    };
    const text = "FROM python:3.11-slim\n";
    expect(fixText(text, "Dockerfile", { rules: [stubborn] })).toMatchObject({ text, fixed: 0 });
  });

  it("drops a fix whose result is not a Dockerfile", () => {
    const breaking: Rule = {
      meta: { id: "CPL901", name: "t", defaultSeverity: "warning", description: "t", fixable: true },
      check({ model, report }) {
        if (model.text.startsWith("BOGUS")) return;
        report({ range: model.rangeOf(0, 1), message: "x", fix: [{ start: 0, end: 0, text: "BOGUS x\n" }] });
      },
    };
    const text = "FROM python:3.11-slim\n";
    expect(fixText(text, "Dockerfile", { rules: [breaking] })).toMatchObject({ text, fixed: 0 });
  });

  it("keeps the good fixes of a pass when one of them does not work", () => {
    const stubborn: Rule = {
      meta: { id: "CPL900", name: "t", defaultSeverity: "warning", description: "t", fixable: true },
      check({ model, report }) {
        report({ range: model.rangeOf(0, 1), message: "always", fix: [{ start: 0, end: 0, text: "# x\n" }] });
      },
    };
    const text = "FROM python:3.11-slim\nRUN pip install poetry==1.8.5\n";
    const fixed = fixText(text, "Dockerfile", {
      rules: [stubborn, ...(lintRules("CPL008") as Rule[])],
    });
    expect(fixed.text).toContain("pip install --no-cache-dir poetry==1.8.5");
    expect(fixed.text.startsWith("FROM")).toBe(true);
  });
});

import { RULES } from "./rules/index.js";

function lintRules(...ids: string[]): Rule[] {
  return RULES.filter((r) => ids.includes(r.meta.id));
}

describe("lint ends on every probe reproducer", () => {
  for (const name of ["minimal.Dockerfile", "subshell.Dockerfile", "case.Dockerfile"])
    it(name, () => {
      const text = probe(name);
      expect(Array.isArray(lintText(text, "Dockerfile"))).toBe(true);
      const fixed = fixText(text, "Dockerfile");
      expect(fixText(fixed.text, "Dockerfile").text).toBe(fixed.text);
    });

  it("reads the case arms of case.Dockerfile as commands", () => {
    const text = probe("case.Dockerfile");
    const { buildModel } = modelModule;
    const run = buildModel(text, "Dockerfile").stages[0]?.steps[0];
    expect(run?.kind === "run" && run.commands.map((c) => c.assignments.map((a) => a.name).join())).toEqual([
      "A",
      "A",
    ]);
  });

  // The probe's lint-long-run files: one RUN of 20,000 and 40,000 `&&`-joined commands (quadratic before).
  for (const n of [20000, 40000])
    it(`one RUN of ${n} commands`, () => {
      const text = `FROM python:3.11-slim\nRUN ${Array.from({ length: n }, (_, i) => `echo ${i}`).join(" && ")}\nCMD ["python"]\n`;
      const findings = lintText(text, "Dockerfile");
      expect(findings.map((f) => f.rule)).toEqual(["CPL019"]);
    }, 60_000);
});

import * as modelModule from "./model.js";
