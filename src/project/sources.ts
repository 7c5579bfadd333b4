// Where the lock takes packages from besides PyPI that a build must authenticate to: private indexes and git over SSH.
import { UserError } from "../errors.js";
import type { LockedPackage } from "./types.js";

/** A package index (`[[tool.poetry.source]]`) the lock takes packages from, and how Poetry finds its credentials. */
export interface IndexSource {
  /** The source's name, as pyproject.toml and the lock's `source.reference` spell it */
  name: string;
  url: string;
  /** Normalized names of the locked packages it serves */
  packages: string[];
  /** Poetry's environment variables for the source's HTTP basic credentials */
  usernameEnv: string;
  passwordEnv: string;
}

/** A git dependency fetched over SSH: the install needs the build's SSH agent and the host's key. */
export interface SshGitSource {
  package: string;
  url: string;
  host: string;
}

/**
 * Poetry reads `http-basic.<name>.username` from POETRY_HTTP_BASIC_<NAME>_USERNAME: the name upper-cased,
 * with `-` and `.` (which splits config keys) as `_`. Any other character could not be part of a shell
 * variable name, so a source named that way is refused rather than silently given credentials of another.
 */
/** An index URL fit to print: a user name or token written inside it (`https://user:tok@host/`) is left out. */
export function printableUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.username && !parsed.password) return url;
    parsed.username = "";
    parsed.password = "";
    return parsed.href;
  } catch {
    return url.replace(/\/\/[^/@]*@/, "//");
  }
}

export function poetryCredentialEnv(source: string): { username: string; password: string } {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(source))
    throw new UserError(
      `the package source "${source}" has a name Poetry cannot map to environment variables (POETRY_HTTP_BASIC_<NAME>_USERNAME)`,
      {
        hint: "rename the [[tool.poetry.source]] to letters, digits, '-', '.' and '_', then run `poetry lock`",
      },
    );
  const key = source.toUpperCase().replace(/[-.]/g, "_");
  return { username: `POETRY_HTTP_BASIC_${key}_USERNAME`, password: `POETRY_HTTP_BASIC_${key}_PASSWORD` };
}

/** PyPI's own hosts: a source that points at PyPI's simple index (for Poetry 1.2's sake, say) needs no credentials. */
const PUBLIC_HOSTS = new Set(["pypi.org", "test.pypi.org", "pypi.python.org", "files.pythonhosted.org"]);

function isPypi(url: string): boolean {
  try {
    return PUBLIC_HOSTS.has(new URL(url).hostname.toLowerCase());
  } catch {
    return false;
  }
}

/**
 * The indexes these packages come from: lock entries with `source.type = "legacy"` name their source in
 * `source.reference` (PyPI itself, and `[[tool.poetry.source]]` entries nothing is locked from, appear nowhere).
 * A source on PyPI's own hosts is left out: it is public.
 */
export function lockedIndexes(packages: LockedPackage[]): IndexSource[] {
  const byName = new Map<string, IndexSource>();
  for (const pkg of packages) {
    const source = pkg.source;
    if (source?.type !== "legacy" || !source.reference || isPypi(source.url)) continue;
    const known = byName.get(source.reference);
    if (known) {
      if (!known.packages.includes(pkg.name)) known.packages.push(pkg.name);
      continue;
    }
    const env = poetryCredentialEnv(source.reference);
    byName.set(source.reference, {
      name: source.reference,
      url: source.url,
      packages: [pkg.name],
      usernameEnv: env.username,
      passwordEnv: env.password,
    });
  }
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** The host of an SSH git URL (`ssh://git@host[:port]/path`, `git+ssh://...`, scp-like `git@host:path`), or undefined for any other URL. */
export function sshHost(url: string): string | undefined {
  const full = /^(?:git\+)?ssh:\/\/(?:[^@/]+@)?(\[[^\]]+\]|[^:/]+)/.exec(url);
  if (full) return full[1];
  // scp-like syntax has no scheme and a colon before the first slash.
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return undefined;
  const scp = /^(?:[^@/:]+@)?([^:/]+):(?!\/\/)/.exec(url);
  return scp?.[1];
}

/** Git dependencies the lock fetches over SSH. */
export function sshGitSources(packages: LockedPackage[]): SshGitSource[] {
  const out: SshGitSource[] = [];
  for (const pkg of packages) {
    if (pkg.source?.type !== "git") continue;
    const host = sshHost(pkg.source.url);
    if (host !== undefined) out.push({ package: pkg.name, url: pkg.source.url, host });
  }
  return out.sort((a, b) => a.package.localeCompare(b.package));
}
