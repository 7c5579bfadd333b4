// Copies of a real locked project whose pyproject.toml a test rewrites, then init's pipeline run on them in process.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DockerfileParser } from "dockerfile-ast";
import { formatUserError, isUserError } from "../../src/errors.js";
import { render } from "../../src/generate/render.js";
import { loadContext } from "../../src/lint/context.js";
import { lintText } from "../../src/lint/engine.js";
import { plan } from "../../src/plan/plan.js";
import { analyze } from "../../src/project/analyze.js";

export const ROOT = new URL("../..", import.meta.url).pathname;

/** A scratch copy of a fixture or example folder. */
export function copyProject(from: string): string {
  const dir = mkdtempSync(join(tmpdir(), "couplet-variant-"));
  cpSync(join(ROOT, from), dir, { recursive: true });
  return dir;
}

export function editPyproject(dir: string, change: (text: string) => string): void {
  const path = join(dir, "pyproject.toml");
  writeFileSync(path, change(readFileSync(path, "utf8")));
}

export type Outcome = { refused: string } | { dockerfile: string; dockerignore: string };

/** init --stdout in process: the rendered files, or the one line a user would get. */
export async function initOutcome(dir: string): Promise<Outcome> {
  try {
    const files = render(plan(await analyze(dir), {}));
    return { dockerfile: files.dockerfile, dockerignore: files.dockerignore };
  } catch (error) {
    if (isUserError(error)) return { refused: formatUserError(error) };
    throw error;
  }
}

/** Instruction keywords in order: what a Dockerfile does, whatever the values in it. */
export function instructions(dockerfile: string): string[] {
  return DockerfileParser.parse(dockerfile)
    .getInstructions()
    .map((i) => i.getKeyword());
}

/**
 * couplet lint's findings (`RULE message`) on rendered files written into the project folder, as `couplet init`
 * writes them there: couplet's own output should have none.
 */
export async function lintWritten(
  dir: string,
  files: { dockerfile: string; dockerignore: string },
): Promise<string[]> {
  const file = join(dir, "Dockerfile");
  writeFileSync(file, files.dockerfile);
  writeFileSync(join(dir, ".dockerignore"), files.dockerignore);
  const findings = lintText(files.dockerfile, file, await loadContext(file, files.dockerfile));
  return findings.map((f) => `${f.rule} ${f.message}`);
}
