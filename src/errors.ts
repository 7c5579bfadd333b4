// Typed errors: a user's mistake carries its exit code and where it happened; anything else is a bug.

export interface Location {
  file: string;
  /** 1-based */
  line?: number;
  /** 1-based */
  column?: number;
}

/** A mistake the user can act on: printed as one line, never with a stack trace. */
export class UserError extends Error {
  readonly exitCode: number;
  readonly location: Location | undefined;
  readonly hint: string | undefined;

  constructor(message: string, options: { location?: Location; hint?: string; exitCode?: number } = {}) {
    super(message);
    this.name = "UserError";
    this.exitCode = options.exitCode ?? 2;
    this.location = options.location;
    this.hint = options.hint;
  }
}

/** One line for a user: `file:line:column: message (hint)`. */
export function formatUserError(error: UserError): string {
  const where = error.location
    ? [error.location.file, error.location.line, error.location.column]
        .filter((x) => x !== undefined)
        .join(":")
    : "";
  const hint = error.hint ? ` (${error.hint})` : "";
  return `${where ? `${where}: ` : ""}${error.message}${hint}`;
}

export function isUserError(error: unknown): error is UserError {
  return error instanceof UserError;
}
