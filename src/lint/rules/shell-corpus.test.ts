// biome-ignore-all lint/suspicious/noTemplateCurlyInString: shell variables, not templates
// Rules over real-world shell: subshells, case arms, functions, here-documents, `set -o pipefail`,
// here-strings and arrays. Each case says what a shell would run, so the rules must find the commands in
// these constructs and skip text that is only data (a here-document body, a quoted here-string).
import { rule as CPL001 } from "./CPL001.js";
import { rule as CPL008 } from "./CPL008.js";
import { rule as CPL016 } from "./CPL016.js";
import { rule as CPL017 } from "./CPL017.js";
import { project, ruleTable } from "./tester.js";

const FROM = "FROM debian:bookworm-slim\n";
const PY = "FROM python:3.11-slim\n";
const NORECS = "--no-install-recommends";

ruleTable(CPL017, {
  valid: [
    {
      name: "lists removed inside a subshell",
      code: `${FROM}RUN apt-get update && apt-get install -y ${NORECS} curl && (cd /tmp && rm -rf /var/lib/apt/lists/*)\n`,
    },
    {
      name: "lists removed by a function the RUN calls",
      code: `${FROM}RUN cleanup() { rm -rf /var/lib/apt/lists/*; }; apt-get update && apt-get install -y ${NORECS} curl && cleanup\n`,
    },
    {
      name: "lists removed in a case arm",
      code: `${FROM}RUN apt-get update && case "$TARGETARCH" in amd64) rm -rf /var/lib/apt/lists/* ;; *) rm -rf /var/lib/apt/lists/* ;; esac\n`,
    },
    {
      name: "a heredoc RUN that removes them",
      code: `${FROM}RUN <<EOF\nset -e\napt-get update\napt-get install -y ${NORECS} curl\nrm -rf /var/lib/apt/lists/*\nEOF\n`,
    },
    {
      name: "set -o pipefail and a pipe",
      code: `${FROM}RUN set -o pipefail && apt-get update 2>&1 | tee /tmp/apt.log && rm -rf /var/lib/apt/lists/*\n`,
    },
  ],
  invalid: [
    {
      name: "update in a case arm (architecture switch), fixed after esac",
      code: `${FROM}RUN case "$TARGETARCH" in amd64) apt-get update && apt-get install -y ${NORECS} libc6-i386 ;; esac\n`,
      lines: [2],
      output: `${FROM}RUN case "$TARGETARCH" in amd64) apt-get update && apt-get install -y ${NORECS} libc6-i386 ;; esac && rm -rf /var/lib/apt/lists/*\n`,
    },
    {
      name: "update in a subshell, fixed after it",
      code: `${FROM}RUN (apt-get update && apt-get install -y ${NORECS} curl)\n`,
      lines: [2],
      output: `${FROM}RUN (apt-get update && apt-get install -y ${NORECS} curl) && rm -rf /var/lib/apt/lists/*\n`,
    },
    {
      name: "the rm is only text in a here-document body: not a command",
      code: `${FROM}RUN <<EOF\napt-get update\ncat > /cleanup.sh <<'SH'\nrm -rf /var/lib/apt/lists/*\nSH\nEOF\n`,
      lines: [3],
    },
    {
      name: "the rm is only a quoted here-string",
      code: `${FROM}RUN apt-get update && grep -q lists <<< "rm -rf /var/lib/apt/lists/*"\n`,
      lines: [2],
      output: `${FROM}RUN apt-get update && grep -q lists <<< "rm -rf /var/lib/apt/lists/*" && rm -rf /var/lib/apt/lists/*\n`,
    },
    {
      name: "an unterminated quote: reported, not fixed",
      code: `${FROM}RUN apt-get update && echo "oops\n`,
      lines: [2],
    },
    {
      name: "a trailing comment: reported, not fixed (the fix would be commented out)",
      code: `${FROM}RUN apt-get update # refresh\n`,
      lines: [2],
    },
  ],
});

ruleTable(CPL016, {
  valid: [
    {
      name: "an array of packages",
      code: `${FROM}RUN PKGS=(gcc "libpq-dev") && apt-get install -y ${NORECS} "\${PKGS[@]}"\n`,
    },
    { name: "an install that is only quoted text", code: `${FROM}RUN echo "apt-get install -y gcc"\n` },
    {
      name: "an install inside a here-document written to a file",
      code: `${FROM}RUN <<EOF\ncat > /setup.sh <<'SH'\napt-get install -y gcc\nSH\nEOF\n`,
    },
  ],
  invalid: [
    {
      name: "in a case arm",
      code: `${FROM}RUN case "$TARGETARCH" in arm64) apt-get install -y gcc ;; esac\n`,
      lines: [2],
      output: `${FROM}RUN case "$TARGETARCH" in arm64) apt-get install ${NORECS} -y gcc ;; esac\n`,
    },
    {
      name: "with redirections and a pipe",
      code: `${FROM}RUN set -o pipefail && apt-get install -y gcc 2>&1 | tee /tmp/log\n`,
      lines: [2],
      output: `${FROM}RUN set -o pipefail && apt-get install ${NORECS} -y gcc 2>&1 | tee /tmp/log\n`,
    },
    {
      name: "in a function body",
      code: `${FROM}RUN install_deps() { apt-get install -y curl; }; install_deps\n`,
      lines: [2],
      output: `${FROM}RUN install_deps() { apt-get install ${NORECS} -y curl; }; install_deps\n`,
    },
  ],
});

ruleTable(CPL008, {
  valid: [
    {
      name: "an exported PIP_NO_CACHE_DIR",
      code: `${PY}RUN export PIP_NO_CACHE_DIR=1 && pip install requests\n`,
    },
    {
      name: "a here-string then a cache-less install",
      code: `${PY}RUN read -r v <<< "$V" && pip install --no-cache-dir "requests==$v"\n`,
    },
    { name: "pip only mentioned in a quoted string", code: `${PY}RUN echo "pip install requests"\n` },
  ],
  invalid: [
    {
      name: "in a subshell",
      code: `${PY}RUN (cd /app && pip install -r requirements.txt)\n`,
      lines: [2],
      output: `${PY}RUN (cd /app && pip install --no-cache-dir -r requirements.txt)\n`,
    },
    {
      name: "in a function body",
      code: `${PY}RUN f() { pip install requests; }; f\n`,
      lines: [2],
      output: `${PY}RUN f() { pip install --no-cache-dir requests; }; f\n`,
    },
    {
      name: "in a for loop",
      code: `${PY}RUN for p in requests flask; do pip install "$p"; done\n`,
      lines: [2],
      output: `${PY}RUN for p in requests flask; do pip install --no-cache-dir "$p"; done\n`,
    },
  ],
});

ruleTable(CPL001, {
  valid: [
    {
      name: "pinned inside a case arm",
      code: `${PY}RUN case "$X" in a) pip install --no-cache-dir poetry==1.8.5 ;; esac\n`,
    },
    { name: "the word poetry in a here-string", code: `${PY}RUN grep -q x <<< "pip install poetry"\n` },
  ],
  invalid: [
    {
      name: "unpinned inside a case arm",
      code: `${PY}RUN case "$X" in a) pip install --no-cache-dir poetry ;; esac\n`,
      lines: [2],
      project: project({ lockPoetryVersion: "1.8.5" }),
      output: `${PY}RUN case "$X" in a) pip install --no-cache-dir poetry==1.8.5 ;; esac\n`,
    },
    {
      name: "unpinned in a subshell",
      code: `${PY}RUN (python -m venv /opt/poetry && /opt/poetry/bin/pip install poetry)\n`,
      lines: [2],
      project: project({ lockPoetryVersion: "1.8.5" }),
      output: `${PY}RUN (python -m venv /opt/poetry && /opt/poetry/bin/pip install poetry==1.8.5)\n`,
    },
  ],
});
