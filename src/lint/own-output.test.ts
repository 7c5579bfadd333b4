// couplet lints its own output: every example and fixture project × strategy × option that changes the Dockerfile,
// written to disk as `couplet init` writes it and linted as `couplet lint` reads it (project context included).
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "smol-toml";
import { afterAll, describe, expect, it } from "vitest";
import { render } from "../generate/render.js";
import { admitsMinor, toPep440 } from "../plan/constraint.js";
import { plan } from "../plan/plan.js";
import { CPYTHON_RELEASES } from "../plan/pythons.js";
import { STRATEGY_TABLE } from "../plan/strategies.js";
import { type PlanOptions, STRATEGIES, type StrategyName } from "../plan/types.js";
import { analyze } from "../project/analyze.js";
import { parsePlatforms } from "../project/platform.js";
import type { Project } from "../project/types.js";
import { loadContext } from "./context.js";
import { lintText } from "./engine.js";

const root = new URL("../..", import.meta.url).pathname;

function projects(): string[] {
  const dirs: string[] = [];
  for (const parent of ["examples", "test/fixtures/projects"])
    for (const name of readdirSync(join(root, parent)).sort())
      if (existsSync(join(root, parent, name, "poetry.lock"))) dirs.push(`${parent}/${name}`);
  return dirs;
}

/**
 * The seed's variants keep the flaws the seed document measured; lint must name those and nothing else.
 * Each flaw follows from the strategy's feature table, so a new strategy or feature is checked the same way.
 */
function expectedFlaws(strategy: StrategyName, project: Project): Set<string> {
  const { features, nonRoot } = STRATEGY_TABLE[strategy];
  const flaws = new Set<string>();
  if (!nonRoot) flaws.add("CPL019"); // runs as root
  if (!features.poetryIsolated && !features.multiStage) flaws.add("CPL003"); // Poetry's dependencies ship
  if (!features.cleanCaches) flaws.add("CPL008"); // a cache left in a layer
  if (features.fullBuilderImage) flaws.add("CPL013"); // the full python image
  if (!features.multiStage) flaws.add("CPL012"); // compilers kept in the final image (when some are needed)
  // Every non-optional group (dev, test...) is installed, when the project has one.
  if (!features.excludeDevGroups && project.groups.some((g) => g.name !== "main" && !g.optional))
    flaws.add("CPL006");
  return flaws;
}

/** pyproject.toml with `[tool.couplet]` settings merged in (the values a user would write). */
function configure(dir: string, settings: Record<string, unknown>): void {
  const path = join(dir, "pyproject.toml");
  const doc = parse(readFileSync(path, "utf8")) as { tool?: { couplet?: Record<string, unknown> } };
  doc.tool ??= {};
  doc.tool.couplet = { ...doc.tool.couplet, ...settings };
  writeFileSync(path, stringify(doc));
}

/** Option sets that change the Dockerfile: defaults, no cache mounts, the oldest allowed CPython, two platforms. */
function optionSets(project: Project): PlanOptions[] {
  const constraint = toPep440(project.python.constraint) ?? [""];
  const oldest = CPYTHON_RELEASES.filter((r) => admitsMinor(constraint, r.minor)).at(-1);
  return [
    {},
    { cacheMounts: false },
    ...(oldest ? [{ python: oldest.minor }] : []),
    { platforms: parsePlatforms("linux/amd64,linux/arm64") },
  ];
}

const temporary: string[] = [];
afterAll(() => {
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
});

describe("couplet's own Dockerfiles lint clean", () => {
  for (const source of projects()) {
    it(source, async () => {
      const original = await analyze(join(root, source));
      const optional = original.groups.filter((g) => g.optional).map((g) => g.name);
      const extras = Object.keys(original.extras);
      // The settings that change what is installed: none, every optional group, every extra.
      const settings: Record<string, unknown>[] = [
        {},
        ...(optional.length ? [{ with: optional }] : []),
        ...(extras.length ? [{ extras }] : []),
      ];
      let checked = 0;
      for (const setting of settings) {
        const dir = mkdtempSync(join(tmpdir(), "couplet-own-"));
        temporary.push(dir);
        cpSync(join(root, source), dir, { recursive: true });
        if (Object.keys(setting).length) configure(dir, setting);
        const project = await analyze(dir);
        expect(project.lockFresh).not.toBe(false);
        for (const strategy of STRATEGIES)
          for (const options of optionSets(project)) {
            const files = render(plan(project, { ...options, strategy }));
            const file = join(dir, "Dockerfile");
            writeFileSync(file, files.dockerfile);
            writeFileSync(join(dir, ".dockerignore"), files.dockerignore);
            const context = await loadContext(file, files.dockerfile);
            expect(context.notes).toEqual([]);
            const findings = lintText(files.dockerfile, file, context);
            const allowed = expectedFlaws(strategy, project);
            const unexpected = findings
              .filter((f) => !allowed.has(f.rule) || f.severity === "error")
              .map(
                (f) =>
                  `${strategy} ${JSON.stringify(setting)} ${JSON.stringify(options)}: ${f.rule} ${f.message}`,
              );
            expect(unexpected).toEqual([]);
            checked++;
          }
      }
      expect(checked).toBeGreaterThanOrEqual(STRATEGIES.length * 3);
    });
  }
});
