// Reads an engine's build output line by line into steps: which instruction runs, how long it took, cache hits.
import type { EngineName } from "./types.js";

export interface Step {
  /** As the engine numbers it, e.g. "2/5", or "[1/2] 2/3" for buildah stages */
  label: string;
  /** The Dockerfile instruction, as the engine prints it */
  instruction: string;
  startedAt: number;
  endedAt: number | undefined;
  /** The engine reused a cached layer for this step */
  cached: boolean;
}

export type BuildEvent =
  | { kind: "step"; key: string; label: string; instruction: string }
  | { kind: "cached"; key?: string; id?: string }
  | { kind: "done"; key?: string }
  | { kind: "layer"; id: string }
  | { kind: "error"; message: string; key?: string }
  /** BuildKit fetching the Dockerfile frontend a `# syntax=` line names */
  | { kind: "frontend"; key: string; ref: string };

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching terminal escape sequences is the point
const ANSI = /\x1b\[[0-9;]*m/g;
const BUILDAH_STEP = /^(?:\[(\d+\/\d+)\] )?STEP (\d+\/\d+): (.*)$/;
const BUILDAH_ERROR = /^Error: building at STEP "(.*)": (.*)$/;
// A build for several platforms (--platform a,b --manifest) prefixes each platform's lines: "[linux/arm64] STEP 1/9: ...".
const BUILDAH_PLATFORM = /^\[(\w+\/[\w/]+)\] /;
const LEGACY_STEP = /^Step (\d+\/\d+) : (.*)$/;
const LEGACY_ERROR = /^The command '(.*)' returned a non-zero code: (\d+)$/;
// BuildKit plain progress: "#8 [builder 2/6] RUN ...", "#8 CACHED", "#8 DONE 1.2s", "#8 ERROR: ..."
const BUILDKIT_STEP = /^#(\d+) \[([^\]]*?)(\d+\/\d+)\] (.*)$/;
const BUILDKIT_STATE = /^#(\d+) (CACHED|DONE [\d.]+s|ERROR: .*|CANCELED)$/;
// Printed only for the frontend image of a `# syntax=` line (base images are "[internal] load metadata for").
const BUILDKIT_FRONTEND = /^#(\d+) resolve image config for (\S+)$/;

/** One line of output to an event, or undefined for lines that are the steps' own output. */
export function parseLine(engine: EngineName, raw: string): BuildEvent | undefined {
  // The legacy builder colours RUN output red and resets at the start of the next line.
  const line = raw.replace(ANSI, "");
  if (engine === "buildah" || engine === "podman") {
    const platform = BUILDAH_PLATFORM.exec(line);
    const rest = platform ? line.slice(platform[0].length) : line;
    let m = BUILDAH_STEP.exec(rest);
    if (m) {
      const label = `${platform ? `[${platform[1]}] ` : ""}${m[1] ? `[${m[1]}] ${m[2]}` : (m[2] as string)}`;
      return { kind: "step", key: label, label, instruction: m[3] as string };
    }
    if (line.startsWith("--> Using cache "))
      return { kind: "cached", id: line.slice("--> Using cache ".length).trim() };
    m = /^--> ([0-9a-f]{8,64})$/.exec(line);
    if (m) return { kind: "layer", id: m[1] as string };
    m = BUILDAH_ERROR.exec(line);
    if (m) return { kind: "error", message: `${m[1]}: ${m[2]}` };
    return undefined;
  }
  // docker: the legacy builder and BuildKit's plain progress look nothing alike; accept both.
  let m = LEGACY_STEP.exec(line);
  if (m) return { kind: "step", key: m[1] as string, label: m[1] as string, instruction: m[2] as string };
  if (line === " ---> Using cache") return { kind: "cached" };
  m = /^ ---> ([0-9a-f]{12})$/.exec(line);
  if (m) return { kind: "layer", id: m[1] as string };
  m = LEGACY_ERROR.exec(line);
  if (m) return { kind: "error", message: `${m[1]} returned a non-zero code: ${m[2]}` };
  m = BUILDKIT_STEP.exec(line);
  if (m) {
    const stage = (m[2] as string).trim();
    const label = stage ? `[${stage}] ${m[3]}` : (m[3] as string);
    return { kind: "step", key: `#${m[1]}`, label, instruction: m[4] as string };
  }
  m = BUILDKIT_FRONTEND.exec(line);
  if (m) return { kind: "frontend", key: `#${m[1]}`, ref: m[2] as string };
  m = BUILDKIT_STATE.exec(line);
  if (m) {
    const key = `#${m[1]}`;
    const state = m[2] as string;
    if (state === "CACHED") return { kind: "cached", key };
    if (state.startsWith("ERROR: ")) return { kind: "error", key, message: state.slice("ERROR: ".length) };
    return { kind: "done", key };
  }
  return undefined;
}

// An instruction that can make buildah build another stage first, printing that stage's steps inside it.
const WAITS_FOR_STAGE = /(^|[\s,])(--)?from=/i;

/** The stage part of a buildah/podman step label ("[linux/arm64] [2/6] 3/9" → "[linux/arm64] [2/6]"). */
function stageOf(label: string): string {
  return label.replace(/\s*\d+\/\d+$/, "");
}

/**
 * The build so far: steps in order, the one running, cache hits, layers made, the failure if any.
 *
 * buildah and podman build a stage when a later step first needs it: `COPY --from=builder` prints its
 * header, then the builder stage's steps run, and only then does the COPY print its result. Results
 * therefore belong to the most recently started step still waiting for one (a stack), not simply to the
 * last header printed. FROM steps print no result of their own.
 */
export class BuildTracker {
  readonly steps: Step[] = [];
  /** Layer (intermediate image) ids the build created, not the reused ones */
  readonly createdLayers: string[] = [];
  /** `frontend`: the failure was fetching the Dockerfile frontend named by `# syntax=` (no step ran) */
  failure: { step: Step | undefined; message: string; frontend?: string } | undefined;
  private readonly frontends = new Map<string, string>();
  private readonly byKey = new Map<string, Step>();
  private current: Step | undefined;
  /** buildah/podman: steps whose result line has not come yet, innermost last */
  private readonly waiting: Step[] = [];
  /** buildah/podman: the id of the last reused layer, which podman repeats in short form on the next line */
  private reusedId: string | undefined;

  constructor(
    private readonly engine: EngineName,
    private readonly now: () => number = Date.now,
  ) {}

  private get nested(): boolean {
    return this.engine === "buildah" || this.engine === "podman";
  }

  /** Feeds one line; returns the event it carried (for live display). */
  feed(line: string): BuildEvent | undefined {
    const event = parseLine(this.engine, line);
    if (!event) return undefined;
    const at = this.now();
    if (this.nested) {
      this.feedNested(event, at);
      return event;
    }
    switch (event.kind) {
      case "step": {
        const existing = this.byKey.get(event.key);
        // BuildKit repeats a step's header when its output resumes: same step, not a new one.
        if (existing) {
          this.current = existing;
          break;
        }
        // The legacy builder runs steps one at a time: a new header ends the previous step.
        if (!event.key.startsWith("#")) this.finish(this.current, at);
        this.current = this.start(event, at);
        break;
      }
      case "cached": {
        const step = event.key ? this.byKey.get(event.key) : this.current;
        if (step) step.cached = true;
        // BuildKit's CACHED is the step's last line; the legacy builder still prints the reused layer's id.
        if (event.key) this.finish(step, at);
        break;
      }
      case "done":
        this.finish(event.key ? this.byKey.get(event.key) : this.current, at);
        break;
      case "layer": {
        const step = this.current;
        // The id printed after "Using cache" is the reused layer, and the one after FROM is the base
        // image: this build created neither, so neither may be removed as ours.
        const reused = step?.cached === true || /^FROM\s/i.test(step?.instruction ?? "");
        if (step && step.endedAt === undefined && !reused) this.createdLayers.push(event.id);
        this.finish(step, at);
        break;
      }
      case "error": {
        const step = event.key ? this.byKey.get(event.key) : this.current;
        this.finish(step, at);
        const frontend = event.key ? this.frontends.get(event.key) : undefined;
        this.failure ??= { step, message: event.message, ...(frontend ? { frontend } : {}) };
        break;
      }
      case "frontend":
        this.frontends.set(event.key, event.ref);
        break;
    }
    return event;
  }

  private feedNested(event: BuildEvent, at: number): void {
    const innermost = () => this.waiting[this.waiting.length - 1];
    switch (event.kind) {
      case "step": {
        // A FROM step has no result line: it ends when anything else happens.
        if (this.current && /^FROM\s/i.test(this.current.instruction)) this.finish(this.current, at);
        this.endSuperseded(event.label, at);
        this.current = this.start(event, at);
        if (!/^FROM\s/i.test(event.instruction)) this.waiting.push(this.current);
        this.reusedId = undefined;
        break;
      }
      case "cached": {
        const step = this.waiting.pop();
        if (step) step.cached = true;
        this.finish(step, at);
        this.reusedId = event.id;
        break;
      }
      case "layer": {
        if (this.reusedId?.startsWith(event.id)) {
          this.reusedId = undefined;
          break;
        }
        // After the last step, the id is the committed image's (buildah prints no step result first).
        const step = this.waiting.pop();
        this.createdLayers.push(event.id);
        this.finish(step, at);
        break;
      }
      case "error": {
        const step = innermost() ?? this.current;
        this.finish(step, at);
        this.failure ??= { step, message: event.message };
        break;
      }
    }
  }

  /**
   * buildah 1.28 prints no result line at all when given --iidfile (`couplet build` always gives one), so a step's end
   * has to be read from the next header. A stage runs one step at a time, and stages take turns only where a
   * step waits for another stage (`COPY --from=`, `RUN --mount=...,from=`): a header of stage S ends S's step
   * still waiting, and every waiting step of another stage except those that copy or mount from a stage.
   */
  private endSuperseded(label: string, at: number): void {
    const stage = stageOf(label);
    for (let i = this.waiting.length - 1; i >= 0; i--) {
      const step = this.waiting[i] as Step;
      if (stageOf(step.label) !== stage && WAITS_FOR_STAGE.test(step.instruction)) continue;
      this.finish(step, at);
      this.waiting.splice(i, 1);
    }
  }

  private start(event: { key: string; label: string; instruction: string }, at: number): Step {
    const step: Step = {
      label: event.label,
      instruction: event.instruction,
      startedAt: at,
      endedAt: undefined,
      cached: false,
    };
    this.steps.push(step);
    this.byKey.set(event.key, step);
    return step;
  }

  /** Marks every step still running ended (call when the engine exits). */
  end(): void {
    const at = this.now();
    this.finish(this.current, at);
    for (const step of this.waiting.splice(0)) this.finish(step, at);
  }

  get running(): Step | undefined {
    const step = this.nested ? (this.waiting[this.waiting.length - 1] ?? this.current) : this.current;
    return step && step.endedAt === undefined ? step : undefined;
  }

  get cacheHits(): number {
    return this.steps.filter((s) => s.cached).length;
  }

  private finish(step: Step | undefined, at: number): void {
    if (step && step.endedAt === undefined) step.endedAt = at;
  }
}
