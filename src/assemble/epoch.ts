// The one timestamp an assembled image carries: SOURCE_DATE_EPOCH, else the project's last commit, else 1970.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { UserError } from "../errors.js";

/** The largest mtime a ustar header holds (11 octal digits): the year 2242. */
const MAX_EPOCH = 8 ** 11 - 1;

function checked(seconds: number, what: string): number {
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > MAX_EPOCH)
    throw new UserError(`${what}: expected whole seconds since 1970, at most ${MAX_EPOCH}`);
  return seconds;
}

/**
 * As reproducible-builds.org defines it: SOURCE_DATE_EPOCH when set; otherwise the committer time of the last
 * commit that touched `dir` (in a monorepo, a commit to another project must not change this one's digest), or of
 * the checkout's last commit when none has yet; 0 outside git.
 */
export async function sourceDateEpoch(
  dir: string,
  given: number | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  if (given !== undefined) return checked(given, `sourceDateEpoch ${given}`);
  const fromEnv = env.SOURCE_DATE_EPOCH;
  if (fromEnv !== undefined) {
    if (!/^\d+$/.test(fromEnv))
      throw new UserError(`SOURCE_DATE_EPOCH=${fromEnv}: expected whole seconds since 1970`);
    return checked(Number(fromEnv), `SOURCE_DATE_EPOCH=${fromEnv}`);
  }
  for (const limit of [["--", "."], []]) {
    try {
      const { stdout } = await promisify(execFile)("git", ["log", "-1", "--format=%ct", ...limit], {
        cwd: dir,
      });
      const seconds = Number(stdout.trim());
      if (stdout.trim() && Number.isInteger(seconds) && seconds > 0 && seconds <= MAX_EPOCH) return seconds;
    } catch {
      // not a git checkout, no commit yet, or no git: fall through
    }
  }
  return 0;
}
