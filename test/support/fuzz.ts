// Settings shared by every property-based (fast-check) suite: short and seeded in `npm test`,
// long on demand (bench/fuzz.sh), and a failure can always be replayed from the seed it prints.
import type { Parameters } from "fast-check";

/** Cases per property: COUPLET_FUZZ_RUNS, else `fallback` (kept small so `npm test` stays fast). */
export function fuzzRuns(fallback = 200): number {
  const raw = process.env.COUPLET_FUZZ_RUNS;
  const n = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`COUPLET_FUZZ_RUNS must be a positive integer, got ${raw}`);
  return n;
}

/** The seed of this run: COUPLET_FUZZ_SEED to replay one, else a fixed default so CI is repeatable. */
export function fuzzSeed(): number {
  const raw = process.env.COUPLET_FUZZ_SEED;
  if (raw === undefined) return 20261130;
  const n = Number(raw);
  if (!Number.isInteger(n)) throw new Error(`COUPLET_FUZZ_SEED must be an integer, got ${raw}`);
  return n;
}

/** fast-check parameters for one property: seeded, bounded, failures reported with the seed and path. */
export function fuzzParameters<T>(fallbackRuns = 200, extra: Parameters<T> = {}): Parameters<T> {
  return { numRuns: fuzzRuns(fallbackRuns), seed: fuzzSeed(), verbose: 1, ...extra };
}
