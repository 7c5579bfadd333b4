// A small shell reader for RUN instructions: splits a script into simple commands with source offsets.
// npm's shell parsers (shell-quote, bash-parser) do not report where a word came from, and fixes and
// precise locations need that; this reader covers what Dockerfiles use: quoting, escapes, `&&`, `||`,
// `;`, `|`, newlines, comments, `$(...)` and leading `NAME=value` assignments.

export interface Word {
  /** Value after quote removal; `$VAR` is left as written */
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

export interface ShellCommand {
  /** `NAME=value` words before the command name */
  assignments: Assignment[];
  /** The command name and its arguments (wrappers such as `sudo` and `env` removed) */
  argv: Word[];
  /** Offsets of the whole command in the Dockerfile text */
  start: number;
  end: number;
  /** The operator that joins this command to the previous one (`&&`, `||`, `;`, `|`, newline as ";") */
  after: string | undefined;
}

/** A script as one string, with the Dockerfile offset of each of its characters. */
export interface Script {
  text: string;
  offsets: number[];
}

/** Join a RUN's argument text, dropping line continuations (escape char + newline) but keeping offsets. */
export function scriptFrom(document: string, start: number, end: number, escapeChar = "\\"): Script {
  let text = "";
  const offsets: number[] = [];
  let i = start;
  while (i < end) {
    const c = document[i] as string;
    if (c === escapeChar) {
      // A continuation: escape char, optional trailing blanks, newline.
      let j = i + 1;
      while (j < end && (document[j] === " " || document[j] === "\t")) j++;
      if (document[j] === "\r") j++;
      if (document[j] === "\n") {
        i = j + 1;
        // Dockerfile comment lines inside a continued instruction are dropped by the builder too.
        for (;;) {
          let k = i;
          while (k < end && (document[k] === " " || document[k] === "\t")) k++;
          if (document[k] !== "#") break;
          while (k < end && document[k] !== "\n") k++;
          i = k + 1;
        }
        continue;
      }
    }
    text += c;
    offsets.push(i);
    i++;
  }
  offsets.push(end);
  return { text, offsets };
}

const KEYWORDS = new Set(["if", "then", "else", "elif", "do", "while", "until", "!", "{", "(", "time"]);
const CLOSERS = new Set(["fi", "done", "}", ")", "esac"]);
const WRAPPERS = new Set(["sudo", "exec", "command", "nohup"]);

/** Split a script into simple commands. Never throws: unbalanced quotes run to the end of the script. */
export function parseShell(script: Script): ShellCommand[] {
  const { text, offsets } = script;
  const at = (i: number): number => offsets[Math.min(i, offsets.length - 1)] as number;
  const commands: ShellCommand[] = [];
  let words: Word[] = [];
  let after: string | undefined;

  const flush = (operator: string | undefined): void => {
    if (words.length) {
      const command = makeCommand(words, after);
      // A lone `fi`/`done` closes a compound command: nothing runs there.
      if (command.argv.length || command.assignments.length) commands.push(command);
    }
    words = [];
    after = operator;
  };

  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i] as string;
    if (c === " " || c === "\t" || c === "\r") {
      i++;
      continue;
    }
    if (c === "\n") {
      flush(";");
      i++;
      continue;
    }
    if (c === "#") {
      while (i < n && text[i] !== "\n") i++;
      continue;
    }
    const two = text.slice(i, i + 2);
    if (two === "&&" || two === "||" || two === ";;") {
      flush(two);
      i += 2;
      continue;
    }
    if (c === ";" || c === "|" || c === "&") {
      flush(c);
      i++;
      continue;
    }
    if ((c === "(" || c === ")") && words.length === 0) {
      i++;
      continue;
    }
    // A word.
    const start = i;
    let value = "";
    let quoted = false;
    while (i < n) {
      const d = text[i] as string;
      if (d === " " || d === "\t" || d === "\n" || d === "\r" || d === ";" || d === "&" || d === "|") break;
      if (d === ")") break;
      if (d === "\\") {
        value += text[i + 1] ?? "";
        i += 2;
        continue;
      }
      if (d === "'") {
        quoted = true;
        const close = text.indexOf("'", i + 1);
        const stop = close < 0 ? n : close;
        value += text.slice(i + 1, stop);
        i = stop + 1;
        continue;
      }
      if (d === '"') {
        quoted = true;
        i++;
        while (i < n && text[i] !== '"') {
          if (text[i] === "\\" && i + 1 < n && '"\\$`'.includes(text[i + 1] as string)) {
            value += text[i + 1];
            i += 2;
          } else {
            value += text[i];
            i++;
          }
        }
        i++;
        continue;
      }
      if (d === "$" && text[i + 1] === "(") {
        // Command substitution: keep it whole as part of the word.
        let depth = 0;
        const s = i;
        while (i < n) {
          if (text[i] === "(") depth++;
          else if (text[i] === ")") {
            depth--;
            if (depth === 0) {
              i++;
              break;
            }
          }
          i++;
        }
        value += text.slice(s, i);
        continue;
      }
      if (d === "`") {
        const close = text.indexOf("`", i + 1);
        const stop = close < 0 ? n : close + 1;
        value += text.slice(i, stop);
        i = stop;
        continue;
      }
      value += d;
      i++;
    }
    words.push({ value, start: at(start), end: at(Math.min(i, n)), quoted });
  }
  flush(undefined);
  return commands;
}

const ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)=/;

function makeCommand(all: Word[], after: string | undefined): ShellCommand {
  let words = all;
  while (words.length && KEYWORDS.has((words[0] as Word).value)) words = words.slice(1);
  const assignments: Assignment[] = [];
  for (;;) {
    const first = words[0];
    if (!first) break;
    const match = ASSIGNMENT.exec(first.value);
    if (match) {
      assignments.push({ name: match[1] as string, value: first.value.slice(match[0].length), word: first });
      words = words.slice(1);
      continue;
    }
    if (WRAPPERS.has(first.value)) {
      words = words.slice(1);
      // sudo's own options (-E, -u user) come before the command.
      while (words[0]?.value.startsWith("-")) words = words.slice(words[0].value === "-u" ? 2 : 1);
      continue;
    }
    if (first.value === "env") {
      words = words.slice(1);
      while (words[0]?.value.startsWith("-")) words = words.slice(1);
      continue;
    }
    break;
  }
  if (words.length === 1 && CLOSERS.has((words[0] as Word).value)) words = [];
  const first = all[0] as Word;
  const last = all[all.length - 1] as Word;
  return { assignments, argv: words, start: first.start, end: last.end, after };
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
