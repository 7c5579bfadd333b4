// A fast reader for the TOML subset Poetry writes into poetry.lock; anything else falls back to smol-toml.
//
// Why: a 300-package lock is about 1 MB, and a general TOML parser spends ~200 ms on it in a cold Node process,
// most of `couplet init`'s time budget. Poetry's output is regular (headers, `key = value`, strings, booleans,
// arrays, one-line inline tables), so a scanner built on sticky regular expressions reads it in a few ms.
// It never guesses: on any construct outside that subset (numbers, dates, dotted keys, multi-line strings,
// escapes other than the simple ones, redefinitions) it returns undefined and the caller uses the full parser,
// which also produces the error message for invalid documents. Tests check that both agree.

type Table = Record<string, unknown>;

// Characters TOML forbids in strings and comments (control characters except tab).
const CONTROL = "\\x00-\\x08\\x0a-\\x1f\\x7f";
const BARE_KEY = /[A-Za-z0-9_-]+/y;
const QUOTED_KEY = new RegExp(`"([^"\\\\${CONTROL}]*)"`, "y");
// Unrolled (`a*(?:\\ea*)*`) rather than `(?:a|\\e)*`: a per-character alternation is several times slower.
const BASIC_STRING = new RegExp(`"([^"\\\\${CONTROL}]*(?:\\\\[btnfr"\\\\][^"\\\\${CONTROL}]*)*)"`, "y");
const LITERAL_STRING = new RegExp(`'([^'${CONTROL}]*)'`, "y");
const HEADER = /(\[\[?)([A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*)(\]\]?)/y;
const BLANK = new RegExp(`(?:[ \\t]*(?:#[^${CONTROL}]*)?(?:\\r?\\n))*`, "y");
const LINE_END = new RegExp(`[ \\t]*(?:#[^${CONTROL}]*)?(?:\\r?\\n|$)`, "y");
// The `files` arrays are most of a lock (thousands of lines): a whole multi-line array of plain
// `{file = "...", hash = "..."}` entries is matched by one expression and split by another, in native regex
// code, instead of stepping the scanner through each entry. Commas are required between entries, as in TOML.
const FILE_ENTRY = `\\{file = "[^"\\\\${CONTROL}]*", hash = "[^"\\\\${CONTROL}]*"\\}`;
const FILES_ARRAY = new RegExp(
  `\\[\\r?\\n(?:[ \\t]*${FILE_ENTRY},[ \\t]*\\r?\\n)*(?:[ \\t]*${FILE_ENTRY}[ \\t]*\\r?\\n)?[ \\t]*\\]`,
  "y",
);
const ESCAPES: Record<string, string> = { b: "\b", t: "\t", n: "\n", f: "\f", r: "\r", '"': '"', "\\": "\\" };

class Unsupported extends Error {}

function bail(): never {
  throw new Unsupported();
}

export function parseLockToml(text: string): Table | undefined {
  try {
    return new Scanner(text).document();
  } catch (error) {
    if (error instanceof Unsupported) return undefined;
    throw error;
  }
}

class Scanner {
  private pos = 0;
  /** Tables created by headers (explicitly or as parents) and arrays created by [[...]]: the only ones headers may enter. */
  private readonly headerTables = new WeakSet<object>();
  private readonly explicitTables = new WeakSet<object>();
  private readonly tableArrays = new WeakSet<object>();

  constructor(private readonly text: string) {}

  document(): Table {
    if (this.text.charCodeAt(0) === 0xfeff) bail();
    const root: Table = {};
    this.headerTables.add(root);
    let current = root;
    for (;;) {
      this.match(BLANK);
      this.skipSpaces();
      if (this.pos >= this.text.length) return root;
      if (this.text[this.pos] === "[") current = this.header(root);
      else {
        const key = this.key();
        this.skipSpaces();
        if (this.text[this.pos] !== "=") bail();
        this.pos++;
        this.skipSpaces();
        const value = this.value();
        if (Object.hasOwn(current, key)) bail();
        current[key] = value;
      }
      if (this.match(LINE_END) === undefined) bail();
    }
  }

  private skipSpaces(): void {
    let c = this.text.charCodeAt(this.pos);
    while (c === 0x20 || c === 0x09) c = this.text.charCodeAt(++this.pos);
  }

  private match(re: RegExp): RegExpExecArray | undefined {
    re.lastIndex = this.pos;
    const m = re.exec(this.text);
    if (!m) return undefined;
    this.pos = re.lastIndex;
    return m;
  }

  private header(root: Table): Table {
    const m = this.match(HEADER);
    if (!m) bail();
    const array = m[1] === "[[";
    if (array !== (m[3] === "]]")) bail();
    const path = (m[2] as string).split(".");
    let table = root;
    for (const segment of path.slice(0, -1)) table = this.enter(table, segment);
    const last = path[path.length - 1] as string;
    if (last === "__proto__") bail();
    const existing = Object.hasOwn(table, last) ? table[last] : undefined;
    const fresh: Table = {};
    this.headerTables.add(fresh);
    this.explicitTables.add(fresh);
    if (array) {
      if (existing === undefined) {
        const list = [fresh];
        this.tableArrays.add(list);
        table[last] = list;
      } else if (Array.isArray(existing) && this.tableArrays.has(existing)) existing.push(fresh);
      else bail();
      return fresh;
    }
    if (existing === undefined) {
      table[last] = fresh;
      return fresh;
    }
    // A table first created as the parent of another header may be defined once, later.
    if (typeof existing !== "object" || existing === null || Array.isArray(existing)) bail();
    if (!this.headerTables.has(existing) || this.explicitTables.has(existing)) bail();
    this.explicitTables.add(existing);
    return existing as Table;
  }

  /** Step into a header path segment: an existing header table, the last table of a [[...]] array, or a new parent. */
  private enter(table: Table, segment: string): Table {
    if (segment === "__proto__") bail();
    const existing = Object.hasOwn(table, segment) ? table[segment] : undefined;
    if (existing === undefined) {
      const parent: Table = {};
      this.headerTables.add(parent);
      table[segment] = parent;
      return parent;
    }
    if (Array.isArray(existing)) {
      if (!this.tableArrays.has(existing)) bail();
      return existing[existing.length - 1] as Table;
    }
    if (typeof existing !== "object" || existing === null || !this.headerTables.has(existing)) bail();
    return existing as Table;
  }

  private key(): string {
    const bare = this.match(BARE_KEY);
    const key = bare ? bare[0] : this.match(QUOTED_KEY)?.[1];
    if (key === undefined || key === "__proto__") bail();
    return key;
  }

  private value(): unknown {
    const ch = this.text[this.pos];
    if (ch === '"') {
      if (this.text.startsWith('"""', this.pos)) bail();
      const m = this.match(BASIC_STRING);
      if (!m) bail();
      const raw = m[1] as string;
      return raw.includes("\\") ? raw.replace(/\\(.)/g, (_, c: string) => ESCAPES[c] as string) : raw;
    }
    if (ch === "'") {
      if (this.text.startsWith("'''", this.pos)) bail();
      const m = this.match(LITERAL_STRING);
      if (!m) bail();
      return m[1];
    }
    if (ch === "[") return this.array();
    if (ch === "{") return this.inlineTable();
    if (this.text.startsWith("true", this.pos)) {
      this.pos += 4;
      return true;
    }
    if (this.text.startsWith("false", this.pos)) {
      this.pos += 5;
      return false;
    }
    return bail();
  }

  private array(): unknown[] {
    const files = this.match(FILES_ARRAY);
    if (files) return fileEntries(files[0]);
    this.pos++;
    const items: unknown[] = [];
    for (;;) {
      this.match(BLANK);
      this.skipSpaces();
      if (this.text[this.pos] === "]") break;
      items.push(this.value());
      this.skipSpaces();
      this.match(BLANK);
      this.skipSpaces();
      if (this.text[this.pos] === ",") this.pos++;
      else if (this.text[this.pos] === "]") break;
      else bail();
    }
    this.pos++;
    return items;
  }

  private inlineTable(): Table {
    this.pos++;
    const table: Table = {};
    this.skipSpaces();
    if (this.text[this.pos] === "}") {
      this.pos++;
      return table;
    }
    for (;;) {
      this.skipSpaces();
      const key = this.key();
      this.skipSpaces();
      if (this.text[this.pos] !== "=") bail();
      this.pos++;
      this.skipSpaces();
      const value = this.value();
      if (Object.hasOwn(table, key)) bail();
      table[key] = value;
      this.skipSpaces();
      const ch = this.text[this.pos];
      this.pos++;
      if (ch === "}") return table;
      if (ch !== ",") bail();
    }
  }
}

/** Split an array FILES_ARRAY matched: its strings hold no quotes or escapes, so plain searches are exact. */
function fileEntries(block: string): { file: string; hash: string }[] {
  const out: { file: string; hash: string }[] = [];
  const fileKey = '{file = "';
  const hashKey = '", hash = "';
  for (let at = block.indexOf(fileKey); at >= 0; at = block.indexOf(fileKey, at)) {
    const fileStart = at + fileKey.length;
    const fileEnd = block.indexOf(hashKey, fileStart);
    const hashEnd = block.indexOf('"}', fileEnd + hashKey.length);
    out.push({ file: block.slice(fileStart, fileEnd), hash: block.slice(fileEnd + hashKey.length, hashEnd) });
    at = hashEnd;
  }
  return out;
}
