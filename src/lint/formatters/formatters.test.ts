import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import AjvDraft04 from "ajv-draft-04";
import { describe, expect, it } from "vitest";
import { lintText } from "../engine.js";
import { formatJson } from "./json.js";
import { formatSarif } from "./sarif.js";
import { formatStylish } from "./stylish.js";

// The SARIF 2.1.0 schema (rtm.5, the version GitHub code scanning validates against), as shipped by Microsoft's
// @microsoft/jest-sarif package; it is a draft-04 JSON schema, hence ajv-draft-04, and one of its patterns
// (the language tag) is not valid with the `u` flag, hence unicodeRegExp: false.
const require = createRequire(import.meta.url);
const schemaPath = require.resolve("@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json");
const schema = JSON.parse(readFileSync(schemaPath, "utf8"));
// CommonJS with `exports.default`: under NodeNext the default import is the module object.
const Ajv = AjvDraft04.default;

const text = "FROM python\nRUN mount=type=cache,target=/root/.cache pip install poetry\nCMD run app\n";
const findings = lintText(text, "dir/Dockerfile");

describe("formatters", () => {
  it("JSON: an array of findings with 1-based positions and no internal fix edits", () => {
    const parsed = JSON.parse(formatJson(findings)) as Record<string, unknown>[];
    expect(parsed).toHaveLength(findings.length);
    for (const f of parsed) {
      expect(Object.keys(f).sort()).toEqual([
        "column",
        "endColumn",
        "endLine",
        "file",
        "line",
        "message",
        "rule",
        "severity",
      ]);
      expect(["error", "warning", "info"]).toContain(f.severity);
    }
    expect(parsed.find((f) => f.rule === "CPL009")).toMatchObject({
      file: "dir/Dockerfile",
      line: 2,
      column: 5,
    });
  });

  it("SARIF: valid against the 2.1.0 schema, one result per finding", () => {
    const log = JSON.parse(formatSarif(findings));
    const validate = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false }).compile(schema);
    const valid = validate(log);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
    expect(log.runs[0].results).toHaveLength(findings.length);
    const typo = log.runs[0].results.find((r: { ruleId: string }) => r.ruleId === "CPL009");
    expect(typo.level).toBe("error");
    expect(typo.locations[0].physicalLocation).toMatchObject({
      artifactLocation: { uri: "dir/Dockerfile" },
      region: { startLine: 2, startColumn: 5 },
    });
    expect(log.runs[0].tool.driver.rules[typo.ruleIndex].id).toBe("CPL009");
  });

  it("SARIF with no findings is still a valid log", () => {
    const validate = new Ajv({ strict: false, unicodeRegExp: false }).compile(schema);
    expect(validate(JSON.parse(formatSarif([])))).toBe(true);
  });

  it("stylish: grouped by file, rule id at the end of each line, a summary", () => {
    const out = formatStylish(findings);
    const lines = out.split("\n");
    expect(lines[0]).toBe("dir/Dockerfile");
    expect(lines.some((l) => /^ {2}2:5 +error +.*CPL009$/.test(l))).toBe(true);
    expect(out).toMatch(/\d+ problem\(s\) \(1 error\(s\), \d+ warning\(s\), 0 info\)/);
    expect(formatStylish([])).toBe("");
  });
});
