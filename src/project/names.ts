// Package names and dependency specifications: PEP 503 normalization and the name/extras of a requirement.

/** PEP 503: lower case, runs of `-`, `_`, `.` become one `-`. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, "-");
}

const PEP508_HEAD = /^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[([^\]]*)\])?/;

/** Name and extras of a PEP 508 requirement string (`foo[bar,baz]>=1; python_version < "3.12"`). */
export function parseRequirement(spec: string): { name: string; extras: string[] } | undefined {
  const match = PEP508_HEAD.exec(spec);
  if (!match?.[1]) return undefined;
  const extras = (match[2] ?? "")
    .split(",")
    .map((e) => e.trim())
    .filter((e) => e.length > 0)
    .map(normalizeName);
  return { name: normalizeName(match[1]), extras };
}
