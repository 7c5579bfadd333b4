// biome-ignore-all lint/suspicious/noTemplateCurlyInString: shell variables, not templates
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fuzzParameters } from "../../test/support/fuzz.js";
import { parseShell, readShell, scriptFrom } from "./shell.js";

function commands(text: string) {
  return parseShell(scriptFrom(text, 0, text.length)).map((c) => ({
    env: c.assignments.map((a) => `${a.name}=${a.value}`),
    argv: c.argv.map((w) => w.value),
    redirects: c.redirects.map((r) => `${r.operator}${r.target?.value ?? ""}`),
    after: c.after,
  }));
}

/** Each command as one line: assignments, then argv. */
function lines(text: string): string[] {
  return commands(text).map((c) => [...c.env, ...c.argv].join(" "));
}

function unsure(text: string): string | undefined {
  return readShell(scriptFrom(text, 0, text.length)).unsure;
}

describe("shell reader", () => {
  it("splits on &&, ||, ; and | and keeps the operator", () => {
    expect(commands("a 1 && b || c; d | e").map((c) => [c.argv.join(" "), c.after])).toEqual([
      ["a 1", undefined],
      ["b", "&&"],
      ["c", "||"],
      ["d", ";"],
      ["e", "|"],
    ]);
  });

  it("keeps quoted operators inside words", () => {
    expect(commands(`echo "a && b" 'c;d' e\\;f`)[0]?.argv).toEqual(["echo", "a && b", "c;d", "e;f"]);
  });

  it("reads leading assignments and strips sudo/env wrappers", () => {
    expect(commands("POETRY_CACHE_DIR=/tmp/pc poetry install")[0]).toMatchObject({
      env: ["POETRY_CACHE_DIR=/tmp/pc"],
      argv: ["poetry", "install"],
    });
    expect(commands("sudo -E env A=1 pip install x")[0]?.argv).toEqual(["pip", "install", "x"]);
  });

  it("joins line continuations and skips comment lines inside them, with offsets into the original text", () => {
    const text = "apt-get update \\\n# a comment\n  && apt-get install -y gcc";
    const parsed = parseShell(scriptFrom(text, 0, text.length));
    expect(parsed.map((c) => c.argv.map((w) => w.value).join(" "))).toEqual([
      "apt-get update",
      "apt-get install -y gcc",
    ]);
    const gcc = parsed[1]?.argv[3];
    expect(text.slice(gcc?.start, gcc?.end)).toBe("gcc");
  });

  it("keeps command substitutions whole and ignores shell keywords", () => {
    expect(lines("if true; then pip install $(cat req.txt); fi")).toEqual([
      "true",
      "pip install $(cat req.txt)",
    ]);
  });

  it("never throws on an unterminated quote, and says it is unsure", () => {
    expect(commands(`echo "unterminated`)[0]?.argv).toEqual(["echo", "unterminated"]);
    expect(unsure(`echo "unterminated`)).toMatch(/unterminated double quote/);
    expect(unsure(`echo 'unterminated`)).toMatch(/unterminated single quote/);
    expect(unsure("echo $(date")).toMatch(/unterminated \$\(/);
    expect(unsure("echo fine")).toBeUndefined();
  });
});

// The probe's reproducers (../shared/probe/lint-paren): each made the old reader loop forever.
describe("shell reader: a ')' always moves the reader on", () => {
  it("a lone ) (minimal.Dockerfile)", () => {
    expect(lines("echo )")).toEqual(["echo"]);
    expect(unsure("echo )")).toMatch(/unmatched \)/);
  });
  it("a subshell (subshell.Dockerfile)", () => {
    expect(lines("(cd /tmp && ls)")).toEqual(["cd /tmp", "ls"]);
    expect(unsure("(cd /tmp && ls)")).toBeUndefined();
  });
  it("case arms (case.Dockerfile)", () => {
    const text = 'case "$TARGETARCH" in amd64) A=x86_64;; arm64) A=aarch64;; esac';
    expect(lines(text)).toEqual(["A=x86_64", "A=aarch64"]);
    expect(unsure(text)).toBeUndefined();
  });
});

// Real-world shell as it appears in RUN instructions: the commands a shell would run, nothing else.
describe("shell reader: constructs", () => {
  const table: { name: string; script: string; commands: string[]; sure?: false }[] = [
    {
      name: "nested subshells",
      script: "( (cd a && make) ; ls ) | tee log",
      commands: ["cd a", "make", "ls", "tee log"],
    },
    {
      name: "a group",
      script: "apt-get update || { echo failed; exit 1; }",
      commands: ["apt-get update", "echo failed", "exit 1"],
    },
    {
      name: "case with (pattern), alternatives and newlines",
      script:
        'case "$(uname -m)" in\n  (x86_64|amd64) ARCH=x64 ;;\n  aarch64) ARCH=arm64; echo arm ;;\n  *) echo "unsupported" >&2; exit 1 ;;\nesac\necho $ARCH',
      commands: ["ARCH=x64", "ARCH=arm64", "echo arm", "echo unsupported", "exit 1", "echo $ARCH"],
    },
    {
      name: "a case arm without ;; before esac",
      script: "case x in x) echo x ; esac; echo after",
      commands: ["echo x", "echo after"],
    },
    {
      name: "a case inside a subshell",
      script: "(case $A in a) echo a;; esac) && echo b",
      commands: ["echo a", "echo b"],
    },
    {
      name: "a function definition and its call",
      script:
        'retry() { for i in 1 2 3; do "$@" && return 0; sleep 1; done; return 1; }; retry apt-get update',
      commands: ['"$@"'.replace(/"/g, ""), "return 0", "sleep 1", "return 1", "retry apt-get update"],
    },
    {
      name: "the function keyword",
      script: "function cleanup { rm -rf /tmp/x; }\ncleanup",
      commands: ["rm -rf /tmp/x", "cleanup"],
    },
    {
      name: "a here-document inside the script",
      script:
        "cat <<'EOF' > /etc/apt/apt.conf.d/99x\nAPT::Install-Recommends \"0\";\nrm -rf /\nEOF\napt-get update",
      commands: ["cat", "apt-get update"],
    },
    {
      name: "a here-document with <<- and tabs",
      script: "cat <<-END\n\tpip install x\n\tEND\necho ok",
      commands: ["cat", "echo ok"],
    },
    {
      name: "set -o pipefail before a pipe",
      script: "set -o pipefail && curl -sSL https://install.python-poetry.org | python3 -",
      commands: ["set -o pipefail", "curl -sSL https://install.python-poetry.org", "python3 -"],
    },
    {
      name: "a here-string",
      script: 'read -r major minor <<< "$VERSION" && echo $major',
      commands: ["read -r major minor", "echo $major"],
    },
    {
      name: "an array",
      script: 'PKGS=(gcc "libpq dev") && apt-get install -y "${PKGS[@]}"',
      commands: ['PKGS=(gcc "libpq dev")', "apt-get install -y ${PKGS[@]}"],
    },
    {
      name: "appending to an array",
      script: "FLAGS+=(--no-root) ; poetry install ${FLAGS[*]}",
      commands: ["FLAGS=(--no-root)", "poetry install ${FLAGS[*]}"],
    },
    {
      name: "blanks inside ${...}",
      script: 'echo ${X:-a b} "${Y// /_}" c',
      commands: ["echo ${X:-a b} ${Y// /_} c"],
    },
    {
      name: "redirections are not arguments",
      script: "pip install x >/dev/null 2>&1 && make 2> err.log",
      commands: ["pip install x", "make"],
    },
    {
      name: "&> and >& redirections",
      script: "poetry install &> log; echo x >&2",
      commands: ["poetry install", "echo x"],
    },
    {
      name: "a for loop runs its body, not its header",
      script: "for p in a b; do pip install $p; done",
      commands: ["pip install $p"],
    },
    {
      name: "an arithmetic for loop",
      script: "for ((i=0; i<3; i++)); do echo $i; done",
      commands: ["echo $i"],
    },
    {
      name: "a while loop reading a file",
      script: 'while read -r line; do echo "$line"; done < list.txt',
      commands: ["read -r line", "echo $line"],
    },
    {
      name: "[[ ]] keeps && and < inside the test",
      script: "[[ -n $A && $B < 3 ]] && echo yes",
      commands: ["[[ -n $A $B 3 ]]", "echo yes"],
    },
    {
      name: "arithmetic (( ))",
      script: "(( n = n + 1 )) && echo $n",
      commands: ["(( n = n + 1 ))", "echo $n"],
    },
    {
      name: "a ) inside a quoted substitution",
      script: 'echo "$(printf ")")" && ls',
      commands: ['echo $(printf ")")', "ls"],
    },
    {
      name: "process substitution",
      script: "diff <(sort a) <(sort b)",
      commands: ["diff <(sort a) <(sort b)"],
    },
    { name: "ANSI-C quoting", script: "printf $'a\\'b\\n' ; echo", commands: ["printf a\\'b\\n", "echo"] },
    { name: "a comment at the end", script: "apt-get update # refresh", commands: ["apt-get update"] },
    { name: "an unclosed subshell", script: "(cd /tmp && ls", commands: ["cd /tmp", "ls"], sure: false },
    {
      name: "esac without case",
      script: "echo a; esac; echo b",
      commands: ["echo a", "echo b"],
      sure: false,
    },
  ];
  for (const c of table)
    it(c.name, () => {
      expect(lines(c.script)).toEqual(c.commands);
      if (c.sure === false) expect(unsure(c.script)).toBeDefined();
      else expect(unsure(c.script)).toBeUndefined();
    });

  it("keeps redirections with their command and inside its span", () => {
    const text = "pip install x 2>&1 >/dev/null && ls";
    const [pip] = readShell(scriptFrom(text, 0, text.length)).commands;
    expect(pip?.redirects.map((r) => [r.operator, r.target?.value])).toEqual([
      ["2>&", "1"],
      [">", "/dev/null"],
    ]);
    expect(text.slice(pip?.start, pip?.end)).toBe("pip install x 2>&1 >/dev/null");
  });

  it("says when a script ends in a comment", () => {
    expect(readShell(scriptFrom("a # b", 0, 5)).endsInComment).toBe(true);
    expect(readShell(scriptFrom("a && b", 0, 6)).endsInComment).toBe(false);
  });
});

// The invariant that makes every input finite: the reader consumes input on every step. Any string over the
// characters that steer it ends, without throwing, with every command and word inside the script.
describe("shell reader: property", () => {
  const piece = fc.constantFrom(
    "(",
    ")",
    "((",
    "))",
    "{",
    "}",
    ";",
    ";;",
    "&",
    "&&",
    "|",
    "||",
    "<",
    ">",
    "<<",
    "<<-",
    "<<<",
    "2>&1",
    "'",
    '"',
    "`",
    "\\",
    "$",
    "$(",
    "${",
    "$((",
    "$'",
    "#",
    "\n",
    " ",
    "\t",
    "=",
    "a",
    "x=(",
    "EOF",
    "case",
    "in",
    "esac",
    "do",
    "done",
    "for",
    "function",
    "f()",
    "[[",
    "]]",
    "if",
    "then",
    "fi",
    "apt-get",
    "-y",
  );
  it("ends, never throws, and keeps offsets inside the script", () => {
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 60 }), (pieces) => {
        const text = pieces.join("");
        const parsed = readShell(scriptFrom(text, 0, text.length));
        let previous = 0;
        for (const command of parsed.commands) {
          expect(command.start).toBeGreaterThanOrEqual(previous);
          expect(command.end).toBeGreaterThanOrEqual(command.start);
          expect(command.end).toBeLessThanOrEqual(text.length);
          for (const word of command.argv) {
            expect(word.start).toBeGreaterThanOrEqual(command.start);
            expect(word.end).toBeLessThanOrEqual(command.end);
          }
          previous = command.start;
        }
      }),
      fuzzParameters(2000),
    );
  });
});
