// A base layer's download on stderr as it happens: one redrawn line on a terminal, a line per quarter in a log.
import { formatBarCells, type Output } from "../engine/display.js";
import type { BlobTransfer } from "./pull.js";

/** How often a terminal line is redrawn: chunks arrive every few milliseconds, far faster than anyone reads. */
const REDRAW_MS = 100;
/** Without a size in the manifest there are no quarters: a log line this often instead. */
const UNSIZED_LOG_MS = 10_000;

function mib(bytes: number): string {
  return (bytes / 1048576).toFixed(1);
}

export function formatTransfer(transfer: BlobTransfer, width = 20): string {
  if (transfer.total === undefined || transfer.total === 0)
    return `pulling ${mib(transfer.done)} MiB: ${transfer.label}`;
  const fraction = transfer.done / transfer.total;
  return `[${formatBarCells(fraction, width)}] ${mib(transfer.done)}/${mib(transfer.total)} MiB (${Math.floor(fraction * 100)}%): ${transfer.label}`;
}

export class TransferDisplay {
  private drawn = false;
  private lastDraw = Number.NEGATIVE_INFINITY;
  /** Per blob: the last quarter (or, unsized, the time) a log line was written for */
  private readonly logged = new Map<string, number>();

  constructor(
    private readonly out: Output,
    private readonly now: () => number = Date.now,
  ) {}

  update(transfer: BlobTransfer): void {
    if (this.out.isTTY) {
      const at = this.now();
      if (at - this.lastDraw < REDRAW_MS) return;
      this.lastDraw = at;
      const line = formatTransfer(transfer).slice(0, (this.out.columns ?? 120) - 1);
      this.out.write(`\r\x1b[K${line}`);
      this.drawn = true;
      return;
    }
    const key = transfer.label;
    if (transfer.total) {
      // 25, 50 and 75%: the finished blob gets its own "pulled" line from the pull.
      const quarter = Math.floor((transfer.done * 4) / transfer.total);
      if (quarter < 1 || quarter > 3 || quarter <= (this.logged.get(key) ?? 0)) return;
      this.logged.set(key, quarter);
    } else {
      const at = this.now();
      const last = this.logged.get(key);
      if (last === undefined) {
        this.logged.set(key, at);
        return;
      }
      if (at - last < UNSIZED_LOG_MS) return;
      this.logged.set(key, at);
    }
    this.out.write(`${formatTransfer(transfer)}\n`);
  }

  /** Erase the terminal line, before another line is printed or at the end. */
  clear(): void {
    if (!this.drawn) return;
    this.out.write("\r\x1b[K");
    this.drawn = false;
  }
}
