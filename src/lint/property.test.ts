// biome-ignore-all lint/suspicious/noTemplateCurlyInString: shell variables, not templates
// Property suite over lint and --fix: Dockerfiles built from real-world shell fragments, then mutated at
// random. Whatever the input: lint gives findings inside the file or one UserError (exit 2), never a crash;
// each case ends within a bound; every fix edit lies inside the text; --fix output still lints, and fixing it
// again changes nothing. Replay a failure with COUPLET_FUZZ_SEED (and COUPLET_FUZZ_RUNS for a longer run).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fuzzParameters } from "../../test/support/fuzz.js";
import { isUserError } from "../errors.js";
import { fixText, lintText } from "./engine.js";

/** Shell as real Dockerfiles write it (architecture switches, retries, heredocs, pipefail, arrays...). */
const FRAGMENTS = [
  "apt-get update",
  "apt-get install -y --no-install-recommends gcc libpq-dev",
  "apt-get install -y curl",
  "rm -rf /var/lib/apt/lists/*",
  "pip install poetry",
  "pip install --no-cache-dir poetry==1.8.5",
  "python -m venv /opt/poetry && /opt/poetry/bin/pip install poetry==1.8.5",
  "poetry config virtualenvs.create false",
  "poetry install --no-root",
  "poetry install --only main --no-interaction",
  "POETRY_VIRTUALENVS_IN_PROJECT=true poetry install --without dev",
  "(cd /tmp && ls)",
  'case "$TARGETARCH" in amd64) A=x86_64;; arm64) A=aarch64;; *) exit 1;; esac',
  'case "$(uname -m)" in (x86_64) echo x ;; esac',
  'retry() { for i in 1 2 3; do "$@" && return 0; sleep 1; done; return 1; }; retry apt-get update',
  "function cleanup { rm -rf /tmp/x; }",
  "set -o pipefail && curl -sSL https://install.python-poetry.org | python3 -",
  'read -r major minor <<< "$PYTHON_VERSION"',
  'PKGS=(gcc "libpq-dev") && apt-get install -y "${PKGS[@]}"',
  "for p in a b; do pip install $p; done",
  "[[ -n $A && $B < 3 ]] && echo yes",
  "export PATH=/opt/poetry/bin:$PATH",
  'echo "$(printf ")")" >/dev/null 2>&1',
  "useradd --uid 10001 app",
  "if [ -f requirements.txt ]; then pip install -r requirements.txt; fi",
];
const JOINERS = [" && ", "; ", " \\\n    && ", " || ", " | "];
const INSTRUCTIONS = [
  "ENV POETRY_VIRTUALENVS_IN_PROJECT=true",
  "ENV PIP_NO_CACHE_DIR=1",
  "ARG POETRY_VERSION=1.8.5",
  "WORKDIR /app",
  "COPY pyproject.toml poetry.lock ./",
  "COPY . .",
  "USER 10001",
  "CMD python -m app",
  'CMD ["python", "-m", "app"]',
  "RUN --mount=type=cache,target=/root/.cache/pip pip install poetry==1.8.5",
];
const IMAGES = ["python:3.11-slim", "python:3.12", "debian:bookworm-slim", "python"];
/** Characters and pieces that steer the shell reader and the Dockerfile parser. */
const PIECES = [
  "(",
  ")",
  "'",
  '"',
  "`",
  "\\",
  "$(",
  "${",
  "<<EOF\n",
  "EOF\n",
  ";;",
  "esac",
  "{",
  "}",
  "\n",
  "\\\n",
  "#",
  "\uFEFF",
  "\r\n",
  "&&",
  "|",
];

const run = fc
  .array(fc.constantFrom(...FRAGMENTS), { minLength: 1, maxLength: 5 })
  .chain((parts) =>
    fc
      .array(fc.constantFrom(...JOINERS), { minLength: parts.length - 1, maxLength: parts.length - 1 })
      .map((joins) => `RUN ${parts.map((p, i) => (i === 0 ? p : `${joins[i - 1]}${p}`)).join("")}`),
  );
const heredocRun = fc
  .array(fc.constantFrom(...FRAGMENTS), { minLength: 1, maxLength: 3 })
  .map((parts) => `RUN <<EOF\nset -e\n${parts.join("\n")}\nEOF`);
const stage = fc
  .tuple(
    fc.constantFrom(...IMAGES),
    fc.array(fc.oneof(run, run, heredocRun, fc.constantFrom(...INSTRUCTIONS)), { maxLength: 6 }),
  )
  .map(([image, lines]) => [`FROM ${image}`, ...lines].join("\n"));
const mutation = fc.record({
  at: fc.double({ min: 0, max: 1, noNaN: true }),
  kind: fc.constantFrom("insert", "delete", "none"),
  piece: fc.constantFrom(...PIECES),
  length: fc.integer({ min: 1, max: 12 }),
});
const dockerfile = fc
  .tuple(fc.array(stage, { minLength: 1, maxLength: 3 }), fc.array(mutation, { maxLength: 3 }), fc.boolean())
  .map(([stages, mutations, bom]) => {
    let text = `${bom ? "\uFEFF" : ""}${stages.join("\n")}\n`;
    for (const m of mutations) {
      const at = Math.floor(m.at * text.length);
      if (m.kind === "insert") text = text.slice(0, at) + m.piece + text.slice(at);
      else if (m.kind === "delete") text = text.slice(0, at) + text.slice(at + m.length);
    }
    return text;
  });

/** A case that takes longer than this is a hang or a blow-up, not a slow machine (lint takes milliseconds here). */
const CASE_BOUND_MS = 5000;

type Outcome = "linted" | "refused";

function check(text: string): Outcome {
  const started = performance.now();
  let findings: ReturnType<typeof lintText>;
  try {
    findings = lintText(text, "Dockerfile");
  } catch (error) {
    if (!isUserError(error)) throw error;
    expect(error.exitCode).toBe(2);
    expect(error.message).not.toContain("\n");
    return "refused";
  }
  const lines = text.split("\n").length;
  for (const f of findings) {
    expect(f.line).toBeGreaterThanOrEqual(1);
    expect(f.line).toBeLessThanOrEqual(lines);
    expect(f.column).toBeGreaterThanOrEqual(1);
    expect(f.endLine ?? f.line).toBeGreaterThanOrEqual(f.line);
    for (const edit of f.fix ?? []) {
      expect(edit.start).toBeGreaterThanOrEqual(0);
      expect(edit.end).toBeGreaterThanOrEqual(edit.start);
      expect(edit.end).toBeLessThanOrEqual(text.length);
    }
  }
  const fixed = fixText(text, "Dockerfile");
  // The fixed text is still a Dockerfile, and it is a fixed point of --fix.
  expect(() => lintText(fixed.text, "Dockerfile")).not.toThrow();
  expect(fixText(fixed.text, "Dockerfile").text).toBe(fixed.text);
  if (text.startsWith("\uFEFF")) expect(fixed.text.startsWith("\uFEFF")).toBe(true);
  expect(performance.now() - started).toBeLessThan(CASE_BOUND_MS);
  return "linted";
}

describe("lint and --fix on generated Dockerfiles (property)", () => {
  it("no crash, valid positions, --fix output lints and settles", () => {
    const tally: Record<Outcome, number> = { linted: 0, refused: 0 };
    fc.assert(
      fc.property(dockerfile, (text) => {
        tally[check(text)]++;
      }),
      fuzzParameters(100),
    );
    // The generator reaches the rules, not only the refusals (mutations often break the Dockerfile itself).
    expect(tally.linted).toBeGreaterThan((tally.linted + tally.refused) / 4);
  });

  it("unmutated real-world shell: fixes apply and settle in one run", () => {
    let fixedSome = 0;
    fc.assert(
      fc.property(fc.array(stage, { minLength: 1, maxLength: 3 }), (stages) => {
        const text = `${stages.join("\n")}\n`;
        expect(check(text)).toBe("linted");
        if (fixText(text, "Dockerfile").fixed > 0) fixedSome++;
      }),
      fuzzParameters(50),
    );
    expect(fixedSome).toBeGreaterThan(0);
  });
});
