// The lint engine: parse → rules → config, inline pragmas and severities → findings; and safe fixes applied to text.
import { isUserError, UserError } from "../errors.js";
import { EMPTY_CONFIG, type LintConfig } from "./config.js";
import { buildModel, type Model } from "./model.js";
import { RULES } from "./rules/index.js";
import type { DockerignoreFile, Finding, LintProject, Report, Rule, TextEdit } from "./types.js";

export interface LintOptions {
  project?: LintProject | undefined;
  dockerignore?: DockerignoreFile | undefined;
  config?: LintConfig;
  /** Build target: the stage that becomes the image (default: the last stage) */
  target?: string | undefined;
  rules?: readonly Rule[];
}

/** Dockerfiles are small; anything past this is not one (or is generated beyond reason). */
export const MAX_BYTES = 1024 * 1024;

const KNOWN = new Set([
  "ADD",
  "ARG",
  "CMD",
  "COPY",
  "ENTRYPOINT",
  "ENV",
  "EXPOSE",
  "FROM",
  "HEALTHCHECK",
  "LABEL",
  "MAINTAINER",
  "ONBUILD",
  "RUN",
  "SHELL",
  "STOPSIGNAL",
  "USER",
  "VOLUME",
  "WORKDIR",
]);

/** Refuse what is not a Dockerfile: binary, huge, no FROM, unknown instructions. One located error. */
export function checkInput(content: Buffer | string, file: string): string {
  const bytes = typeof content === "string" ? Buffer.from(content) : content;
  if (bytes.length > MAX_BYTES)
    throw new UserError(
      `refusing to lint a ${(bytes.length / 1024 / 1024).toFixed(1)} MiB file: a Dockerfile is far smaller`,
      {
        location: { file },
      },
    );
  const nul = bytes.indexOf(0);
  if (nul >= 0) {
    const line = bytes.subarray(0, nul).toString("latin1").split("\n").length;
    throw new UserError("binary content (a NUL byte): not a Dockerfile", { location: { file, line } });
  }
  const text = bytes.toString("utf8");
  if (text.includes("\uFFFD") && !bytes.toString("latin1").includes("\uFFFD"))
    throw new UserError("not valid UTF-8 text: not a Dockerfile", { location: { file } });
  return text;
}

/** Errors a builder would stop at before building anything. */
function checkParse(model: Model): void {
  const instructions = model.dockerfile.getInstructions();
  let seenFrom = false;
  for (const instruction of instructions) {
    const keyword = instruction.getKeyword().toUpperCase();
    const at = instruction.getRange().start;
    const location = { file: model.file, line: at.line + 1, column: at.character + 1 };
    if (!KNOWN.has(keyword))
      throw new UserError(
        `unknown instruction "${instruction.getKeyword()}": not a Dockerfile, or a line continuation is missing`,
        {
          location,
        },
      );
    if (keyword === "FROM") seenFrom = true;
    else if (!seenFrom && keyword !== "ARG")
      throw new UserError(`${keyword} before the first FROM: only ARG may come before FROM`, { location });
    if (keyword === "FROM" && instruction.getArguments().length === 0)
      throw new UserError("FROM without an image", { location });
  }
  if (!seenFrom)
    throw new UserError("no FROM instruction: not a Dockerfile", { location: { file: model.file, line: 1 } });
}

/** `# couplet-ignore-file CPL010` on a line of its own silences those rules in the whole file. */
function filePragmas(text: string): Set<string> {
  const ids = new Set<string>();
  for (const line of text.split("\n")) {
    const match = /^\s*#\s*couplet-ignore-file\b(.*)$/.exec(line);
    if (match) for (const id of (match[1] ?? "").split(/[\s,]+/).filter(Boolean)) ids.add(id.toUpperCase());
  }
  return ids;
}

/** Pragmas: `# couplet-ignore CPL001 CPL002` on the line(s) just above an instruction silences those rules on it. */
function pragmas(model: Model): Map<number, Set<string>> {
  const byInstructionLine = new Map<number, Set<string>>();
  const lines = model.text.split("\n");
  for (const instruction of model.dockerfile.getInstructions()) {
    const first = instruction.getRange().start.line;
    const ids = new Set<string>();
    for (let line = first - 1; line >= 0; line--) {
      const text = (lines[line] ?? "").trim();
      if (!text.startsWith("#")) break;
      const match = /^#\s*couplet-ignore(?!-)\b(.*)$/.exec(text);
      if (match) for (const id of (match[1] ?? "").split(/[\s,]+/).filter(Boolean)) ids.add(id.toUpperCase());
    }
    if (ids.size) {
      const last = instruction.getRange().end.line;
      for (let line = first; line <= last; line++) byInstructionLine.set(line, ids);
    }
  }
  return byInstructionLine;
}

/** Lint a Dockerfile's text. Throws UserError (exit 2) when it is not a Dockerfile. */
export function lintText(text: string, file: string, options: LintOptions = {}): Finding[] {
  // A UTF-8 byte order mark is not part of the first instruction; builders skip it, and so does lint. Edits
  // are given in the caller's text, so they land after the mark (a `# syntax` line must follow it).
  const bom = text.startsWith(BOM) ? BOM.length : 0;
  const findings = lintBody(bom ? text.slice(bom) : text, file, options);
  if (!bom) return findings;
  return findings.map((f) =>
    f.fix ? { ...f, fix: f.fix.map((e) => ({ ...e, start: e.start + bom, end: e.end + bom })) } : f,
  );
}

const BOM = "\uFEFF";

/** Offsets of RUN instructions the shell reader is unsure of: no fix may touch them. */
function unsureRuns(model: Model): { start: number; end: number }[] {
  const spans: { start: number; end: number }[] = [];
  for (const stage of model.stages)
    for (const step of stage.steps)
      if (step.kind === "run" && step.unsure !== undefined) {
        const range = step.instruction.getRange();
        spans.push({
          start: model.offsetAt(range.start),
          end: Math.max(step.end, model.offsetAt(range.end)),
        });
      }
  return spans;
}

function lintBody(text: string, file: string, options: LintOptions): Finding[] {
  const model = buildModel(text, file);
  checkParse(model);
  if (options.target !== undefined) {
    const target = model.stages.find((s) => s.name?.toLowerCase() === options.target?.toLowerCase());
    if (!target)
      throw new UserError(`no stage named "${options.target}"`, {
        location: { file },
        hint: `stages: ${model.stages.map((s) => s.name ?? s.index).join(", ")}`,
      });
    model.target = target;
  }
  const unsure = unsureRuns(model);
  // A fix is text put where the parse says it belongs; where the parse is unsure, the finding stays unfixed.
  const safe = (fix: TextEdit[]): boolean =>
    !fix.some((e) => unsure.some((u) => e.end >= u.start && e.start <= u.end));
  const config = options.config ?? EMPTY_CONFIG;
  const ignoredAt = pragmas(model);
  const ignoredInFile = filePragmas(model.text);
  const findings: Finding[] = [];
  for (const rule of options.rules ?? RULES) {
    const id = rule.meta.id;
    if (config.ignore.includes(id) || ignoredInFile.has(id)) continue;
    const configured = config.severity[id];
    if (configured === "off") continue;
    if (rule.meta.needsProject && !options.project) continue;
    const reports: Report[] = [];
    rule.check({
      model,
      project: options.project,
      dockerignore: options.dockerignore,
      report: (r) => reports.push(r),
    });
    for (const r of reports) {
      if (ignoredAt.get(r.range.start.line)?.has(id)) continue;
      findings.push({
        file,
        line: r.range.start.line + 1,
        column: r.range.start.character + 1,
        endLine: r.range.end.line + 1,
        endColumn: r.range.end.character + 1,
        rule: id,
        severity: configured ?? rule.meta.defaultSeverity,
        message: r.message,
        ...(r.fix && safe(r.fix) ? { fix: r.fix } : {}),
      });
    }
  }
  // One finding per rule and place: rules that walk several stages may meet the same instruction twice.
  const unique = new Map<string, Finding>();
  for (const f of findings) unique.set(`${f.rule}:${f.line}:${f.column}:${f.message}`, f);
  return [...unique.values()].sort(
    (a, b) => a.line - b.line || a.column - b.column || a.rule.localeCompare(b.rule),
  );
}

/** Apply edits that do not overlap (earlier findings win); returns the new text and how many edits were applied. */
export function applyEdits(
  text: string,
  edits: TextEdit[][],
): { text: string; applied: number; appliedGroups: number[] } {
  const accepted: TextEdit[] = [];
  const appliedGroups: number[] = [];
  let applied = 0;
  for (const [index, group] of edits.entries()) {
    const overlaps = group.some((e) =>
      accepted.some(
        (a) => (e.start < a.end && a.start < e.end) || (e.start === e.end && e.start === a.start),
      ),
    );
    if (overlaps) continue;
    accepted.push(...group);
    appliedGroups.push(index);
    applied++;
  }
  accepted.sort((a, b) => b.start - a.start);
  let out = text;
  for (const edit of accepted) out = out.slice(0, edit.start) + edit.text + out.slice(edit.end);
  return { text: out, applied, appliedGroups };
}

export interface FixResult {
  text: string;
  /** Findings left after fixing */
  remaining: Finding[];
  /** Number of fixes applied */
  fixed: number;
}

/** Passes of fixing before giving up on settling (each accepted pass removes at least one fixable finding). */
const MAX_PASSES = 25;
/** When fixing everything at once does not help, how many fixes to try one by one. */
const MAX_SINGLE_TRIES = 20;

/**
 * Apply safe fixes until none is left (fixes may overlap, so lint again after each pass). A pass is kept only
 * when its result still lints and has fewer fixable findings and no more findings in all: a fix that does
 * not remove its finding (or breaks the file) is dropped rather than applied again on every run. That makes
 * the result a fixed point: fixing it again changes nothing.
 */
export function fixText(text: string, file: string, options: LintOptions = {}): FixResult {
  let current = text;
  let findings = lintText(current, file, options);
  let fixed = 0;
  const fixableByRule = (list: Finding[]): Map<string, number> => {
    const counts = new Map<string, number>();
    for (const f of list) if (f.fix) counts.set(f.rule, (counts.get(f.rule) ?? 0) + 1);
    return counts;
  };
  const attempt = (chosen: Finding[]): { text: string; findings: Finding[]; applied: number } | undefined => {
    const result = applyEdits(
      current,
      chosen.map((f) => f.fix as TextEdit[]),
    );
    if (result.applied === 0 || result.text === current) return undefined;
    let next: Finding[];
    try {
      next = lintText(result.text, file, options);
    } catch (error) {
      if (isUserError(error)) return undefined;
      throw error;
    }
    if (next.length > findings.length) return undefined;
    // Every rule whose fixes were applied must have that many fewer fixable findings.
    const before = fixableByRule(findings);
    const after = fixableByRule(next);
    const applied = new Map<string, number>();
    for (const i of result.appliedGroups) {
      const rule = (chosen[i] as Finding).rule;
      applied.set(rule, (applied.get(rule) ?? 0) + 1);
    }
    for (const [rule, k] of applied)
      if ((after.get(rule) ?? 0) > (before.get(rule) ?? 0) - k) return undefined;
    return { text: result.text, findings: next, applied: result.applied };
  };
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    const fixes = findings.filter((f) => f.fix);
    if (!fixes.length) break;
    let step = attempt(fixes);
    for (let i = 0; !step && i < Math.min(fixes.length, MAX_SINGLE_TRIES); i++)
      step = attempt([fixes[i] as Finding]);
    if (!step) break;
    current = step.text;
    findings = step.findings;
    fixed += step.applied;
  }
  return { text: current, remaining: findings, fixed };
}
