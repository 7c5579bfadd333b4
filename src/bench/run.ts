// Runs the strategy × scenario matrix: for each strategy and run, a cold build and three rebuilds after edits.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, platform, release, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { BuildFailed, type BuildOutcome, buildImage, imageSize, removeImages } from "../engine/build.js";
import { copyTree } from "../engine/context.js";
import { capture } from "../engine/exec.js";
import type { BuildTracker } from "../engine/progress.js";
import type { BuildRequest, Engine } from "../engine/types.js";
import { generate, generateFor } from "../pipeline.js";
import type { PlanOptions, StrategyName } from "../plan/types.js";
import { analyze } from "../project/analyze.js";
import { VERSION } from "../version.js";
import {
  cacheBustingEdit,
  checkDependencyChange,
  dependencyEdit,
  findSourceFile,
  sourceEdit,
} from "./edits.js";
import { summarize } from "./stats.js";
import type { BenchReport, BuildMeasure, RunMeasure, Scenario, Spread, StrategyResult } from "./types.js";
import { SCENARIOS } from "./types.js";

export interface BenchProgress {
  /** Builds finished so far, of `total` */
  done: number;
  total: number;
  strategy: StrategyName;
  run: number;
  scenario: Scenario;
  /** Set when the build finished */
  seconds?: number;
}

export interface BenchOptions {
  dir: string;
  engine: Engine;
  strategies: StrategyName[];
  runs: number;
  planOptions?: Omit<PlanOptions, "strategy">;
  /** Folder with pyproject.toml + poetry.lock after adding a real dependency; without it realDepChange is not run */
  depChange?: string;
  /** PYTHON_IMAGE for strategies on the slim image, and for the `full` strategy's full image */
  baseImages?: { slim?: string; full?: string };
  /** Flags passed through to every build (build args, network, secrets, caches) */
  request?: Partial<BuildRequest>;
  signal?: AbortSignal;
  onProgress?: (progress: BenchProgress) => void;
  /** Engine logs go here, one file per build */
  logDir: string;
}

const DEFAULT_BASE_NOTE =
  "sizes above base are the final image minus the PYTHON_IMAGE the strategy starts from";

export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const projectDir = resolve(options.dir);
  if (options.depChange) await checkDependencyChange(options.depChange);
  const project = await analyze(projectDir);
  const scenarios = SCENARIOS.filter((s) => s !== "realDepChange" || options.depChange);
  const total = options.strategies.length * options.runs * scenarios.length;
  const engineVersion = (
    await capture({ program: options.engine.program, args: ["--version"] }).catch(() => "unknown")
  ).trim();
  const tags: string[] = [];
  const layers: string[] = [];
  const workDirs: string[] = [];
  let done = 0;
  const results: StrategyResult[] = [];
  try {
    for (const strategy of options.strategies) {
      const runs: RunMeasure[] = [];
      let baseImage = "";
      for (let run = 1; run <= options.runs; run++) {
        // A fresh copy per run: the edits accumulate within a run and never touch the user's folder.
        const work = await mkdtemp(join(tmpdir(), `couplet-bench-${strategy}-`));
        workDirs.push(work);
        const first = generateFor(
          project,
          { ...options.planOptions, strategy },
          options.engine.features,
          options.request?.platform,
        );
        await copyTree(projectDir, work, first.files.dockerignore);
        const sourceFile = await findSourceFile(work, first.plan.project.sourcePaths);
        const builds: Partial<Record<Scenario, BuildMeasure>> = {};
        let finalImage = "";
        for (const scenario of scenarios) {
          // Unique per bench, strategy and run: the engine's cache must never have seen an edit before.
          const nonce = `${process.pid}-${Date.now()}-${strategy}-${run}`;
          if (scenario === "depChange") await cacheBustingEdit(work, nonce);
          if (scenario === "realDepChange" && options.depChange)
            await dependencyEdit(work, options.depChange, nonce);
          if (scenario === "codeChange") {
            if (!sourceFile) continue;
            await sourceEdit(sourceFile, nonce);
          }
          // Regenerate after every edit, as `couplet build` would: the plan follows the project.
          const { plan: planned, files } = await generate(
            work,
            { ...options.planOptions, strategy },
            options.engine.features,
            options.request?.platform,
          );
          await writeFile(join(work, "Dockerfile"), files.dockerfile);
          await writeFile(join(work, ".dockerignore"), files.dockerignore);
          const buildArgs = { ...options.request?.buildArgs };
          const chosenBase = planned.features.fullBuilderImage
            ? options.baseImages?.full
            : options.baseImages?.slim;
          if (chosenBase && buildArgs.PYTHON_IMAGE === undefined) buildArgs.PYTHON_IMAGE = chosenBase;
          baseImage =
            buildArgs.PYTHON_IMAGE ??
            (planned.features.fullBuilderImage ? planned.baseImage.builder : planned.baseImage.runtime);
          // The process id keeps two benches of one project (on one storage) from sharing, and removing, tags.
          const tag = `couplet-bench/${planned.project.name.toLowerCase().replace(/[^a-z0-9._-]+/g, "-")}-${strategy}:${process.pid}-run${run}-${scenario.toLowerCase()}`;
          tags.push(tag);
          options.onProgress?.({ done, total, strategy, run, scenario });
          const outcome = await buildOnce(async () => {
            // The layers a build made are ours to remove even when it fails or is stopped part way.
            let tracker: BuildTracker | undefined;
            try {
              return await buildImage(
                options.engine,
                {
                  ...options.request,
                  buildArgs,
                  context: work,
                  dockerfile: join(work, "Dockerfile"),
                  tag,
                  // No --iidfile: given one, buildah 1.28 prints no `--> <id>` line for the intermediate image
                  // each step commits, and those ids are how the bench knows which images it made. The tag,
                  // unique to this process, names the result instead.
                  ...(scenario === "cold" ? { noCache: true } : {}),
                },
                {
                  logFile: join(options.logDir, `${strategy}-run${run}-${scenario}.log`),
                  ...(options.signal ? { signal: options.signal } : {}),
                  onEvent: (_event, seen) => {
                    tracker = seen;
                  },
                },
              );
            } finally {
              layers.push(...(tracker?.createdLayers ?? []));
            }
          });
          finalImage = outcome.imageId;
          builds[scenario] = {
            seconds: round(outcome.seconds),
            cacheHits: outcome.tracker.cacheHits,
            steps: outcome.tracker.steps.length,
          };
          done++;
          options.onProgress?.({ done, total, strategy, run, scenario, seconds: outcome.seconds });
          // The image as the cold build made it is the one whose size counts (the edits barely change it).
          if (scenario === "cold") {
            const sizeBytes = await imageSize(options.engine, finalImage);
            const baseBytes = await imageSize(options.engine, baseImage);
            runs.push({ sizeBytes, baseBytes, builds });
          }
        }
      }
      results.push(summarizeStrategy(strategy, baseImage, runs));
    }
  } finally {
    // Tagged images first, then the intermediate layers this bench created (never ones it only reused).
    await removeImages(options.engine, tags);
    await removeImages(options.engine, [...layers].reverse());
    for (const dir of workDirs) await rm(dir, { recursive: true, force: true });
  }
  const notes = [DEFAULT_BASE_NOTE];
  if (!options.depChange) notes.push("realDepChange was not measured: no --dep-change folder was given");
  if (!options.engine.features.cacheMounts)
    notes.push(`${options.engine.label} has no cache mounts: Dockerfiles were rendered without them`);
  return {
    schemaVersion: 1,
    project: project.name,
    date: new Date().toISOString(),
    couplet: VERSION,
    engine: { name: options.engine.name, label: options.engine.label, version: engineVersion },
    machine: {
      os: `${platform()} ${release()}`,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model.trim() ?? "unknown",
      memoryBytes: totalmem(),
    },
    runs: options.runs,
    results,
    notes,
  };
}

/**
 * Retries a build once when the engine itself failed before any step did (buildah on a storage shared
 * with other builds can lose a race with a concurrent `rmi`: "layer not known"); a failing step is final.
 */
async function buildOnce(build: () => Promise<BuildOutcome>): Promise<BuildOutcome> {
  try {
    return await build();
  } catch (error) {
    if (!(error instanceof BuildFailed) || error.failedStep) throw error;
    return build();
  }
}

function round(seconds: number): number {
  return Math.round(seconds * 100) / 100;
}

export function summarizeStrategy(
  strategy: StrategyName,
  baseImage: string,
  runs: RunMeasure[],
): StrategyResult {
  const pick = (which: "median" | "min" | "max"): Spread => {
    const size = summarize(runs.map((r) => r.sizeBytes));
    const spread: Spread = {
      sizeBytes: size ? size[which] : 0,
      cold: null,
      depChange: null,
      realDepChange: null,
      codeChange: null,
    };
    for (const scenario of SCENARIOS) {
      const s = summarize(runs.flatMap((r) => (r.builds[scenario] ? [r.builds[scenario].seconds] : [])));
      spread[scenario] = s ? round(s[which]) : null;
    }
    return spread;
  };
  const medians = pick("median");
  const base = summarize(runs.map((r) => r.baseBytes));
  return {
    strategy,
    ...medians,
    bytesAboveBase: medians.sizeBytes - (base ? base.median : 0),
    baseImage,
    min: pick("min"),
    max: pick("max"),
    runs,
  };
}
