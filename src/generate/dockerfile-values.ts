// The one way a value from the project or the command line reaches a rendered Dockerfile: checked or escaped for its place.
import { escapeControl, quote, UserError } from "../errors.js";
import {
  checkContextPath,
  checkDebianPackage,
  checkImage,
  checkName,
  checkVersion,
  type Problem,
} from "../project/values.js";

/**
 * The kinds of words a Dockerfile line takes from outside. The readers already refuse bad values with
 * the pyproject.toml line; this is the last gate, for values from elsewhere (command-line options, a
 * field added later) so that no string can add a line, an instruction or a shell command.
 */
const RULES = {
  name: checkName,
  "debian-package": checkDebianPackage,
  version: checkVersion,
  image: checkImage,
  path: checkContextPath,
} satisfies Record<string, (value: string) => Problem>;

export type WordKind = keyof typeof RULES;

/** A word checked against its kind's rule; a value that fails is refused, never emitted. */
export function word(kind: WordKind, value: string, what: string): string {
  const problem = RULES[kind](value);
  if (problem)
    throw new UserError(`${what} ${quote(value)} ${problem.reason}; no Dockerfile was written`, {
      hint: problem.fix,
    });
  return value;
}

export function words(kind: WordKind, values: string[], what: string): string[] {
  return values.map((value) => word(kind, value, what));
}

/** Text after `# `: control characters shown as escapes, so the comment stays one line. */
export function comment(text: string): string {
  return `# ${escapeControl(text)}`;
}

/** A double-quoted LABEL value: no variable expansion, no line break, no way out of the quotes. */
export function labelValue(value: string): string {
  return `"${escapeControl(value).replace(/[\\"$]/g, (c) => `\\${c}`)}"`;
}

/** An exec-form (JSON) argument list: CMD, ENTRYPOINT. JSON escapes every control character. */
export function execForm(args: string[]): string {
  return `[${args.map((arg) => JSON.stringify(arg).replace(/[\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`)).join(", ")}]`;
}

/**
 * `COPY [--from=stage] src... dest`, for paths already checked with word("path", ...) or fixed by the
 * layout. When a path holds white space the JSON form is used, which BuildKit and buildah read as
 * literal names.
 */
export function copy(sources: string[], destination: string, from?: string): string {
  const flag = from ? ` --from=${word("name", from, "the stage")}` : "";
  const paths = [...sources, destination];
  if (paths.some((path) => /\s/.test(path))) return `COPY${flag} ${execForm(paths)}`;
  return `COPY${flag} ${paths.join(" ")}`;
}
