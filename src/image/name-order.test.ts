// compareNames agrees in sign with an English Intl.Collator on every pair, ASCII or not.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fuzzParameters } from "../../test/support/fuzz.js";
import { compareNames } from "./name-order.js";

const english = new Intl.Collator("en");
const sign = (n: number) => Math.sign(n);

// Characters that tie often (case, punctuation, digits) and some that leave the fast path (accents, a control
// character ICU ignores, a tab it does not, a Turkish dotless i, an astral one).
const ALPHABET = [..."aAbBzZiI09 _-./~$@", "é", "å", "ı", "\u0001", "\t", "\u{1F600}"];
const name = fc.string({ unit: fc.constantFrom(...ALPHABET), maxLength: 8 });
const printable = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
});

describe("compareNames", () => {
  it("orders every pair of printable ASCII characters as ICU does", () => {
    const chars = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i));
    for (const a of chars)
      for (const b of chars)
        expect([a, b, sign(compareNames(a, b))]).toEqual([a, b, sign(english.compare(a, b))]);
  });

  it("lets a longer name win over case, and case decide left to right", () => {
    expect(sign(compareNames("A", "ab"))).toBe(-1);
    expect(sign(compareNames("aB", "Ab"))).toBe(-1);
    expect(sign(compareNames("usr/lib/X", "usr/lib/x"))).toBe(1);
    expect(compareNames("same/path", "same/path")).toBe(0);
  });

  it("agrees with the collator on names that tie often or leave the fast path", () => {
    fc.assert(
      fc.property(name, name, (a, b) => sign(compareNames(a, b)) === sign(english.compare(a, b))),
      fuzzParameters(2000),
    );
  });

  it("agrees with the collator on any printable ASCII", () => {
    fc.assert(
      fc.property(printable, printable, (a, b) => sign(compareNames(a, b)) === sign(english.compare(a, b))),
      fuzzParameters(2000),
    );
  });

  it("sorts a list as the collator does", () => {
    fc.assert(
      fc.property(fc.array(name, { maxLength: 30 }), (names) => {
        expect([...names].sort(compareNames)).toEqual([...names].sort(english.compare));
      }),
      fuzzParameters(300),
    );
  });
});
