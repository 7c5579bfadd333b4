// The one place where errors become exit codes: user errors print one line, bugs say they are bugs.
import { formatUserError, isUserError } from "../errors.js";

export type Action<A extends unknown[]> = (...args: A) => Promise<number | undefined> | number | undefined;

/** Wrap a command action: its return value is the exit code; a UserError prints one line. */
export function action<A extends unknown[]>(fn: Action<A>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      const code = await fn(...args);
      process.exitCode = code ?? 0;
    } catch (error) {
      process.exitCode = reportError(error);
    }
  };
}

export function reportError(error: unknown): number {
  if (isUserError(error)) {
    process.stderr.write(`couplet: ${formatUserError(error)}\n`);
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`couplet: internal error: ${message}\n`);
  if (process.env.COUPLET_DEBUG && error instanceof Error && error.stack)
    process.stderr.write(`${error.stack}\n`);
  else
    process.stderr.write(
      "couplet: this is a bug in couplet; rerun with COUPLET_DEBUG=1 for details and report it\n",
    );
  return 70;
}
