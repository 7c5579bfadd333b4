import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { lintProject } from "../lint/context.js";
import { lintText } from "../lint/engine.js";
import { plan } from "../plan/plan.js";
import { analyze } from "../project/analyze.js";
import { render } from "./render.js";

const root = new URL("../..", import.meta.url).pathname;
const example = join(root, "examples/flask-uwsgi");
const scratch: string[] = [];
afterAll(() => Promise.all(scratch.map((dir) => rm(dir, { recursive: true, force: true }))));

/** flask-uwsgi with a line added under its [tool.couplet] table. */
async function withSetting(line: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "couplet-syntax-"));
  scratch.push(dir);
  await cp(example, dir, { recursive: true, filter: (src) => !src.includes(".venv") });
  const path = join(dir, "pyproject.toml");
  const text = await readFile(path, "utf8");
  await writeFile(path, text.replace("[tool.couplet]\n", `[tool.couplet]\n${line}\n`));
  return dir;
}

const firstLine = (text: string) => text.split("\n")[0];

describe("the `# syntax=` line", () => {
  it("is docker/dockerfile:1 by default, where the file uses cache mounts", async () => {
    const planned = plan(await analyze(example));
    expect(planned.syntax.frontend).toBe("docker/dockerfile:1");
    expect(planned.syntax.reason).toMatch(/--no-syntax/);
    expect(firstLine(render(planned).dockerfile)).toBe("# syntax=docker/dockerfile:1");
  });

  it("is left out with --no-syntax, saying so in the file, and lint does not flag the result", async () => {
    const project = await analyze(example);
    const planned = plan(project, { syntax: false });
    const text = render(planned).dockerfile;
    expect(text).not.toMatch(/^# syntax=/m);
    expect(text).toMatch(/RUN --mount=type=cache/);
    expect(text).toMatch(/No `# syntax=` line, on purpose/);
    expect(planned.syntax.reason).toMatch(/^left out \(--no-syntax\)/);
    const context = { project: lintProject(project, "bookworm") };
    const ids = lintText(text, "Dockerfile", context).map((f) => f.rule);
    expect(ids).not.toContain("CPL010");
    // Nothing else changes either: the same findings as the file with the line.
    const withLine = render(plan(project)).dockerfile;
    expect(ids).toEqual(lintText(withLine, "Dockerfile", context).map((f) => f.rule));
    // The file-wide pragma is what keeps CPL010 quiet: without it the rule fires.
    const bare = text.replace("# couplet-ignore-file CPL010\n", "");
    expect(lintText(bare, "Dockerfile", context).map((f) => f.rule)).toContain("CPL010");
  });

  it("follows [tool.couplet] syntax: false leaves it out, a string names a mirror; the flag beats the file", async () => {
    const off = await analyze(await withSetting("syntax = false"));
    expect(off.couplet.syntax).toBe(false);
    expect(plan(off).syntax).toMatchObject({
      frontend: undefined,
      reason: expect.stringMatching(/syntax = false/),
    });
    const mirror = await analyze(await withSetting('syntax = "registry.example/docker/dockerfile:1.7"'));
    expect(firstLine(render(plan(mirror)).dockerfile)).toBe(
      "# syntax=registry.example/docker/dockerfile:1.7",
    );
    expect(plan(mirror, { syntax: false }).syntax.frontend).toBeUndefined();
  });

  it("is left out of `couplet build`'s own Dockerfile for an engine with a built-in frontend, unless asked for", async () => {
    const project = await analyze(example);
    const forBuild = plan(project, { builtinFrontend: true });
    expect(forBuild.syntax.frontend).toBeUndefined();
    expect(forBuild.syntax.reason).toMatch(/^left out of this build: the engine reads RUN --mount/);
    const kept = plan(await analyze(await withSetting("syntax = true")), {
      builtinFrontend: true,
    });
    expect(kept.syntax.frontend).toBe("docker/dockerfile:1");
    expect(plan(project, { builtinFrontend: true, syntax: "f:1" }).syntax.frontend).toBe("f:1");
  });

  it("is not written where nothing needs BuildKit (no cache mounts)", async () => {
    const planned = plan(await analyze(example), { cacheMounts: false });
    expect(planned.syntax.frontend).toBeUndefined();
    expect(render(planned).dockerfile).not.toMatch(/syntax=|couplet-ignore-file/);
  });

  it("rejects a [tool.couplet] syntax that is neither false nor an image reference, pointing at it", async () => {
    const error = await analyze(await withSetting("syntax = 1")).catch((e: unknown) => e);
    expect(String((error as Error).message)).toMatch(
      /tool.couplet.syntax must be false .* or a frontend image/,
    );
  });
});
