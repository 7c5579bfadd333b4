// One progress bar across the whole bench run (it takes minutes): builds done, the current one, elapsed time.
import { formatBarCells, formatSeconds, type Output } from "../engine/display.js";
import type { BenchProgress } from "./run.js";
import { SCENARIO_TITLES } from "./types.js";

export function formatBar(p: BenchProgress, elapsedSeconds: number, width = 24): string {
  const bar = formatBarCells(p.total === 0 ? 1 : p.done / p.total, width);
  const what = `${p.strategy} run ${p.run}: ${SCENARIO_TITLES[p.scenario].toLowerCase()}`;
  return `[${bar}] ${p.done}/${p.total} ${what} (${formatSeconds(elapsedSeconds)} elapsed)`;
}

export class BenchProgressBar {
  private readonly started = Date.now();
  private last: BenchProgress | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly out: Output) {
    if (out.isTTY) {
      this.timer = setInterval(() => this.draw(), 500);
      this.timer.unref();
    }
  }

  update(p: BenchProgress): void {
    this.last = p;
    if (this.out.isTTY) this.draw();
    // Without a terminal, one line per finished build keeps logs readable.
    else if (p.seconds !== undefined)
      this.out.write(`${formatBar(p, this.elapsed())} took ${formatSeconds(p.seconds)}\n`);
  }

  stop(): void {
    clearInterval(this.timer);
    if (this.out.isTTY && this.last) this.out.write("\r\x1b[K");
  }

  private elapsed(): number {
    return (Date.now() - this.started) / 1000;
  }

  private draw(): void {
    if (!this.last) return;
    this.out.write(`\r\x1b[K${formatBar(this.last, this.elapsed()).slice(0, (this.out.columns ?? 120) - 1)}`);
  }
}
