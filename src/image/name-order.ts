// The order inspect sorts paths in (equal sizes, ELF files): ICU's, as localeCompare in English, without its collation data.
//
// A collator costs 3 MB of memory and 6 ms when it is built, which `couplet inspect` paid on every run to break ties
// between paths of equal size. Paths are almost always printable ASCII, where the root collation is simple: each
// character has one primary weight (a letter the same in either case), whole strings are compared by those first,
// and only then by case, lower before upper, left to right. Other strings go to a real collator, built on first use.

/** Printable ASCII in the root collation's order; each upper-case letter shares its lower-case letter's primary weight. */
const ORDER =
  " _-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$0123456789aAbBcCdDeEfFgGhHiIjJkKlLmMnNoOpPqQrRsStTuUvVwWxXyYzZ";

/** Primary weight per character code, 0 for a character outside the fast path. */
const PRIMARY = new Uint8Array(128);
let weight = 0;
for (const char of ORDER) {
  const code = char.charCodeAt(0);
  if (!(code >= 0x41 && code <= 0x5a)) weight += 1;
  PRIMARY[code] = weight;
}

// "en", not the process's locale: the fast path is English's order, and one sort must not mix two orders.
let collator: Intl.Collator | undefined;
function collate(a: string, b: string): number {
  collator ??= new Intl.Collator("en");
  return collator.compare(a, b);
}

/** Negative, zero or positive as `a.localeCompare(b, "en")`. */
export function compareNames(a: string, b: string): number {
  const shorter = Math.min(a.length, b.length);
  let byCase = 0;
  for (let i = 0; i < shorter; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    const px = x < 128 ? (PRIMARY[x] as number) : 0;
    const py = y < 128 ? (PRIMARY[y] as number) : 0;
    if (px === 0 || py === 0) return collate(a, b);
    if (px !== py) return px - py;
    // Same letter, different case: decides only if the primary weights of the whole strings are equal.
    if (byCase === 0 && x !== y) byCase = x > y ? -1 : 1;
  }
  const longer = a.length > b.length ? a : b;
  for (let i = shorter; i < longer.length; i++) {
    const code = longer.charCodeAt(i);
    if (code >= 128 || PRIMARY[code] === 0) return collate(a, b);
  }
  return a.length - b.length || byCase;
}
