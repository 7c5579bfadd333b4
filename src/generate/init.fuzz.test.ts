// Property: whatever string a pyproject field holds, init refuses it in one line or writes a Dockerfile that does
// exactly what it does for a plain value, lints clean, and writes nothing but its two files.
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import fc from "fast-check";
import { parse, stringify } from "smol-toml";
import { beforeAll, describe, expect, it } from "vitest";
import { fuzzParameters } from "../../test/support/fuzz.js";
import { copyProject, initOutcome, instructions } from "../../test/support/project-variants.js";
import { writeFiles } from "../files/write.js";
import { lintFile } from "../lint/file.js";

// biome-ignore lint/suspicious/noExplicitAny: a parsed TOML document, edited by path in the table below
type Doc = Record<string, any>;

/** Every pyproject field whose value reaches the Dockerfile, each with a plain value to compare against. */
const FIELDS: { name: string; plain: string; set: (doc: Doc, value: string) => void }[] = [
  {
    name: "name",
    plain: "plain-name",
    set: (d, v) => {
      d.tool.poetry.name = v;
    },
  },
  {
    name: "version",
    plain: "1.2.3",
    set: (d, v) => {
      d.tool.poetry.version = v;
    },
  },
  {
    name: "description",
    plain: "plain",
    set: (d, v) => {
      d.tool.poetry.description = v;
    },
  },
  {
    name: "authors",
    plain: "Ada",
    set: (d, v) => {
      d.tool.poetry.authors = [v];
    },
  },
  {
    name: "license",
    plain: "MIT",
    set: (d, v) => {
      d.tool.poetry.license = v;
    },
  },
  {
    name: "homepage",
    plain: "https://x.org",
    set: (d, v) => {
      d.tool.poetry.homepage = v;
    },
  },
  {
    name: "readme",
    plain: "README.md",
    set: (d, v) => {
      d.tool.poetry.readme = v;
    },
  },
  {
    name: "packages.include",
    plain: "poetry1_groups",
    set: (d, v) => {
      d.tool.poetry.packages = [{ include: v }];
    },
  },
  {
    name: "packages.from",
    plain: "src",
    set: (d, v) => {
      d.tool.poetry.packages = [{ include: "poetry1_groups", from: v }];
    },
  },
  {
    name: "couplet.copy",
    plain: "static",
    set: (d, v) => {
      d.tool.couplet = { copy: [v] };
    },
  },
  {
    name: "couplet.cmd",
    plain: "serve",
    set: (d, v) => {
      d.tool.couplet = { cmd: [v, "--flag"] };
    },
  },
  {
    name: "couplet.with",
    plain: "docs",
    set: (d, v) => {
      d.tool.couplet = { with: [v] };
    },
  },
  {
    name: "couplet.extras",
    plain: "none",
    set: (d, v) => {
      d.tool.couplet = { extras: [v] };
    },
  },
  {
    name: "couplet.native.build",
    plain: "gcc",
    set: (d, v) => {
      d.tool.couplet = { native: { psycopg2: { build: [v], runtime: ["libpq5"] } } };
    },
  },
  {
    name: "couplet.native.runtime",
    plain: "libpq5",
    set: (d, v) => {
      d.tool.couplet = { native: { psycopg2: { build: ["gcc"], runtime: [v] } } };
    },
  },
];

// Characters that mean something to a Dockerfile, a shell, a path or a terminal, mixed with plain ones.
const NASTY = [..."ab_-./ *?[]{}$\\\"'`\n\r\t\u0000\u001b\u2028#=,:;&|()<>~!@%^+"];
const value = fc.oneof(
  fc.string({ unit: fc.constantFrom(...NASTY), maxLength: 24 }),
  fc.string({ maxLength: 24 }),
  fc.string({ unit: "binary", maxLength: 12 }),
  fc.constantFrom("..", "../x", "/etc", "x/../../y", "constructor", "__proto__", "", " ", "READ ME.md"),
);

let base: string;
let original: Doc;
const expected = new Map<string, string[]>();

function withField(dir: string, field: (typeof FIELDS)[number], v: string): void {
  const doc = structuredClone(original);
  field.set(doc, v);
  writeFileSync(join(dir, "pyproject.toml"), stringify(doc));
}

function listing(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).map((p) => relative(dir, join(dir, p))).sort();
}

beforeAll(async () => {
  base = copyProject("test/fixtures/projects/poetry1-groups");
  original = parse(readFileSync(join(base, "pyproject.toml"), "utf8")) as Doc;
  for (const field of FIELDS) {
    withField(base, field, field.plain);
    const outcome = await initOutcome(base);
    if ("dockerfile" in outcome) expected.set(field.name, instructions(outcome.dockerfile));
  }
  writeFileSync(join(base, "pyproject.toml"), stringify(original));
});

describe("init on random strings in every pyproject field that reaches the Dockerfile (property)", () => {
  it("refuses in one line, or renders the plain value's instructions, lints clean and writes only its files", async () => {
    let rendered = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...FIELDS), value, async (field, v) => {
        for (const name of readdirSync(base))
          if (name.startsWith("Dockerfile") || name.startsWith(".dockerignore")) rmSync(join(base, name));
        withField(base, field, v);
        const before = listing(base);
        const outcome = await initOutcome(base);
        if ("refused" in outcome) {
          expect(outcome.refused).not.toMatch(/[\n\r]/);
          return;
        }
        rendered++;
        const want = expected.get(field.name);
        if (want) expect(instructions(outcome.dockerfile)).toEqual(want);
        await writeFiles(
          [
            { path: join(base, "Dockerfile"), text: outcome.dockerfile },
            { path: join(base, ".dockerignore"), text: outcome.dockerignore },
          ],
          { replace: false },
        );
        expect(listing(base)).toEqual([...before, ".dockerignore", "Dockerfile"].sort());
        const lint = await lintFile(join(base, "Dockerfile"));
        expect(lint.findings.map((f) => `${f.rule}: ${f.message}`)).toEqual([]);
      }),
      fuzzParameters(150, { timeout: 10000 }),
    );
    // Some cases get through to the Dockerfile, or the property tested only refusals.
    expect(rendered).toBeGreaterThan(0);
  });
});
