// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Dockerfile variables, not templates
// biome-ignore-all lint/style/noNonNullAssertion: the stages exist in these fixed inputs
import { describe, expect, it } from "vitest";
import { buildModel, chain, contributors, expand } from "./model.js";

describe("Dockerfile model", () => {
  it("resolves ARG defaults in FROM and follows FROM <stage> and COPY --from", () => {
    const model = buildModel(
      "ARG PYTHON_IMAGE=python:3.11-slim-bookworm\nFROM ${PYTHON_IMAGE} AS base\nFROM base AS builder\nRUN true\nFROM python:3.11 AS other\nFROM base AS production\nCOPY --from=builder /app /app\n",
      "Dockerfile",
    );
    expect(model.stages.map((s) => [s.name, s.image])).toEqual([
      ["base", "python:3.11-slim-bookworm"],
      ["builder", "base"],
      ["other", "python:3.11"],
      ["production", "base"],
    ]);
    expect(model.target?.name).toBe("production");
    expect(chain(model.target!).map((s) => s.name)).toEqual(["base", "production"]);
    expect(contributors(model.target!).map((s) => s.name)).toEqual(["base", "builder", "production"]);
  });

  it("tracks ENV (both forms), ARG, WORKDIR and USER per step, inherited by child stages", () => {
    const model = buildModel(
      'FROM python:3.11-slim AS a\nARG V=1.8.5\nENV VIRTUAL_ENV=/venv PATH="/venv/bin:$PATH"\nENV LEGACY value\nWORKDIR /app\nWORKDIR src\nUSER app\nFROM a\nRUN echo $V\n',
      "Dockerfile",
    );
    const run = model.stages[1]?.steps[0];
    expect(run?.env.get("V")).toBe("1.8.5");
    expect(run?.env.get("VIRTUAL_ENV")).toBe("/venv");
    expect(run?.env.get("LEGACY")).toBe("value");
    expect(run?.workdir).toBe("/app/src");
    expect(run?.user).toBe("app");
  });

  it("reads heredoc bodies and exec-form RUN", () => {
    const model = buildModel(
      'FROM debian\nRUN <<EOF\napt-get update\napt-get install -y gcc\nEOF\nRUN ["pip", "install", "x"]\n',
      "Dockerfile",
    );
    const [heredoc, exec] = model.stages[0]?.steps ?? [];
    expect(
      heredoc?.kind === "run" && heredoc.commands.map((c) => c.argv.map((w) => w.value).join(" ")),
    ).toEqual(["apt-get update", "apt-get install -y gcc"]);
    expect(exec?.kind === "run" && exec.execForm && exec.commands[0]?.argv.map((w) => w.value)).toEqual([
      "pip",
      "install",
      "x",
    ]);
  });

  it("expands known variables and keeps unknown ones", () => {
    const env = new Map([["A", "/x"]]);
    expect(expand("$A/${A}/${B:-d}/$C", env)).toBe("/x//x/d/$C");
  });
});
