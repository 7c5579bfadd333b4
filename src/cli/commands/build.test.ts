import { describe, expect, it } from "vitest";
import { formatUserError, UserError } from "../../errors.js";
import { destinationFromFlags } from "./build.js";

function refusal(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    return formatUserError(error);
  }
  return undefined;
}

describe("--push and --output on couplet build", () => {
  it("builds as the --push reference, refusing another --tag or both destinations", () => {
    expect(destinationFromFlags({ push: "r.example/a:1" })).toEqual({
      destination: { push: true },
      tag: "r.example/a:1",
    });
    expect(destinationFromFlags({ push: "r.example/a:1", tag: "r.example/a:1" }).tag).toBe("r.example/a:1");
    expect(refusal(() => destinationFromFlags({ push: "r.example/a:1", tag: "other:2" }))).toMatch(
      /^--push r\.example\/a:1 names the image, and --tag names another \(other:2\) \(drop --tag/,
    );
    expect(refusal(() => destinationFromFlags({ push: "r/a", output: "a.tar" }))).toMatch(
      /^--push and --output both name where the image goes/,
    );
    expect(destinationFromFlags({ output: "/abs/a.tar", tag: "t" })).toEqual({
      destination: { archive: "/abs/a.tar" },
      tag: "t",
    });
  });
});
