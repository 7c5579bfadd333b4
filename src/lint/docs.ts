// Rule documentation pages (docs/rules/<ID>.md): what `couplet explain` prints.
import { readFileSync } from "node:fs";

/** src/lint and dist/lint both sit two levels below the package root. */
export function ruleDocUrl(id: string): URL {
  return new URL(`../../docs/rules/${id}.md`, import.meta.url);
}

export function ruleDoc(id: string): string | undefined {
  try {
    return readFileSync(ruleDocUrl(id), "utf8");
  } catch {
    return undefined;
  }
}
