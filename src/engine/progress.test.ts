import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BuildTracker, parseLine } from "./progress.js";
import type { EngineName } from "./types.js";

const logs = new URL("../../test/fixtures/engine-logs/", import.meta.url);

/** Replays a real captured log, one clock tick per line, so durations are deterministic. */
function replay(engine: EngineName, file: string): BuildTracker {
  let clock = 0;
  const tracker = new BuildTracker(engine, () => clock);
  for (const line of readFileSync(new URL(file, logs), "utf8").split("\n")) {
    clock += 1;
    tracker.feed(line);
  }
  tracker.end();
  return tracker;
}

describe("buildah output", () => {
  it("lists every step of a multi-stage build with its stage", () => {
    const t = replay("buildah", "buildah-multistage-cold.log");
    expect(t.steps.map((s) => s.label)).toEqual([
      "[1/2] 1/3",
      "[1/2] 2/3",
      "[1/2] 3/3",
      "[2/2] 1/4",
      "[2/2] 2/4",
      "[2/2] 3/4",
      "[2/2] 4/4",
    ]);
    expect(t.steps[2]?.instruction).toBe("COPY app.py /app/");
    expect(t.cacheHits).toBe(0);
    expect(t.failure).toBeUndefined();
    expect(t.steps.every((s) => s.endedAt !== undefined && s.endedAt >= s.startedAt)).toBe(true);
  });

  it("marks the dependency step cached after a source-only change, and only it", () => {
    const t = replay("buildah", "buildah-multistage-code-change.log");
    expect(t.steps.filter((s) => s.cached).map((s) => s.instruction)).toEqual([
      expect.stringContaining("pip install --quiet six==1.16.0"),
    ]);
    // The reused layer is not one this build created; the three new layers and the final image are.
    expect(t.createdLayers).not.toContain("a9db6222a77");
    expect(t.createdLayers).toEqual(["f8fb1b779c0", "5531c5fa988", "9c188c5e4f0", "147825abe00"]);
  });

  it("tells the platforms of a --platform a,b build apart, and counts the second one's cache hits", () => {
    // buildah 1.28 building two platforms into a manifest list prefixes each step with its platform.
    const t = replay("buildah", "buildah-two-platforms.log");
    expect(t.steps.map((s) => s.label)).toEqual([
      "[linux/amd64] 1/4",
      "[linux/amd64] 2/4",
      "[linux/amd64] 3/4",
      "[linux/amd64] 4/4",
      "[linux/arm64] 1/4",
      "[linux/arm64] 2/4",
      "[linux/arm64] 3/4",
      "[linux/arm64] 4/4",
    ]);
    expect(t.steps[6]?.instruction).toBe("COPY f /f");
    expect(t.steps.filter((s) => s.cached).map((s) => s.label)).toEqual([
      "[linux/arm64] 2/4",
      "[linux/arm64] 3/4",
      "[linux/arm64] 4/4",
    ]);
    expect(t.failure).toBeUndefined();
  });

  it("ends each step at the next header when --iidfile leaves buildah without result lines", () => {
    // buildah 1.28 given --iidfile (as couplet build always does) prints no "--> <id>" after a step; the
    // steps ended only when the build did, so a two-file COPY showed the whole build's duration.
    const t = replay("buildah", "buildah-iidfile-cold.log");
    expect(t.steps).toHaveLength(16);
    // One tick per line: every step but the last ends on the very next line, where the next header is; the
    // last one when the build does.
    for (const [i, step] of t.steps.slice(0, -1).entries())
      expect(step.endedAt, `${step.label} ${step.instruction}`).toBe(t.steps[i + 1]?.startedAt);
    expect(t.steps.at(-1)?.endedAt).toBeGreaterThan(t.steps.at(-1)?.startedAt ?? Infinity);
    expect(t.steps.find((s) => s.instruction === "COPY app.py ./")?.endedAt).toBeLessThan(
      t.steps.find((s) => s.instruction.startsWith("RUN useradd"))?.startedAt ?? 0,
    );
  });

  it("keeps a step waiting for another stage open across that stage's steps, with --iidfile too", () => {
    // Here buildah took turns: the builder stage stopped at COPY --from=lock, lock ran, production started and
    // stopped at COPY --from=builder, and only then did the builder go on.
    const t = replay("buildah", "buildah-iidfile-interleaved.log");
    const label = (l: string) => t.steps.find((s) => s.label === l);
    const venvCopy = label("[6/6] 3/6");
    expect(venvCopy?.instruction).toBe("COPY --from=builder /app/.venv /app/.venv");
    expect(venvCopy?.endedAt).toBe(label("[6/6] 4/6")?.startedAt);
    expect(venvCopy?.endedAt).toBeGreaterThan(label("[4/6] 5/5")?.startedAt ?? Infinity);
    expect(label("[4/6] 2/5")?.endedAt).toBe(label("[4/6] 3/5")?.startedAt);
    expect(label("[3/6] 3/3")?.endedAt).toBe(label("[6/6] 1/6")?.startedAt);
    expect(label("[4/6] 5/5")?.endedAt).toBe(label("[6/6] 4/6")?.startedAt);
    expect(t.steps.filter((s) => s.cached).map((s) => s.label)).toEqual(["[1/6] 2/2", "[6/6] 2/6"]);
  });

  it("names the failing step", () => {
    const t = replay("buildah", "buildah-failing-step.log");
    expect(t.failure?.step?.label).toBe("4/5");
    expect(t.failure?.step?.instruction).toBe('RUN python -c "import nonexistent_module_xyz"');
    expect(t.failure?.message).toContain("exit status 1");
  });
});

describe("podman output, where a stage is built when a later step first needs it", () => {
  it("gives each result to the step waiting for it, not to the last header printed", () => {
    const t = replay("podman", "podman-optimal-code-change.log");
    const label = (l: string) => t.steps.find((s) => s.label === l);
    // The source edit reran the project install and what follows it; the venv copy was still reused,
    // its result arriving only after the builder stage, which ran inside it.
    const rerun = t.steps.filter((s) => !s.cached && !s.instruction.startsWith("FROM ")).map((s) => s.label);
    expect(rerun).toEqual([
      "[4/6] 5/6",
      "[4/6] 6/6",
      "[6/6] 4/8",
      "[6/6] 5/8",
      "[6/6] 6/8",
      "[6/6] 7/8",
      "[6/6] 8/8",
    ]);
    expect(label("[4/6] 6/6")?.instruction).toMatch(/poetry install --only main$/);
    expect(label("[4/6] 3/6")?.cached).toBe(true);
    const venvCopy = label("[6/6] 3/8");
    expect(venvCopy?.instruction).toBe("COPY --from=builder /app/.venv /app/.venv");
    expect(venvCopy?.cached).toBe(true);
    expect(venvCopy?.startedAt).toBeLessThan(label("[4/6] 1/6")?.startedAt ?? 0);
    expect(venvCopy?.endedAt).toBeGreaterThan(label("[4/6] 6/6")?.endedAt ?? Infinity);
    expect(t.cacheHits).toBe(11);
    expect(t.steps.every((s) => s.endedAt !== undefined && s.endedAt >= s.startedAt)).toBe(true);
    // podman repeats a reused layer's id in short form: not a layer this build made.
    expect(t.createdLayers).not.toContain("7440710ebbe");
    expect(t.createdLayers).toContain("6abc46e640e");
  });
});

describe("buildah output with a registry cache (--cache-from)", () => {
  it("counts steps pulled from the registry as cached", () => {
    const t = replay("buildah", "buildah-optimal-cache-from.log");
    const notCached = t.steps.filter((s) => !s.cached && !s.instruction.startsWith("FROM "));
    expect(notCached).toEqual([]);
    expect(t.cacheHits).toBe(t.steps.filter((s) => !s.instruction.startsWith("FROM ")).length);
    // Even the last step came from the registry: the build made no layer of its own.
    expect(t.createdLayers).toEqual([]);
  });
});

describe("docker legacy builder output", () => {
  it("lists steps and marks the dependency step cached after a source-only change", () => {
    const cold = replay("docker", "docker-legacy-multistage-cold.log");
    expect(cold.steps).toHaveLength(8);
    expect(cold.cacheHits).toBe(0);
    const code = replay("docker", "docker-legacy-multistage-code-change.log");
    expect(code.steps.filter((s) => s.cached).map((s) => s.label)).toEqual(["3/8"]);
    expect(code.createdLayers).not.toContain("c5a5a0d27d64");
    // The FROM step prints the base image's id: never count it as ours (bench removes what it created).
    expect(cold.createdLayers).not.toContain("e2a6a3c2b90b");
    expect(code.createdLayers).toContain("cb57d63c4be8");
  });

  it("names the failing step despite the colour codes around the step's output", () => {
    const t = replay("docker", "docker-legacy-failing-step.log");
    expect(t.failure?.step?.label).toBe("5/6");
    expect(t.failure?.message).toBe(
      `/bin/sh -c python -c "import nonexistent_module_xyz" returned a non-zero code: 1`,
    );
  });
});

describe("BuildKit plain progress (Docker 20.10's own BuildKit, DOCKER_BUILDKIT=1, captured here)", () => {
  const label = (t: BuildTracker, l: string) => t.steps.find((s) => s.label === l);

  it("lists every step of a cold multi-stage build once, though BuildKit interleaves their headers", () => {
    const t = replay("docker", "docker-buildkit-optimal-cold.log");
    expect(t.steps.map((s) => s.label)).toEqual([
      "[base] 1/2",
      "[base] 2/2",
      "[production] 1/4",
      "[production] 2/4",
      "[poetry] 1/1",
      "[builder] 1/6",
      "[lock] 1/2",
      "[lock] 2/2",
      "[builder] 2/6",
      "[builder] 3/6",
      "[builder] 4/6",
      "[builder] 5/6",
      "[builder] 6/6",
      "[production] 3/4",
      "[production] 4/4",
    ]);
    expect(t.cacheHits).toBe(0);
    expect(t.failure).toBeUndefined();
    expect(label(t, "[builder] 3/6")?.instruction).toMatch(/poetry install --only main --no-root$/);
    // Two steps ran at once: the apt step ends while the Poetry step (started after it) still runs.
    const apt = label(t, "[production] 2/4");
    const poetry = label(t, "[poetry] 1/1");
    expect(poetry?.startedAt).toBeLessThan(apt?.endedAt ?? 0);
    expect(poetry?.endedAt).toBeGreaterThan(apt?.endedAt ?? Infinity);
    expect(t.steps.every((s) => s.endedAt !== undefined && s.endedAt >= s.startedAt)).toBe(true);
  });

  it("after a source edit and a comment appended to pyproject.toml, marks the dependency steps cached, not the source steps", () => {
    const t = replay("docker", "docker-buildkit-optimal-code-change.log");
    expect(t.steps.filter((s) => s.cached).map((s) => s.label)).toEqual([
      "[base] 2/2",
      "[poetry] 1/1",
      "[builder] 2/6",
      "[builder] 1/6",
      "[builder] 3/6",
      "[production] 1/4",
      "[production] 2/4",
      "[production] 3/4",
    ]);
    // The normalized pyproject is rebuilt (the comment changed the file) but comes out the same, so the
    // install that copies it stays cached; the project's own install and the source copy rerun.
    expect(label(t, "[lock] 2/2")?.cached).toBe(false);
    expect(label(t, "[builder] 6/6")?.cached).toBe(false);
    expect(label(t, "[production] 4/4")?.cached).toBe(false);
    // A cached step ends at its CACHED line (the live display prints a step once it has ended).
    const cached = label(t, "[builder] 3/6");
    expect(cached?.endedAt).toBeDefined();
    expect(cached?.endedAt).toBeLessThan(label(t, "[builder] 4/6")?.startedAt ?? 0);
  });

  it("names the failing step and the engine's reason", () => {
    const t = replay("docker", "docker-buildkit-failing-step.log");
    expect(t.failure?.step?.label).toBe("[app] 2/3");
    expect(t.failure?.step?.instruction).toMatch(/^RUN python3 -c/);
    expect(t.failure?.message).toMatch(/^executor failed running .*: exit code: 3$/);
    expect(t.failure?.frontend).toBeUndefined();
    expect(label(t, "[base] 1/2")?.cached).toBe(true);
    expect(t.steps.map((s) => s.label)).not.toContain("[app] 3/3");
  });

  it("recognizes a `# syntax=` frontend that cannot be fetched (no registry), before any step", () => {
    const t = replay("docker", "docker-buildkit-syntax-unreachable.log");
    expect(t.steps).toEqual([]);
    expect(t.failure?.frontend).toBe("docker.io/docker/dockerfile:1");
    expect(t.failure?.message).toMatch(/registry-1\.docker\.io/);
  });
});

describe("parseLine", () => {
  it("leaves the steps' own output alone", () => {
    expect(parseLine("buildah", "Collecting flask==3.0.0")).toBeUndefined();
    expect(parseLine("docker", "Collecting flask==3.0.0")).toBeUndefined();
  });
});
