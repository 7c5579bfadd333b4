// Python source as the detectors read it: the code without its comments and string contents, and what imports bind.

/** Names a module binds by its imports: `import uvicorn as u` → u ⇒ uvicorn; `from a.b import c` → c ⇒ a.b.c. */
export function importBindings(text: string): Map<string, string> {
  const bound = new Map<string, string>();
  for (const m of text.matchAll(/^[ \t]*import[ \t]+([\w., \t]+)$/gm)) {
    for (const part of (m[1] as string).split(",")) {
      const [dotted, alias] = part.trim().split(/\s+as\s+/);
      if (!dotted) continue;
      if (alias) bound.set(alias, dotted);
      else bound.set(dotted.split(".")[0] as string, dotted.split(".")[0] as string);
    }
  }
  for (const m of text.matchAll(/^[ \t]*from[ \t]+([\w.]+)[ \t]+import[ \t]+(\([^)]*\)|[^\n]+)/gm)) {
    const from = m[1] as string;
    for (const part of (m[2] as string).replace(/[()]/g, "").replace(/#.*$/gm, "").split(",")) {
      const [name, alias] = part.trim().split(/\s+as\s+/);
      if (name && /^\w+$/.test(name)) bound.set(alias ?? name, `${from}.${name}`);
    }
  }
  return bound;
}

/**
 * The text with every comment and the inside of every string literal (docstrings included) turned into spaces,
 * line breaks kept, so line numbers and columns still match the file: `app = Celery("x")` shown in a docstring
 * or commented out is not code. Quotes stay, so `f("")` still reads as a call with an argument.
 */
export function codeOnly(text: string): string {
  const out = text.split("");
  const blank = (i: number) => {
    if (out[i] !== "\n") out[i] = " ";
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === "\r") {
      blank(i);
      i++;
    } else if (c === "#") {
      for (; i < text.length && text[i] !== "\n"; i++) blank(i);
    } else if (c === '"' || c === "'") {
      const triple = text.startsWith(c.repeat(3), i);
      const close = triple ? c.repeat(3) : c;
      i += close.length;
      while (i < text.length && !text.startsWith(close, i)) {
        // A one-quote string ends at its line's end when left open (a syntax error): never swallow the file.
        if (!triple && text[i] === "\n") break;
        if (text[i] === "\\" && i + 1 < text.length) {
          blank(i);
          i++;
        }
        blank(i);
        i++;
      }
      if (text.startsWith(close, i)) i += close.length;
    } else {
      i++;
    }
  }
  return out.join("");
}
