// Shows a running build in a terminal: finished steps with their time and cache hits, the running one ticking.
import type { BuildTracker, Step } from "./progress.js";

export interface Output {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export function formatSeconds(seconds: number): string {
  return seconds < 60
    ? `${seconds.toFixed(1)}s`
    : `${Math.floor(seconds / 60)}m${String(Math.round(seconds % 60)).padStart(2, "0")}s`;
}

/** A progress bar `width` cells wide with `fraction` (0 to 1) of them filled. */
export function formatBarCells(fraction: number, width: number): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `${"█".repeat(filled)}${"░".repeat(width - filled)}`;
}

function oneLine(text: string, width: number): string {
  const flat = text.replace(/\s+/g, " ");
  return flat.length > width ? `${flat.slice(0, Math.max(0, width - 1))}…` : flat;
}

export function formatStep(step: Step, now: number, width = 100): string {
  const ended = step.endedAt ?? now;
  const time = formatSeconds((ended - step.startedAt) / 1000);
  const mark = step.cached ? "cached" : step.endedAt === undefined ? "…" : "done";
  const suffix = ` ${time} ${mark}`;
  return `${oneLine(`${step.label} ${step.instruction}`, width - suffix.length - 4)}${suffix}`;
}

export class LiveBuildDisplay {
  private printed = new Set<Step>();
  private timer: NodeJS.Timeout | undefined;
  private statusShown = false;

  constructor(
    private readonly tracker: BuildTracker,
    private readonly out: Output,
    private readonly now: () => number = Date.now,
  ) {
    if (out.isTTY) {
      this.timer = setInterval(() => this.status(), 200);
      this.timer.unref();
    }
  }

  /** Call after each tracker event. */
  update(): void {
    this.clearStatus();
    for (const step of this.tracker.steps) {
      if (step.endedAt === undefined || this.printed.has(step)) continue;
      this.printed.add(step);
      const failed = this.tracker.failure?.step === step;
      const line = formatStep(step, this.now(), this.width).replace(/ done$/, failed ? " failed" : " done");
      this.out.write(`  ${failed ? "✗" : step.cached ? "↺" : "✓"} ${line}\n`);
    }
    this.status();
  }

  /** Ends the display; `printRemaining` false after a stop by the user (the last step did not finish). */
  stop(printRemaining = true): void {
    clearInterval(this.timer);
    if (printRemaining) this.update();
    this.clearStatus();
  }

  /** A terminal line's width; a log (no terminal) keeps each instruction whole. */
  private get width(): number {
    return this.out.isTTY ? Math.max(40, this.out.columns ?? 100) : Number.POSITIVE_INFINITY;
  }

  private status(): void {
    if (!this.out.isTTY) return;
    const running = this.tracker.running;
    if (!running) return;
    this.out.write(`\r\x1b[K  ▸ ${formatStep(running, this.now(), this.width)}`);
    this.statusShown = true;
  }

  private clearStatus(): void {
    if (!this.statusShown) return;
    this.out.write("\r\x1b[K");
    this.statusShown = false;
  }
}
