// Byte-exact Python `json.dumps(value, sort_keys=True)`: Poetry hashes this text into poetry.lock's content-hash.

/** A TOML value as smol-toml returns it with `integersAsBigInt: true` (so integers and floats stay apart). */
export type PyJsonValue = unknown;

/** Thrown for values Python's json module cannot serialize either (TOML dates): the hash is then unknown. */
export class NotSerializable extends Error {}

/**
 * Python's default separators are ", " and ": ", keys sorted by code point, and `ensure_ascii=True`
 * escapes everything outside printable ASCII as \uXXXX (lower-case hex, surrogate pairs for astral).
 */
export function pythonJsonDumps(value: PyJsonValue): string {
  const out: string[] = [];
  write(value, out);
  return out.join("");
}

function write(value: PyJsonValue, out: string[]): void {
  if (value === null || value === undefined) out.push("null");
  else if (value === true) out.push("true");
  else if (value === false) out.push("false");
  else if (typeof value === "string") out.push(pyString(value));
  else if (typeof value === "bigint") out.push(value.toString());
  else if (typeof value === "number") out.push(pyFloat(value));
  else if (Array.isArray(value)) {
    out.push("[");
    value.forEach((item, i) => {
      if (i > 0) out.push(", ");
      write(item, out);
    });
    out.push("]");
  } else if (value instanceof Date) throw new NotSerializable("a TOML date is not JSON-serializable");
  else if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      compareCodePoints(a, b),
    );
    out.push("{");
    entries.forEach(([key, item], i) => {
      if (i > 0) out.push(", ");
      out.push(pyString(key), ": ");
      write(item, out);
    });
    out.push("}");
  } else throw new NotSerializable(`cannot serialize ${typeof value}`);
}

/** Python sorts str by code point; JavaScript's default sort compares UTF-16 units, which differs above U+FFFF. */
function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return x.done ? (y.done ? 0 : -1) : 1;
    const cx = x.value.codePointAt(0) as number;
    const cy = y.value.codePointAt(0) as number;
    if (cx !== cy) return cx - cy;
  }
}

const SHORT_ESCAPES: Record<string, string> = {
  '"': '\\"',
  "\\": "\\\\",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\b": "\\b",
  "\f": "\\f",
};

function pyString(s: string): string {
  // Fast path: the usual dependency spec is plain printable ASCII.
  if (/^[ !#-[\]-~]*$/.test(s)) return `"${s}"`;
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i] as string;
    const code = s.charCodeAt(i);
    const short = SHORT_ESCAPES[ch];
    if (short !== undefined) out += short;
    else if (code >= 0x20 && code <= 0x7e) out += ch;
    // UTF-16 units are exactly what Python emits for astral characters (a surrogate pair of \u escapes).
    else out += `\\u${code.toString(16).padStart(4, "0")}`;
  }
  return `${out}"`;
}

/** Python's float repr: shortest round-trip digits, exponent form below 1e-4 or from 1e16, always a "." or "e". */
function pyFloat(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (x === Number.POSITIVE_INFINITY) return "Infinity";
  if (x === Number.NEGATIVE_INFINITY) return "-Infinity";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const [mantissa, expText] = x.toExponential().split("e") as [string, string];
  const exp = Number(expText);
  const negative = mantissa.startsWith("-");
  const digits = mantissa.replace("-", "").replace(".", "");
  const sign = negative ? "-" : "";
  if (exp < -4 || exp >= 16) {
    const frac = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = Math.abs(exp).toString().padStart(2, "0");
    return `${sign}${frac}e${exp < 0 ? "-" : "+"}${e}`;
  }
  if (exp < 0) return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
  const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, "0");
  const fracPart = digits.slice(exp + 1) || "0";
  return `${sign}${intPart}.${fracPart}`;
}
