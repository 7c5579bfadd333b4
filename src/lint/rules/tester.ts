// Table-driven rule tests in typescript-eslint's style: valid cases must be silent, invalid ones must report
// exactly the listed lines, and an invalid case with a fix states the fixed text.
import { describe, expect, it } from "vitest";
import { fixText, lintText } from "../engine.js";
import type { DockerignoreFile, LintProject, Rule } from "../types.js";

export interface ValidCase {
  name: string;
  code: string;
  project?: LintProject;
  dockerignore?: DockerignoreFile;
  target?: string;
}

export interface InvalidCase extends ValidCase {
  /** 1-based lines of the expected findings, in order */
  lines: number[];
  /** A fragment each message must contain */
  message?: string;
  /** The text after applying this rule's fixes; omitted means the rule offers no fix here */
  output?: string;
}

/** A project as `analyze` would describe it (for rules that need one). */
export function project(overrides: Partial<LintProject> = {}): LintProject {
  return {
    lockPoetryVersion: undefined,
    production: { groups: ["main"], extras: [] },
    lockPoetryFromHeader: true,
    devGroups: [],
    packageMode: true,
    nativeRuntime: [],
    ...overrides,
  };
}

export function ruleTable(rule: Rule, cases: { valid: ValidCase[]; invalid: InvalidCase[] }): void {
  describe(`${rule.meta.id} ${rule.meta.name}`, () => {
    for (const c of cases.valid) {
      it(`valid: ${c.name}`, () => {
        const findings = lintText(c.code, "Dockerfile", {
          rules: [rule],
          project: c.project,
          dockerignore: c.dockerignore,
          target: c.target,
        });
        expect(findings.map((f) => `${f.line}: ${f.message}`)).toEqual([]);
      });
    }
    for (const c of cases.invalid) {
      it(`invalid: ${c.name}`, () => {
        const options = { rules: [rule], project: c.project, dockerignore: c.dockerignore, target: c.target };
        const findings = lintText(c.code, "Dockerfile", options);
        expect(findings.map((f) => f.line)).toEqual(c.lines);
        for (const f of findings) {
          expect(f.rule).toBe(rule.meta.id);
          if (c.message) expect(f.message).toContain(c.message);
        }
        const fixed = fixText(c.code, "Dockerfile", options);
        if (c.output === undefined) {
          expect(fixed.text).toBe(c.code);
        } else {
          expect(rule.meta.fixable).toBe(true);
          expect(fixed.text).toBe(c.output);
        }
      });
    }
  });
}
