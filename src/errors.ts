// Typed errors: a user's mistake says what kind it is (and so its exit code) and where it happened; anything else is a bug.

export interface Location {
  file: string;
  /** 1-based */
  line?: number;
  /** 1-based */
  column?: number;
}

interface UserErrorOptions {
  location?: Location;
  hint?: string;
  exitCode?: number;
}

/** A mistake the user can act on: printed as one line, never with a stack trace. */
export class UserError extends Error {
  readonly exitCode: number;
  readonly location: Location | undefined;
  readonly hint: string | undefined;

  constructor(message: string, options: UserErrorOptions = {}) {
    super(message);
    this.name = "UserError";
    this.exitCode = options.exitCode ?? 2;
    this.location = options.location;
    this.hint = options.hint;
  }
}

/** A file couplet reads is missing, unreadable, not UTF-8, malformed, or holds a value couplet cannot use (exit 2). */
export class InputFileError extends UserError {
  constructor(message: string, options: Omit<UserErrorOptions, "exitCode"> = {}) {
    super(message, { ...options, exitCode: 2 });
    this.name = "InputFileError";
  }
}

/** A file couplet would write cannot be written (permissions, a folder in the way, a full disk): exit 2. */
export class OutputFileError extends UserError {
  constructor(message: string, options: Omit<UserErrorOptions, "exitCode"> = {}) {
    super(message, { ...options, exitCode: 2 });
    this.name = "OutputFileError";
  }
}

/** couplet declines to do something that would harm the user's files unless asked explicitly (exit 1). */
export class RefusedError extends UserError {
  constructor(message: string, options: Omit<UserErrorOptions, "exitCode"> = {}) {
    super(message, { ...options, exitCode: 1 });
    this.name = "RefusedError";
  }
}

/**
 * A user's value inside a message: double-quoted, with control characters escaped, so a value
 * holding a newline (a TOML string, a file name) can never split the one line a user gets.
 */
export function quote(value: string): string {
  return `"${escapeControl(value.replace(/["\\]/g, (c) => `\\${c}`))}"`;
}

/** Control characters as visible escapes (\n, \t, \u001b...): terminals neither break nor obey them. */
export function escapeControl(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this removes
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => {
    if (c === "\n") return "\\n";
    if (c === "\r") return "\\r";
    if (c === "\t") return "\\t";
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
  });
}

/** One line for a user: `file:line:column: message (hint)`; control characters from any value are escaped here. */
export function formatUserError(error: UserError): string {
  const where = error.location
    ? [error.location.file, error.location.line, error.location.column]
        .filter((x) => x !== undefined)
        .join(":")
    : "";
  const hint = error.hint ? ` (${error.hint})` : "";
  return escapeControl(`${where ? `${where}: ` : ""}${error.message}${hint}`);
}

export function isUserError(error: unknown): error is UserError {
  return error instanceof UserError;
}

/** A file-system failure in words a user can act on (the errno code names are kept for searching). */
export function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "ENOENT":
      return "no such file or directory";
    case "ENOTDIR":
      return "a part of the path is not a folder";
    case "EISDIR":
      return "is a folder, not a file";
    case "EROFS":
      return "read-only file system";
    case "ENOSPC":
      return "no space left on the device";
    case "EDQUOT":
      return "disk quota exceeded";
    case "ELOOP":
      return "too many levels of symbolic links";
    case "ENAMETOOLONG":
      return "file name too long";
    case "ENOTFILE":
      return "is not a regular file";
    case "EBUSY":
      return "busy";
    default:
      return code ?? (error instanceof Error ? error.message : String(error));
  }
}

export function isFsError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === "string";
}
