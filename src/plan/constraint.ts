// Poetry's version-constraint syntax (^, ~, *, ||, bare versions) turned into PEP 440 specifier sets.
import { satisfies, valid } from "@renovatebot/pep440";

/** A constraint as alternatives (OR) of PEP 440 specifier sets (AND, comma separated). */
export type Pep440Alternatives = string[];

function padded(version: string): number[] {
  return version.split(".").map((part) => Number.parseInt(part, 10));
}

/** Translate one Poetry clause (no commas, no ||) to a PEP 440 clause, or undefined if it is not valid. */
function clause(raw: string): string | undefined {
  const text = raw.trim();
  if (text === "" || text === "*") return "";
  const caret = /^\^\s*(\d+(?:\.\d+)*)$/.exec(text);
  if (caret?.[1]) {
    const parts = padded(caret[1]);
    // ^ bumps the left-most non-zero component (^0.3 → <0.4, ^3.10 → <4.0).
    const index = parts.findIndex((part, i) => part !== 0 || i === parts.length - 1);
    const upper = parts.slice(0, index + 1);
    upper[index] = (upper[index] ?? 0) + 1;
    return `>=${caret[1]},<${upper.join(".")}`;
  }
  const tilde = /^~(?!=)\s*(\d+(?:\.\d+)*)$/.exec(text);
  if (tilde?.[1]) {
    const parts = padded(tilde[1]);
    // ~3 → <4; ~3.11 and ~3.11.2 → <3.12.
    const upper = parts.length === 1 ? [(parts[0] ?? 0) + 1] : [parts[0] ?? 0, (parts[1] ?? 0) + 1];
    return `>=${tilde[1]},<${upper.join(".")}`;
  }
  const wildcard = /^(\d+(?:\.\d+)*)\.\*$/.exec(text);
  if (wildcard?.[1]) return `==${wildcard[1]}.*`;
  if (/^\d+(?:\.\d+)*$/.test(text)) return `==${text}`;
  const op = /^(~=|===|==|!=|<=|>=|<|>)\s*(\S+)$/.exec(text);
  if (op?.[1] && op[2]) {
    const version = op[2];
    if (!(version.endsWith(".*") ? valid(version.slice(0, -2)) : valid(version))) return undefined;
    return `${op[1]}${version}`;
  }
  return undefined;
}

/**
 * Parse a Poetry or PEP 440 constraint. Returns undefined when it is not understood, so the caller
 * can name the file and the constraint in its error.
 */
export function toPep440(constraint: string): Pep440Alternatives | undefined {
  const alternatives: string[] = [];
  for (const alternative of constraint.split(/\|\|?/)) {
    // Poetry accepts "," or whitespace between clauses of one alternative (">=3.9 <4.0").
    const pieces = alternative
      .replace(/([<>=!~^]=?)\s+/g, "$1")
      .split(/[,\s]+/)
      .filter((piece) => piece !== "");
    const clauses: string[] = [];
    for (const piece of pieces.length ? pieces : ["*"]) {
      const translated = clause(piece);
      if (translated === undefined) return undefined;
      if (translated) clauses.push(translated);
    }
    alternatives.push(clauses.join(","));
  }
  return alternatives;
}

/** Does the constraint admit the given full version ("3.11.4")? */
export function admits(alternatives: Pep440Alternatives, version: string): boolean {
  return alternatives.some((set) => set === "" || satisfies(version, set));
}

/** Does the constraint admit some release of this CPython minor version ("3.11")? */
export function admitsMinor(alternatives: Pep440Alternatives, minor: string): boolean {
  // A constraint's truth over 3.11.x can only change at the patch numbers it names, so checking
  // those, their neighbours, .0 and a high patch covers ">=3.11.4" and "<3.11.5" alike.
  const patches = new Set([0, 99]);
  const prefix = `${minor}.`;
  for (const set of alternatives) {
    for (const match of set.matchAll(/(\d+(?:\.\d+)+)/g)) {
      const version = match[1] ?? "";
      if (!version.startsWith(prefix)) continue;
      const patch = Number(version.slice(prefix.length).split(".")[0]);
      if (Number.isFinite(patch)) for (const p of [patch - 1, patch, patch + 1]) if (p >= 0) patches.add(p);
    }
  }
  return [...patches].some((patch) => admits(alternatives, `${minor}.${patch}`));
}
