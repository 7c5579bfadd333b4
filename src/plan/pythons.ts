// The CPython releases couplet can target, and the Debian release of the official image it pairs each with.

export interface CPythonRelease {
  minor: string;
  /** Debian release of the `python:<minor>-slim-<debian>` image couplet uses */
  debian: "bookworm" | "trixie";
}

/**
 * Newest first. Releases before 3.13 stay on bookworm, where the native-needs table's package names
 * (libpcre3 among them) still exist; 3.13 and later use trixie, the release their images default to.
 */
export const CPYTHON_RELEASES: readonly CPythonRelease[] = [
  { minor: "3.15", debian: "trixie" },
  { minor: "3.14", debian: "trixie" },
  { minor: "3.13", debian: "trixie" },
  { minor: "3.12", debian: "bookworm" },
  { minor: "3.11", debian: "bookworm" },
  { minor: "3.10", debian: "bookworm" },
  { minor: "3.9", debian: "bookworm" },
  { minor: "3.8", debian: "bookworm" },
];

export function slimImage(release: CPythonRelease): string {
  return `python:${release.minor}-slim-${release.debian}`;
}

export function fullImage(release: CPythonRelease): string {
  return `python:${release.minor}-${release.debian}`;
}

export function minorNumber(minor: string): number {
  return Number(minor.split(".")[1]);
}
