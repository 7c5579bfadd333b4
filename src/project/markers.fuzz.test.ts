// Property: the stack-based marker evaluator agrees with a direct evaluation of the expression it was given.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fuzzParameters } from "../../test/support/fuzz.js";
import { evaluateMarker, linuxCPython, type Tristate } from "./markers.js";

type Expr = { leaf: string; value: Tristate } | { op: "and" | "or"; left: Expr; right: Expr };

const ENV = linuxCPython("3.12");
const LEAVES: { leaf: string; value: Tristate }[] = [
  { leaf: 'sys_platform == "linux"', value: true },
  { leaf: 'sys_platform == "win32"', value: false },
  { leaf: 'python_version >= "3.8"', value: true },
  { leaf: 'python_version < "3.10"', value: false },
  { leaf: 'platform_release == "6.1"', value: undefined },
  { leaf: '"linux" in sys_platform', value: true },
];

const { expr } = fc.letrec<{ expr: Expr }>((tie) => ({
  expr: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constantFrom(...LEAVES),
    fc.record({ op: fc.constantFrom("and" as const, "or" as const), left: tie("expr"), right: tie("expr") }),
  ),
}));

function evaluate(e: Expr): Tristate {
  if ("leaf" in e) return e.value;
  const a = evaluate(e.left);
  const b = evaluate(e.right);
  if (e.op === "and") return a === false || b === false ? false : a === true && b === true ? true : undefined;
  return a === true || b === true ? true : a === false && b === false ? false : undefined;
}

/** Fully parenthesized, or relying on precedence where `parens` is false (and binds tighter than or). */
function text(e: Expr, parens: boolean): string {
  if ("leaf" in e) return e.leaf;
  const inner = `${text(e.left, parens)} ${e.op} ${text(e.right, parens)}`;
  return parens ? `(${inner})` : inner;
}

describe("evaluateMarker (property)", () => {
  it("matches a direct evaluation of fully parenthesized expressions", () => {
    fc.assert(
      fc.property(expr, (e) => {
        expect(evaluateMarker(text(e, true), ENV)).toBe(evaluate(e));
      }),
      fuzzParameters(),
    );
  });

  it("never throws on arbitrary text, and is undefined (not a guess) on what does not parse", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), fc.nat(20000), (s, depth) => {
        const v = evaluateMarker(`${"(".repeat(depth)}${s}${")".repeat(depth)}`, ENV);
        expect([true, false, undefined]).toContain(v);
      }),
      fuzzParameters(100),
    );
  });

  it("and binds tighter than or, as PEP 508 says", () => {
    expect(
      evaluateMarker('sys_platform == "linux" or sys_platform == "x" and sys_platform == "y"', ENV),
    ).toBe(true);
    expect(
      evaluateMarker('(sys_platform == "linux" or sys_platform == "x") and sys_platform == "y"', ENV),
    ).toBe(false);
  });
});
