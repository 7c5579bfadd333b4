// What a Dockerfile is linted with: the Poetry project beside it (via analyze), its [tool.couplet.lint], the .dockerignore.
import { existsSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { isUserError } from "../errors.js";
import { readTextFileSync } from "../files/read.js";
import { analyze } from "../project/analyze.js";
import { normalizeName } from "../project/names.js";
import { type DebianRelease, nativeNeedFor } from "../project/native.js";
import { lockPoetry } from "../project/poetry-version.js";
import { productionSelection, selectedPackages } from "../project/selection.js";
import type { Project } from "../project/types.js";
import { EMPTY_CONFIG, type LintConfig, readConfig } from "./config.js";
import { RULES } from "./rules/index.js";
import type { DockerignoreFile, LintProject, NativeRuntime } from "./types.js";

export interface LintContext {
  project: LintProject | undefined;
  config: LintConfig;
  dockerignore: DockerignoreFile | undefined;
  /** Said to the user on stderr (e.g. why there is no project context) */
  notes: string[];
}

/**
 * The facts lint needs from a Project. Production is the project's own selection (main plus `[tool.couplet]
 * with`): a Dockerfile that installs those groups is doing what the project asked.
 */
export function lintProject(project: Project, debian: DebianRelease): LintProject {
  const selection = productionSelection(project);
  const nativeRuntime: NativeRuntime[] = [];
  const selected = selectedPackages(project, selection);
  for (const pkg of selected) {
    const need = nativeNeedFor(pkg.name, project, debian);
    if (!need?.runtime.length) continue;
    nativeRuntime.push({
      name: pkg.name,
      version: pkg.version,
      runtime: need.runtime,
      runtimeWithWheel: need.runtimeWithWheel ?? false,
      bundledBy: selected.filter((other) => need.unlessInstalled?.includes(normalizeName(other.name))),
      locked: pkg,
    });
  }
  const poetry = lockPoetry(project.lock);
  return {
    lockPoetryVersion: poetry?.version,
    production: { groups: selection.groups, extras: selection.extras },
    lockPoetryFromHeader: poetry?.fromHeader ?? false,
    devGroups: project.groups
      .filter((g) => !selection.groups.includes(g.name))
      .map((g) => ({ name: g.name, optional: g.optional })),
    packageMode: project.packageMode,
    nativeRuntime,
  };
}

/** BuildKit reads `<Dockerfile>.dockerignore` first, then the context's `.dockerignore`. */
export function findDockerignore(dockerfile: string, contextDir: string): DockerignoreFile | undefined {
  for (const path of [`${dockerfile}.dockerignore`, join(contextDir, ".dockerignore")]) {
    if (existsSync(path)) return { path, text: readTextFileSync(path, ".dockerignore") };
  }
  return undefined;
}

export async function loadContext(
  dockerfile: string,
  text: string,
  options: { project?: boolean } = {},
): Promise<LintContext> {
  const dir = dirname(dockerfile);
  const notes: string[] = [];
  const dockerignore = findDockerignore(dockerfile, dir);
  if (options.project === false || !existsSync(join(dir, "pyproject.toml"))) {
    return { project: undefined, config: EMPTY_CONFIG, dockerignore, notes };
  }
  let project: Project;
  try {
    project = await analyze(dir);
  } catch (error) {
    if (!isUserError(error)) throw error;
    notes.push(
      `${basename(dockerfile)}: linting without project context (${error.message}); rules that need poetry.lock are skipped`,
    );
    return { project: undefined, config: EMPTY_CONFIG, dockerignore, notes };
  }
  // Config errors are the user's to fix: they stop the run rather than being skipped.
  const config = readConfig(
    project.couplet.lint?.table,
    RULES.map((r) => r.meta.id),
    { file: project.pyprojectPath, lines: project.couplet.lint?.lines ?? {} },
  );
  const debian: DebianRelease = /trixie/.test(text) ? "trixie" : "bookworm";
  return { project: lintProject(project, debian), config, dockerignore, notes };
}
