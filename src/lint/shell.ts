// A small shell reader for RUN instructions: splits a script into simple commands with source offsets.
// npm's shell parsers (shell-quote, bash-parser) do not report where a word came from, and fixes and
// precise locations need that. The reader has two layers: a lexer that turns text into words, operators
// and redirections (every step consumes at least one character, checked at run time), and a command
// reader that follows the structure Dockerfiles use (subshells, `{ }` groups, `case` arms, functions,
// `for` headers, here-documents, here-strings, arrays) so rules see the commands that actually run.
// Where the text is not shell the reader understands, it says so (`unsure`): findings stay, fixes do not.

export interface Word {
  /** Value after quote removal; `$VAR`, `${...}` and `$(...)` are left as written */
  value: string;
  /** Offsets in the Dockerfile text (end exclusive) */
  start: number;
  end: number;
  /** Any part of the word was quoted */
  quoted: boolean;
}

export interface Assignment {
  name: string;
  value: string;
  word: Word;
}

export interface Redirect {
  /** `>`, `>>`, `<`, `2>`, `&>`, `<<<`, `<<`... with its file descriptor if one was written */
  operator: string;
  /** The file, descriptor, here-string or here-document delimiter; undefined when missing */
  target: Word | undefined;
}

export interface ShellCommand {
  /** `NAME=value` words before the command name */
  assignments: Assignment[];
  /** The command name and its arguments (wrappers such as `sudo` and `env` removed; redirections left out) */
  argv: Word[];
  redirects: Redirect[];
  /** Offsets of the whole command in the Dockerfile text, redirections included */
  start: number;
  end: number;
  /** The operator that joins this command to the previous one (`&&`, `||`, `;`, `|`, newline as ";") */
  after: string | undefined;
}

export interface ShellParse {
  commands: ShellCommand[];
  /** Why the reader is not sure it saw the script as a shell would (an unterminated quote...); undefined when sure */
  unsure: string | undefined;
  /** The script ends in a `#` comment: text appended at its end would be commented out */
  endsInComment: boolean;
}

/** A script as one string, with the Dockerfile offset of each of its characters. */
export interface Script {
  text: string;
  offsets: number[];
}

/** Join a RUN's argument text, dropping line continuations (escape char + newline) but keeping offsets. */
export function scriptFrom(document: string, start: number, end: number, escapeChar = "\\"): Script {
  const parts: string[] = [];
  const offsets: number[] = [];
  let i = start;
  while (i < end) {
    const c = document[i] as string;
    if (c === escapeChar) {
      // A continuation: escape char, optional trailing blanks, newline.
      let j = i + 1;
      while (j < end && (document[j] === " " || document[j] === "\t")) j++;
      if (document[j] === "\r") j++;
      if (j < end && document[j] === "\n") {
        i = j + 1;
        // Dockerfile comment lines inside a continued instruction are dropped by the builder too.
        for (;;) {
          let k = i;
          while (k < end && (document[k] === " " || document[k] === "\t")) k++;
          if (k >= end || document[k] !== "#") break;
          while (k < end && document[k] !== "\n") k++;
          i = k + 1;
        }
        continue;
      }
    }
    parts.push(c);
    offsets.push(i);
    i++;
  }
  offsets.push(end);
  return { text: parts.join(""), offsets };
}

/** A whole script from one stretch of the document (a heredoc body): offsets are consecutive. */
export function scriptOf(document: string, start: number, end: number): Script {
  const offsets = new Array<number>(end - start + 1);
  for (let i = 0; i <= end - start; i++) offsets[i] = start + i;
  return { text: document.slice(start, end), offsets };
}

// ---------------------------------------------------------------------------------------------------------
// Lexer

type Token =
  | { kind: "word"; word: Word; raw: string }
  | { kind: "op"; op: string; start: number; end: number }
  | { kind: "redirect"; op: string; start: number; end: number }
  | { kind: "comment"; start: number; end: number };

const BLANK = new Set([" ", "\t", "\r"]);
/** Characters that end an unquoted word. */
const META = new Set([" ", "\t", "\r", "\n", ";", "&", "|", "(", ")", "<", ">"]);
const OPERATORS = [";;&", ";;", ";&", "&&", "||", "|&", ";", "&", "|", "(", ")"];
const REDIRECTS = ["<<<", "<<-", "&>>", "<<", ">>", "<&", ">&", "<>", ">|", "&>", "<", ">"];

class Lexer {
  readonly tokens: Token[] = [];
  unsure: string | undefined;
  private readonly pendingHeredocs: { delimiter: string; stripTabs: boolean }[] = [];
  private readonly n: number;

  constructor(
    private readonly text: string,
    private readonly at: (i: number) => number,
  ) {
    this.n = text.length;
  }

  private doubt(reason: string): void {
    this.unsure ??= reason;
  }

  run(): void {
    let i = 0;
    while (i < this.n) {
      const next = this.step(i);
      // The invariant that keeps every input finite: each step consumes at least one character.
      if (!(next > i)) throw new Error(`shell reader made no progress at offset ${i}`);
      i = next;
    }
    if (this.pendingHeredocs.length) this.doubt("a here-document without its body");
  }

  /** Read one token (or blank) starting at i; returns where the next one starts. */
  private step(i: number): number {
    const { text } = this;
    const c = text[i] as string;
    if (BLANK.has(c)) return i + 1;
    if (c === "\n") {
      this.tokens.push({ kind: "op", op: "\n", start: this.at(i), end: this.at(i + 1) });
      return this.pendingHeredocs.length ? this.heredocBodies(i + 1) : i + 1;
    }
    if (c === "#") {
      let j = i;
      while (j < this.n && text[j] !== "\n") j++;
      this.tokens.push({ kind: "comment", start: this.at(i), end: this.at(j) });
      return j;
    }
    if (c === "(" && text[i + 1] === "(") {
      // `(( arithmetic ))` is one command; `((cd a); b)` is two subshells.
      const end = this.balanced(i + 1, "(", ")");
      if (end !== undefined && text[end] === ")")
        return this.pushWord(i, end + 1, text.slice(i, end + 1), false);
    }
    if (c === "<" || c === ">" || (c === "&" && text[i + 1] === ">")) {
      if ((c === "<" || c === ">") && text[i + 1] === "(") return this.readWord(i); // process substitution
      return this.readRedirect(i, "");
    }
    for (const op of OPERATORS)
      if (text.startsWith(op, i)) {
        this.tokens.push({ kind: "op", op, start: this.at(i), end: this.at(i + op.length) });
        return i + op.length;
      }
    return this.readWord(i);
  }

  private readRedirect(i: number, fd: string): number {
    const op = REDIRECTS.find((r) => this.text.startsWith(r, i)) as string;
    const start = this.at(i - fd.length);
    this.tokens.push({ kind: "redirect", op: fd + op, start, end: this.at(i + op.length) });
    let j = i + op.length;
    if (op === "<<" || op === "<<-") {
      // The delimiter word comes next; its body starts after the end of the line.
      while (j < this.n && (this.text[j] === " " || this.text[j] === "\t")) j++;
      const before = this.tokens.length;
      const end = j < this.n && !META.has(this.text[j] as string) ? this.readWord(j) : j;
      const word = this.tokens[before];
      if (word?.kind === "word")
        this.pendingHeredocs.push({ delimiter: word.word.value, stripTabs: op === "<<-" });
      else this.doubt("a here-document without a delimiter");
      return Math.max(end, i + 1);
    }
    return j;
  }

  /** Skip the bodies of the here-documents opened on the line that just ended. */
  private heredocBodies(i: number): number {
    let j = i;
    for (const { delimiter, stripTabs } of this.pendingHeredocs.splice(0)) {
      for (;;) {
        if (j >= this.n) {
          this.doubt(`a here-document that never reaches its delimiter ${delimiter}`);
          return this.n;
        }
        let lineEnd = this.text.indexOf("\n", j);
        if (lineEnd < 0) lineEnd = this.n;
        let line = this.text.slice(j, lineEnd);
        if (line.endsWith("\r")) line = line.slice(0, -1);
        if (stripTabs) line = line.replace(/^\t+/, "");
        j = lineEnd + 1;
        if (line === delimiter) break;
      }
    }
    return Math.min(j, this.n);
  }

  private pushWord(start: number, end: number, value: string, quoted: boolean): number {
    const word: Word = { value, start: this.at(start), end: this.at(end), quoted };
    this.tokens.push({ kind: "word", word, raw: this.text.slice(start, end) });
    return end;
  }

  /** Read a word (quotes, escapes, expansions, array values); returns the offset after it. */
  private readWord(start: number): number {
    const { text, n } = this;
    let i = start;
    const parts: string[] = [];
    let quoted = false;
    while (i < n) {
      const d = text[i] as string;
      if (d === "(" && /^[A-Za-z_][A-Za-z0-9_]*\+?=$/.test(parts.join("")) && !quoted) {
        // An array value: `NAME=(a b c)`.
        const end = this.balanced(i, "(", ")");
        const stop = end ?? n;
        parts.push(text.slice(i, stop));
        i = stop;
        continue;
      }
      if ((d === "<" || d === ">") && text[i + 1] === "(" && i === start) {
        const end = this.balanced(i + 1, "(", ")");
        const stop = end ?? n;
        parts.push(text.slice(i, stop));
        i = stop;
        continue;
      }
      if ((d === "<" || d === ">") && i > start && /^\d+$/.test(text.slice(start, i)) && !quoted) {
        // `2>file`, `2>&1`: the digits were a file descriptor, not a word.
        return this.readRedirect(i, text.slice(start, i));
      }
      if (META.has(d)) break;
      if (d === "\\") {
        if (text[i + 1] === "\n") {
          i += 2;
          continue;
        }
        quoted = true;
        parts.push(text[i + 1] ?? "");
        i = Math.min(i + 2, n);
        continue;
      }
      if (d === "'") {
        quoted = true;
        const close = text.indexOf("'", i + 1);
        if (close < 0) this.doubt("an unterminated single quote");
        const stop = close < 0 ? n : close;
        parts.push(text.slice(i + 1, stop));
        i = Math.min(stop + 1, n);
        continue;
      }
      if (d === '"') {
        quoted = true;
        const [value, end] = this.doubleQuoted(i + 1);
        parts.push(value);
        i = end;
        continue;
      }
      if (d === "$") {
        const next = text[i + 1];
        if (next === "'") {
          // ANSI-C quoting: backslash escapes up to the closing quote.
          quoted = true;
          let j = i + 2;
          while (j < n && text[j] !== "'") j += text[j] === "\\" ? 2 : 1;
          if (j >= n) this.doubt("an unterminated $'...' quote");
          parts.push(text.slice(i + 2, Math.min(j, n)));
          i = Math.min(j + 1, n);
          continue;
        }
        const end = this.expansion(i);
        parts.push(text.slice(i, end));
        i = end;
        continue;
      }
      if (d === "`") {
        const end = this.backquoted(i);
        parts.push(text.slice(i, end));
        i = end;
        continue;
      }
      parts.push(d);
      i++;
    }
    return this.pushWord(start, Math.max(i, start + 1), parts.join(""), quoted);
  }

  /** `$(...)`, `$((...))`, `${...}`, `$[...]` or a plain `$`: the offset after it. */
  private expansion(i: number): number {
    const next = this.text[i + 1];
    const pair = next === "(" ? ")" : next === "{" ? "}" : next === "[" ? "]" : undefined;
    if (!pair) return i + 1;
    const end = this.balanced(i + 1, next as string, pair);
    if (end === undefined) {
      this.doubt(`an unterminated $${next}`);
      return this.n;
    }
    return end;
  }

  private backquoted(i: number): number {
    let j = i + 1;
    while (j < this.n && this.text[j] !== "`") j += this.text[j] === "\\" ? 2 : 1;
    if (j >= this.n) {
      this.doubt("an unterminated backquote");
      return this.n;
    }
    return j + 1;
  }

  /** Inside double quotes from i; returns the value and the offset after the closing quote. */
  private doubleQuoted(i: number): [string, number] {
    const { text, n } = this;
    const parts: string[] = [];
    let j = i;
    while (j < n && text[j] !== '"') {
      const d = text[j] as string;
      if (d === "\\" && j + 1 < n && '"\\$`\n'.includes(text[j + 1] as string)) {
        if (text[j + 1] !== "\n") parts.push(text[j + 1] as string);
        j += 2;
      } else if (d === "$") {
        const end = this.expansion(j);
        parts.push(text.slice(j, end));
        j = end;
      } else if (d === "`") {
        const end = this.backquoted(j);
        parts.push(text.slice(j, end));
        j = end;
      } else {
        parts.push(d);
        j++;
      }
    }
    if (j >= n) {
      this.doubt("an unterminated double quote");
      return [parts.join(""), n];
    }
    return [parts.join(""), j + 1];
  }

  /**
   * From an opening bracket at i, the offset after its match, skipping quoted text and nested expansions;
   * undefined when the text ends first. Iterative with an explicit stack, so depth costs no call stack.
   */
  private balanced(i: number, open: string, close: string): number | undefined {
    const { text, n } = this;
    const closers: string[] = [close];
    let j = i + 1;
    while (j < n) {
      const d = text[j] as string;
      const expected = closers[closers.length - 1];
      if (d === "\\") j += 2;
      else if (d === "'" && expected !== "}") {
        const q = text.indexOf("'", j + 1);
        if (q < 0) return undefined;
        j = q + 1;
      } else if (d === '"') {
        j++;
        while (j < n && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
        if (j >= n) return undefined;
        j++;
      } else if (d === "`") {
        j++;
        while (j < n && text[j] !== "`") j += text[j] === "\\" ? 2 : 1;
        if (j >= n) return undefined;
        j++;
      } else if (d === expected) {
        closers.pop();
        j++;
        if (!closers.length) return j;
      } else if (d === open || (d === "{" && text[j - 1] === "$")) {
        closers.push(d === "{" ? "}" : close);
        j++;
      } else if (d === "(" && text[j - 1] === "$") {
        closers.push(")");
        j++;
      } else j++;
    }
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Commands

/** Words that start a compound command or a pipeline and are not themselves run. */
const PREFIX_KEYWORDS = new Set(["if", "then", "else", "elif", "do", "while", "until", "!", "time"]);
const CLOSERS = new Set(["fi", "done"]);
const WRAPPERS = new Set(["sudo", "exec", "command", "nohup"]);

type Frame =
  | { kind: "paren" }
  | { kind: "brace" }
  | { kind: "case"; stage: "subject" | "in" | "pattern" | "body" };

/** Split a script into simple commands. Never throws and always ends: unbalanced quotes run to the end. */
export function readShell(script: Script): ShellParse {
  const { text, offsets } = script;
  const at = (i: number): number => offsets[Math.min(i, offsets.length - 1)] as number;
  const lexer = new Lexer(text, at);
  lexer.run();
  const tokens = lexer.tokens;
  let unsure = lexer.unsure;
  const doubt = (reason: string): void => {
    unsure ??= reason;
  };

  const commands: ShellCommand[] = [];
  const stack: Frame[] = [];
  let words: Word[] = [];
  let redirects: Redirect[] = [];
  let span: { start: number; end: number } | undefined;
  let after: string | undefined;
  /** Skipping a `for NAME in ...` header up to its `;`/newline/`do` */
  let header = false;
  /** Words of a `function NAME` to drop */
  let functionName = false;
  /** Inside `[[ ... ]]`, where `&&`, `||`, `<`, `>` and parentheses are part of the test */
  let test = false;

  const top = (): Frame | undefined => stack[stack.length - 1];
  const extend = (start: number, end: number): void => {
    span = span ? { start: span.start, end } : { start, end };
  };
  const flush = (operator: string | undefined): void => {
    if (span && (words.length || redirects.length)) {
      const command = makeCommand(words, redirects, span, after);
      if (command.argv.length || command.assignments.length) commands.push(command);
    }
    words = [];
    redirects = [];
    span = undefined;
    after = operator;
    header = false;
    test = false;
  };

  for (let t = 0; t < tokens.length; t++) {
    const token = tokens[t] as Token;
    const frame = top();
    if (token.kind === "comment") continue;
    if (test && token.kind !== "word" && (token.kind === "redirect" || token.op !== "\n")) {
      if (token.kind === "op" && (token.op === ";" || token.op === "&")) test = false;
      else continue;
    }
    if (token.kind === "redirect") {
      const target = tokens[t + 1];
      let word: Word | undefined;
      if (target?.kind === "word") {
        word = target.word;
        t++;
      } else doubt(`a redirection ${token.op} without a target`);
      if (frame?.kind === "case" && frame.stage !== "body") continue;
      redirects.push({ operator: token.op, target: word });
      extend(token.start, word?.end ?? token.end);
      continue;
    }
    if (token.kind === "word") {
      const { word } = token;
      const value = token.raw;
      if (frame?.kind === "case" && frame.stage !== "body") {
        if (frame.stage === "subject") frame.stage = "in";
        else if (frame.stage === "in") {
          if (value !== "in") doubt("a case without in");
          frame.stage = "pattern";
        } else if (value === "esac") stack.pop();
        continue;
      }
      if (header) continue;
      if (functionName) {
        functionName = false;
        continue;
      }
      if (!words.length && !redirects.length) {
        // Command position: keywords shape the script and run nothing.
        if (PREFIX_KEYWORDS.has(value)) continue;
        if (CLOSERS.has(value)) continue;
        if (value === "for" || value === "select") {
          header = true;
          continue;
        }
        if (value === "function") {
          functionName = true;
          continue;
        }
        if (value === "case") {
          stack.push({ kind: "case", stage: "subject" });
          continue;
        }
        if (value === "esac") {
          if (frame?.kind === "case") stack.pop();
          else doubt("esac without case");
          continue;
        }
        if (value === "{") {
          stack.push({ kind: "brace" });
          continue;
        }
        if (value === "}") {
          if (frame?.kind === "brace") stack.pop();
          else doubt("} without {");
          continue;
        }
        if (value === "[[") test = true;
      }
      if (value === "]]") test = false;
      words.push(word);
      extend(word.start, word.end);
      continue;
    }
    // Operators.
    const { op } = token;
    if (header && (op === ";" || op === "\n")) {
      header = false;
      continue;
    }
    if (frame?.kind === "case" && frame.stage !== "body") {
      if (frame.stage === "pattern" && op === ")") frame.stage = "body";
      else if (op !== "\n" && op !== "|" && op !== "(") doubt(`${op} in a case pattern`);
      after = undefined;
      continue;
    }
    switch (op) {
      case "(": {
        if (words.length === 1 && !redirects.length && tokens[t + 1]?.kind === "op") {
          const next = tokens[t + 1] as { op: string };
          if (next.op === ")") {
            // `name() body`: a function definition; its body runs only when called, but it is still the script's.
            words = [];
            span = undefined;
            t++;
            break;
          }
        }
        if (words.length || redirects.length) doubt("( after a word");
        flush(after);
        stack.push({ kind: "paren" });
        break;
      }
      case ")": {
        flush(after);
        // Close the nearest subshell; anything opened inside it and left open is a syntax error.
        const index = stack.map((f) => f.kind).lastIndexOf("paren");
        if (index < 0) doubt("an unmatched )");
        else {
          if (index !== stack.length - 1) doubt("a ( closed before what it contains");
          stack.length = index;
        }
        break;
      }
      case ";;":
      case ";&":
      case ";;&":
        flush(op);
        if (frame?.kind === "case") frame.stage = "pattern";
        else doubt(`${op} outside a case`);
        break;
      default:
        flush(op === "\n" ? ";" : op);
    }
  }
  flush(undefined);
  if (stack.length)
    doubt(
      `an unclosed ${stack.map((f) => (f.kind === "paren" ? "(" : f.kind === "brace" ? "{" : "case"))[stack.length - 1]}`,
    );
  const last = tokens[tokens.length - 1];
  return { commands, unsure, endsInComment: last?.kind === "comment" };
}

/** Split a script into simple commands (see readShell for the reader's confidence). */
export function parseShell(script: Script): ShellCommand[] {
  return readShell(script).commands;
}

const ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)\+?=/;

function makeCommand(
  all: Word[],
  redirects: Redirect[],
  span: { start: number; end: number },
  after: string | undefined,
): ShellCommand {
  let i = 0;
  const assignments: Assignment[] = [];
  while (i < all.length) {
    const first = all[i] as Word;
    const match = ASSIGNMENT.exec(first.value);
    if (match) {
      assignments.push({ name: match[1] as string, value: first.value.slice(match[0].length), word: first });
      i++;
      continue;
    }
    if (WRAPPERS.has(first.value)) {
      i++;
      // sudo's own options (-E, -u user) come before the command.
      while (all[i]?.value.startsWith("-")) i += all[i]?.value === "-u" ? 2 : 1;
      continue;
    }
    if (first.value === "env") {
      i++;
      while (all[i]?.value.startsWith("-")) i++;
      continue;
    }
    break;
  }
  return { assignments, argv: all.slice(i), redirects, start: span.start, end: span.end, after };
}

/** The program a command runs, without its directory (`/opt/poetry/bin/pip` → `pip`). */
export function programName(command: ShellCommand): string {
  const first = command.argv[0]?.value ?? "";
  return first.slice(first.lastIndexOf("/") + 1);
}

/** Does the command run `python -m <module>` (or call the module's own script)? */
export function pythonModule(command: ShellCommand): { module: string; args: Word[] } | undefined {
  const name = programName(command);
  if (!/^python(\d(\.\d+)?)?$/.test(name)) return undefined;
  const args = command.argv.slice(1);
  for (let i = 0; i < args.length; i++) {
    const word = (args[i] as Word).value;
    if (word === "-m") {
      const module = args[i + 1];
      return module ? { module: module.value, args: args.slice(i + 2) } : undefined;
    }
    if (!word.startsWith("-")) return undefined;
  }
  return undefined;
}

/** Values of the command's arguments. */
export function argValues(command: ShellCommand): string[] {
  return command.argv.map((w) => w.value);
}

/** Does the command carry an option (`--flag`, `--flag=value`, or a bundled short flag such as `-y`)? */
export function hasOption(args: string[], ...names: string[]): boolean {
  return args.some((a) =>
    names.some((name) =>
      name.startsWith("--")
        ? a === name || a.startsWith(`${name}=`)
        : a.startsWith("-") && !a.startsWith("--") && a.slice(1).includes(name.slice(1)),
    ),
  );
}

/** The value of `--name value` or `--name=value` (every occurrence). */
export function optionValues(args: string[], name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === name && i + 1 < args.length) values.push(args[i + 1] as string);
    else if (a.startsWith(`${name}=`)) values.push(a.slice(name.length + 1));
  }
  return values;
}
