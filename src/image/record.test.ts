// RECORD rows read as they stream: the same paths whatever the chunking, long lines skipped, the image-wide budget kept.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fuzzParameters } from "../../test/support/fuzz.js";
import { Budget } from "./budget.js";
import { recordPath, recordPathIn, recordSink } from "./record.js";

// A real RECORD: distro 1.8.0 as Debian bookworm's python3-distro installs it.
const RECORD = readFileSync(
  fileURLToPath(new URL("../../test/fixtures/records/distro-1.8.0.RECORD", import.meta.url)),
  "utf8",
).trimEnd();

function read(chunks: Buffer[], budget = new Budget()): string[] | undefined {
  let out: string[] | undefined;
  const sink = recordSink(budget, (paths) => {
    out = paths;
  });
  for (const chunk of chunks) sink.data(chunk);
  sink.end();
  return out;
}

describe("recordPath", () => {
  it("takes the path of a row, commas in it included, and skips rows with no size column", () => {
    expect(recordPath("a/b.py,sha256=x,12")).toBe("a/b.py");
    expect(recordPath("a/b,c.py,sha256=x,12")).toBe("a/b,c.py");
    expect(recordPath("x.pyc,,")).toBe("x.pyc");
    expect(recordPath("no-commas")).toBeUndefined();
    expect(recordPath("a,b")).toBeUndefined();
  });
});

describe("recordPathIn", () => {
  // Rows built from the bytes that matter: commas, CR, digits, spaces, UTF-8 (a no-break space too, which Number
  // trims) and bytes that are not UTF-8.
  const piece = fc.constantFrom(
    ...["a", "lib/x.py", ",", ",", "\r", "12", " ", "sha256=x", "é", "\u00a0"].map((text) =>
      Buffer.from(text),
    ),
    Buffer.from([0xff]),
    Buffer.from([0xc3]),
  );
  const row = fc.array(piece, { maxLength: 10 }).map((pieces) => Buffer.concat(pieces));

  it("reads from the bytes the path recordPath reads from the decoded row, inside a larger buffer (property)", () => {
    fc.assert(
      fc.property(row, row, row, (before, bytes, after) => {
        const text = bytes.toString("utf8");
        const expected = recordPath(text.endsWith("\r") ? text.slice(0, -1) : text);
        const buffer = Buffer.concat([before, bytes, after]);
        expect(recordPathIn(buffer, before.length, before.length + bytes.length)).toBe(expected);
      }),
      fuzzParameters(1000),
    );
  });
});

describe("recordSink", () => {
  const expected = RECORD.split("\n").map((line) => recordPath(line));

  it("reads the rows of a real RECORD", () => {
    expect(read([Buffer.from(RECORD)])).toEqual(expected);
    expect(expected).toHaveLength(10);
    expect(expected).toContain("distro/distro.py");
  });

  it("gives the same paths however the file is cut into chunks", () => {
    const bytes = Buffer.from(`${RECORD}\r\n`);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: bytes.length }), { maxLength: 12 }), (cuts) => {
        const points = [0, ...cuts.sort((a, b) => a - b), bytes.length];
        const chunks = points.slice(1).map((end, i) => bytes.subarray(points[i], end));
        expect(read(chunks)).toEqual(expected);
      }),
      fuzzParameters(300),
    );
  });

  it("keeps nothing of an 8 MiB line with no newline (the RECORD bomb) and reads rows after a long line", () => {
    const bomb = Buffer.alloc(8 << 20, "a");
    expect(read([bomb.subarray(0, 3 << 20), bomb.subarray(3 << 20)])).toEqual([]);
    expect(read([Buffer.from("x".repeat(20_000)), Buffer.from("\nok.py,,3\n")])).toEqual(["ok.py"]);
    expect(read([Buffer.from(`${"y".repeat(20_000)}\nok.py,,3\n`)])).toEqual(["ok.py"]);
  });

  it("keeps no partial list when the budget runs out, and gives back what it had taken", () => {
    const budget = new Budget(200);
    expect(read([Buffer.from(RECORD)], budget)).toBeUndefined();
    // Everything given back: a small RECORD still fits afterwards.
    expect(read([Buffer.from("a.py,,1\nb.py,,2\n")], budget)).toEqual(["a.py", "b.py"]);
  });
});
