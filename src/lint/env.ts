// Variables in force at each point of a Dockerfile, readable as of any instruction without copying them:
// a copy per instruction (or per shell command) made lint quadratic on long files.

/** What the rules ask of a set of variables. */
export interface Env {
  get(name: string): string | undefined;
}

export const NO_VARS: Env = { get: () => undefined };

/** Values set over time on top of a base; `at()` is the view as of now, and later sets do not change it. */
export class VarHistory {
  private readonly values = new Map<string, { time: number; value: string }[]>();
  private time = 0;

  constructor(private readonly base: Env = NO_VARS) {}

  set(name: string, value: string): void {
    this.time++;
    const list = this.values.get(name);
    if (list) list.push({ time: this.time, value });
    else this.values.set(name, [{ time: this.time, value }]);
  }

  /** The variables as they are now. */
  now(): Env {
    const time = this.time;
    return { get: (name) => this.lookup(name, time) };
  }

  private lookup(name: string, time: number): string | undefined {
    const list = this.values.get(name);
    if (list) {
      // The last value set at or before `time` (binary search: lists are in time order).
      let lo = 0;
      let hi = list.length - 1;
      let found = -1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        if ((list[mid] as { time: number }).time <= time) {
          found = mid;
          lo = mid + 1;
        } else hi = mid - 1;
      }
      if (found >= 0) return (list[found] as { value: string }).value;
    }
    return this.base.get(name);
  }
}

/** `vars` over `base`: a command's own `NAME=value` prefixes over the step's variables. */
export function overlay(base: Env, vars: ReadonlyMap<string, string>): Env {
  if (!vars.size) return base;
  return { get: (name) => vars.get(name) ?? base.get(name) };
}
