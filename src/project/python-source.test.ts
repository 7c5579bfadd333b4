import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fuzzParameters } from "../../test/support/fuzz.js";
import { codeOnly, importBindings } from "./python-source.js";

describe("codeOnly", () => {
  const table: [string, string, string][] = [
    ["a comment", 'x = 1  # app = Celery("x")\n', "x = 1                     \n"],
    ["a docstring's lines", '"""Use:\napp = Celery()\n"""\nf()\n', '"""    \n              \n"""\nf()\n'],
    ["an escaped quote", "s = 'it\\'s # no comment'\nt\n", "s = '                  '\nt\n"],
    ["a string left open ends at its line", 's = "open\napp = Celery()\n', 's = "    \napp = Celery()\n'],
    ["a triple-quoted string holding the other quote", "'''a \"b\" c'''x", "'''       '''x"],
    ["CRLF line ends", "a = 1\r\nb\r\n", "a = 1 \nb \n"],
  ];
  for (const [name, text, expected] of table)
    it(`blanks ${name}, keeping lengths and line breaks`, () => {
      expect(codeOnly(text)).toBe(expected);
    });

  it("keeps every line break where it was and every position of the text (line and column numbers hold)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom("a", " ", "#", "'", '"', "\\", "\n", "\r", "=", "(", "'''", '"""'), {
          maxLength: 80,
        }),
        (parts) => {
          const text = parts.join("");
          const out = codeOnly(text);
          expect(out.length).toBe(text.length);
          for (let i = 0; i < text.length; i++) if (text[i] === "\n") expect(out[i]).toBe("\n");
        },
      ),
      fuzzParameters(),
    );
  });
});

describe("importBindings", () => {
  it("maps each name an import binds to the dotted path it stands for", () => {
    const bound = importBindings(
      "import celery as c, os\nfrom celery.app import Celery\nfrom x import (\n  a,\n  b as bee,  # why\n)\n",
    );
    expect(Object.fromEntries(bound)).toEqual({
      c: "celery",
      os: "os",
      Celery: "celery.app.Celery",
      a: "x.a",
      bee: "x.b",
    });
  });
});
