import { describe, expect, it } from "vitest";
import { userError } from "../../test/support/errors.js";
import { readConfig } from "./config.js";
import { checkInput, fixText, lintText, MAX_BYTES } from "./engine.js";
import { RULES } from "./rules/index.js";

const ids = RULES.map((r) => r.meta.id);

describe("lint engine", () => {
  it("an inline pragma on the line above silences only the named rule on that instruction", () => {
    const text =
      "FROM python:3.11-slim\n# couplet-ignore CPL001\nRUN pip install poetry\nRUN pip install poetry\n";
    const findings = lintText(text, "Dockerfile");
    expect(findings.filter((f) => f.rule === "CPL001").map((f) => f.line)).toEqual([4]);
    expect(findings.filter((f) => f.rule === "CPL008").map((f) => f.line)).toEqual([3, 4]);
  });

  it("config ignores rules and changes or turns off severities", () => {
    const text = "FROM python\nRUN pip install --no-cache-dir poetry\n";
    const config = readConfig({ ignore: ["CPL022"], severity: { CPL001: "error", CPL019: "off" } }, ids, {
      file: "pyproject.toml",
    });
    const findings = lintText(text, "Dockerfile", { config });
    expect(findings.map((f) => `${f.rule}:${f.severity}`).sort()).toEqual([
      "CPL001:error",
      "CPL003:warning",
      "CPL013:warning",
    ]);
  });

  it("unknown rule ids and keys in [tool.couplet.lint] are a located user error", () => {
    // The project reader records where each id is written (see context.test.ts for a real pyproject.toml).
    const lines = { ignore: 2, CPL999: 2 };
    const error = userError(() => readConfig({ ignore: ["CPL999"] }, ids, { file: "pyproject.toml", lines }));
    expect(error.message).toContain('unknown rule "CPL999"');
    expect(error.location).toEqual({ file: "pyproject.toml", line: 2 });
    expect(userError(() => readConfig({ ignores: [] }, ids, { file: "p" })).message).toContain(
      'unknown key "ignores"',
    );
    expect(
      userError(() => readConfig({ severity: { CPL001: "fatal" } }, ids, { file: "p" })).message,
    ).toContain("must be");
  });

  it("refuses what is not a Dockerfile with file:line and exit code 2", () => {
    const binary = userError(() => checkInput(Buffer.from([0x46, 0x52, 0x0a, 0x00, 0x01]), "img.png"));
    expect([binary.exitCode, binary.location?.line]).toEqual([2, 2]);
    expect(userError(() => checkInput(Buffer.alloc(MAX_BYTES + 1, 0x41), "big")).message).toContain("MiB");
    const unknown = userError(() => lintText("FROM python:3.11\nRUN true\nCOPPY . .\n", "Dockerfile"));
    expect([unknown.location?.line, unknown.location?.column, unknown.exitCode]).toEqual([3, 1, 2]);
    expect(userError(() => lintText("# just a comment\n", "Dockerfile")).message).toContain("no FROM");
    expect(userError(() => lintText("RUN true\nFROM x\n", "Dockerfile")).message).toContain(
      "before the first FROM",
    );
    expect(
      userError(() => lintText("FROM python:3.11\n", "Dockerfile", { target: "nope" })).message,
    ).toContain('no stage named "nope"');
  });

  it("fixes overlapping findings over several passes and reports what is left", () => {
    const text = "FROM python:3.11-slim\nRUN apt-get update && apt-get install -y gcc\nCMD python -m app\n";
    const result = fixText(text, "Dockerfile");
    expect(result.text).toBe(
      'FROM python:3.11-slim\nRUN apt-get update && apt-get install --no-install-recommends -y gcc && rm -rf /var/lib/apt/lists/*\nCMD ["python", "-m", "app"]\n',
    );
    expect(result.fixed).toBe(3);
    expect(result.remaining.map((f) => f.rule).sort()).toEqual(["CPL012", "CPL019"]);
  });

  it("every finding has 1-based positions inside the file", () => {
    const text = "FROM python\nRUN pip install poetry && poetry install\nCMD run\n";
    for (const f of lintText(text, "Dockerfile")) {
      expect(f.line).toBeGreaterThanOrEqual(1);
      expect(f.column).toBeGreaterThanOrEqual(1);
      expect(f.line).toBeLessThanOrEqual(3);
    }
  });
});
