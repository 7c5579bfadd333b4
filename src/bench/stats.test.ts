import { describe, expect, it } from "vitest";
import { median, summarize } from "./stats.js";

describe("stats", () => {
  it("takes the middle value of an odd count and the mean of the middle two of an even count", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
  });

  it("does not reorder its input", () => {
    const values = [3, 1, 2];
    median(values);
    expect(values).toEqual([3, 1, 2]);
  });

  it("summarizes min, median and max, and nothing for no runs", () => {
    expect(summarize([10, 30, 20])).toEqual({ median: 20, min: 10, max: 30 });
    expect(summarize([])).toBeNull();
    expect(() => median([])).toThrow();
  });
});
