// Project context from real Poetry projects (examples/, locked by real Poetry): lock version, groups, native needs, config.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadContext } from "./context.js";
import { lintText } from "./engine.js";

const example = new URL("../../examples/flask-uwsgi/", import.meta.url).pathname;

function copyExample(): string {
  const dir = mkdtempSync(join(tmpdir(), "couplet-lint-"));
  cpSync(example, dir, { recursive: true });
  return dir;
}

const multiStage = [
  "FROM python:3.11-slim-bookworm AS builder",
  "RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev libpcre3-dev libpq-dev && rm -rf /var/lib/apt/lists/*",
  "RUN python -m venv /opt/poetry && /opt/poetry/bin/pip install --no-cache-dir poetry==2.2.1",
  "WORKDIR /app",
  "ENV POETRY_VIRTUALENVS_IN_PROJECT=true",
  "COPY pyproject.toml poetry.lock ./",
  "RUN /opt/poetry/bin/poetry install --without dev && rm -rf /root/.cache/pypoetry",
  "FROM python:3.11-slim-bookworm",
  "COPY --from=builder /app /app",
  "USER 1000",
  'CMD ["/app/.venv/bin/uwsgi"]',
  "",
].join("\n");

describe("lint with the Poetry project next to the Dockerfile", () => {
  it("reads the lock's Poetry version, the groups and the native runtime needs", async () => {
    const dir = copyExample();
    const file = join(dir, "Dockerfile");
    const context = await loadContext(file, multiStage);
    expect(context.notes).toEqual([]);
    expect(context.project?.lockPoetryVersion).toBe("1.8.5");
    expect(context.project?.devGroups.map((g) => g.name).sort()).toEqual(["dev", "test"]);
    expect(context.project?.nativeRuntime.map((n) => n.name).sort()).toEqual(["psycopg2", "uwsgi"]);
    const findings = lintText(multiStage, file, context);
    const rules = findings.map((f) => f.rule);
    // Poetry 2.2.1 against a 1.8.5 lock; `--without dev` leaves the test group; no libpq5/libpcre3 at run time.
    expect(rules).toContain("CPL002");
    expect(findings.find((f) => f.rule === "CPL006")?.message).toContain("the test group");
    const missing = findings.find((f) => f.rule === "CPL015");
    expect(missing?.line).toBe(9);
    expect(missing?.message).toMatch(/psycopg2 2\.9\.10 \(libpq5\)/);
    expect(missing?.message).toMatch(/uwsgi 2\.0\.28 \(libpcre3\)/);
  });

  it("applies [tool.couplet.lint] and rejects unknown rule ids with the pyproject line", async () => {
    const dir = copyExample();
    const pyproject = join(dir, "pyproject.toml");
    const original = readFileSync(pyproject, "utf8");
    writeFileSync(
      pyproject,
      `${original}\n[tool.couplet.lint]\nignore = ["CPL002"]\nseverity = { CPL015 = "warning" }\n`,
    );
    const context = await loadContext(join(dir, "Dockerfile"), multiStage);
    const findings = lintText(multiStage, "Dockerfile", context);
    expect(findings.map((f) => f.rule)).not.toContain("CPL002");
    expect(findings.find((f) => f.rule === "CPL015")?.severity).toBe("warning");

    writeFileSync(pyproject, `${original}\n[tool.couplet.lint]\nignore = ["CPL404"]\n`);
    await expect(loadContext(join(dir, "Dockerfile"), multiStage)).rejects.toMatchObject({
      message: expect.stringContaining('unknown rule "CPL404"'),
      location: { file: pyproject, line: original.split("\n").length + 2 },
    });
  });

  it("a broken project is a note, and linting goes on without it", async () => {
    const dir = copyExample();
    writeFileSync(join(dir, "poetry.lock"), "this is not toml [");
    const context = await loadContext(join(dir, "Dockerfile"), multiStage);
    expect(context.project).toBeUndefined();
    expect(context.notes[0]).toContain("linting without project context");
  });
});
