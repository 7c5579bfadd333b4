import { describe, expect, it } from "vitest";
import { admitsMinor, toPep440 } from "./constraint.js";

describe("Poetry constraints as PEP 440", () => {
  it.each([
    ["^3.10", ">=3.10,<4"],
    ["^0.3", ">=0.3,<0.4"],
    ["~3.11", ">=3.11,<3.12"],
    ["~3.11.2", ">=3.11.2,<3.12"],
    ["~=3.11", "~=3.11"],
    ["3.11.*", "==3.11.*"],
    ["3.11", "==3.11"],
    [">=3.9,<3.13", ">=3.9,<3.13"],
    [">= 3.9 < 3.13", ">=3.9,<3.13"],
    ["*", ""],
  ])("translates %s", (poetry, pep440) => {
    expect(toPep440(poetry)).toEqual([pep440]);
  });

  it("keeps alternatives separated by ||", () => {
    expect(toPep440("~2.7 || ^3.9")).toEqual([">=2.7,<2.8", ">=3.9,<4"]);
  });

  it("rejects what it cannot read", () => {
    expect(toPep440("banana")).toBeUndefined();
    expect(toPep440(">=three")).toBeUndefined();
  });

  it.each([
    ["^3.10", "3.9", false],
    ["^3.10", "3.13", true],
    ["~3.11", "3.12", false],
    [">=3.11.4", "3.11", true],
    [">=3.8,<3.11", "3.11", false],
    ["<3.11.5,>=3.11.3", "3.11", true],
    [">=3.12 || ~3.9", "3.10", false],
    [">=3.12 || ~3.9", "3.9", true],
  ])("%s admits CPython %s: %s", (constraint, minor, expected) => {
    const alternatives = toPep440(constraint);
    expect(alternatives).toBeDefined();
    expect(admitsMinor(alternatives ?? [], minor)).toBe(expected);
  });
});
