// One memory budget for everything inspect keeps of file contents across a whole image, however many files hold it.

/** Default: far more than real images need (a large ML image keeps a few MiB), far less than a bomb would take. */
export const DEFAULT_BUDGET_BYTES = 64 * 1024 * 1024;

/** What a kept string costs: V8 stores one-byte strings in about their length plus an object header. */
export function costOf(text: string): number {
  return text.length + 32;
}

export class Budget {
  private used = 0;
  /** What was dropped for lack of room, by kind, for the report */
  readonly dropped = new Map<string, number>();

  constructor(readonly limit: number = DEFAULT_BUDGET_BYTES) {}

  /** Reserve `bytes`; false (and nothing reserved) when that would go over the limit. */
  take(bytes: number): boolean {
    if (this.used + bytes > this.limit) return false;
    this.used += bytes;
    return true;
  }

  /** Give back what was reserved for something that will not be kept after all. */
  release(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
  }

  /** Count one item of `kind` that was not kept. */
  drop(kind: string): void {
    this.dropped.set(kind, (this.dropped.get(kind) ?? 0) + 1);
  }
}
