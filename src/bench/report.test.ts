import { describe, expect, it } from "vitest";
import { barChart, renderHtml } from "./html.js";
import { renderMarkdown } from "./markdown.js";
import { summarizeStrategy } from "./run.js";
import type { BenchReport, RunMeasure } from "./types.js";

const run = (sizeBytes: number, cold: number, depChange: number, codeChange: number): RunMeasure => ({
  sizeBytes,
  baseBytes: 259_000_000,
  builds: {
    cold: { seconds: cold, cacheHits: 0, steps: 10 },
    depChange: { seconds: depChange, cacheHits: 4, steps: 10 },
    codeChange: { seconds: codeChange, cacheHits: 8, steps: 10 },
  },
});

function report(): BenchReport {
  return {
    schemaVersion: 1,
    project: "hello-<uwsgi>",
    date: "2026-11-23T12:00:00.000Z",
    couplet: "0.1.0",
    engine: { name: "buildah", label: "buildah (overlay storage)", version: "buildah version 1.28.2" },
    machine: { os: "linux 6.1", cpus: 2, cpuModel: "Some CPU", memoryBytes: 24 * 2 ** 30 },
    runs: 3,
    results: [
      summarizeStrategy("full", "localhost/full", [
        run(912e6, 30, 20, 5),
        run(912e6, 26, 18, 4),
        run(912e6, 28, 25, 6),
      ]),
      summarizeStrategy("optimal", "localhost/slim", [
        run(300e6, 50, 3, 2),
        run(300e6, 40, 2, 1),
        run(300e6, 45, 4, 3),
      ]),
    ],
    notes: ["a note"],
  };
}

describe("summarizeStrategy", () => {
  it("reports medians at the top and the spread in min and max, null for scenarios never run", () => {
    const [full] = report().results;
    expect(full).toMatchObject({
      strategy: "full",
      sizeBytes: 912e6,
      bytesAboveBase: 912e6 - 259e6,
      cold: 28,
      depChange: 20,
      codeChange: 5,
      realDepChange: null,
    });
    expect(full?.min.cold).toBe(26);
    expect(full?.max.depChange).toBe(25);
  });
});

describe("renderMarkdown", () => {
  it("prints one row per strategy with sizes in MB and median (min–max) times, leaving out unmeasured scenarios", () => {
    const text = renderMarkdown(report());
    const lines = text.split("\n");
    expect(lines).toContain(
      "| Strategy | Image size | Above base | Uncached build | Rebuild after cache-busting edit | Rebuild after a source edit |",
    );
    expect(lines).toContain(
      "| `full` | 912 MB | 653 MB | 28.0 s (26.0–30.0) | 20.0 s (18.0–25.0) | 5.0 s (4.0–6.0) |",
    );
    expect(text).toMatch(
      /Engine: buildah \(overlay storage\) \(buildah version 1.28.2\)\. Machine: 2 × Some CPU, 24 GiB RAM/,
    );
    expect(text).not.toMatch(/adding a dependency/);
  });
});

describe("renderHtml", () => {
  it("is one self-contained page: no scripts, no external resources, escaped text", () => {
    const html = renderHtml(report());
    expect(html).not.toMatch(/<script|<link|src=|href=/);
    expect(html).toContain("hello-&#60;uwsgi&#62;");
    // size, bytes above base, and one chart per measured scenario
    expect(html.match(/<svg /g)).toHaveLength(5);
  });

  it("draws bars to one scale, the largest value full width", () => {
    const svg = barChart("t", [
      { label: "a", value: 100, text: "100" },
      { label: "b", value: 25, text: "25" },
    ]);
    const widths = [...svg.matchAll(/<rect [^>]*width="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(widths).toHaveLength(2);
    expect((widths[1] as number) / (widths[0] as number)).toBeCloseTo(0.25);
  });
});
