// Find the Celery apps a project creates at module level: what `celery --app MODULE:NAME worker` can load.
import { codeOnly, importBindings } from "./python-source.js";
import { escapeRegExp } from "./toml.js";

/** A module-level Celery app, with the file and line that create it. */
export interface CeleryApp {
  /** `module:attribute` as `celery --app` takes it, e.g. "src.app:celery" */
  target: string;
  /** e.g. "src/app.py:6" */
  source: string;
}

/** Where celery's app class can be imported from (`from celery import Celery`, the hasher's `celery.app`). */
const CELERY_CLASS = ["celery.Celery", "celery.app.Celery", "celery.app.base.Celery"];

/** A dotted name Python can import: a file named `my-worker.py` is no module `celery --app` can load. */
const MODULE = /^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$/;

/**
 * The names this module calls celery's app class by: `Celery` after `from celery import Celery`, `C` after
 * `... import Celery as C`, `celery.Celery` after `import celery`, `app.Celery` after `from celery import app`.
 */
function constructorNames(code: string): string[] {
  const names: string[] = [];
  for (const [name, dotted] of importBindings(code))
    for (const path of CELERY_CLASS) {
      if (path === dotted) names.push(name);
      else if (path.startsWith(`${dotted}.`)) names.push(`${name}${path.slice(dotted.length)}`);
    }
  return [...new Set(names)];
}

/**
 * `NAME = Celery(...)` (or `NAME: Celery = celery.Celery(...)`) at column 0 of a module that imports the class
 * from celery. An app made inside a function or an `if` block is indented and not taken: a factory's app, or one
 * of two alternatives, is not what the module exports. Test files and folders never reach here (see sources()).
 */
export function celeryApps(files: { path: string; module: string; text: string }[]): CeleryApp[] {
  const found = new Map<string, CeleryApp>();
  for (const file of files) {
    if (!MODULE.test(file.module) || !/\bCelery\b/.test(file.text)) continue;
    const code = codeOnly(file.text);
    const names = constructorNames(code);
    if (names.length === 0) continue;
    const call = names.map(escapeRegExp).join("|");
    const assignment = new RegExp(`^([A-Za-z_]\\w*)[ \\t]*(?::[^=\\n]+)?=[ \\t]*(?:${call})[ \\t]*\\(`);
    code.split("\n").forEach((line, index) => {
      const name = assignment.exec(line)?.[1];
      const target = `${file.module}:${name}`;
      // Assigned twice in one module: the first line is where the app is made, the later one reconfigures it.
      if (name && !found.has(target)) found.set(target, { target, source: `${file.path}:${index + 1}` });
    });
  }
  return [...found.values()];
}
