// What a value from pyproject.toml (or the command line) must look like to be used at all: names, package names, paths.
import { posix } from "node:path";

/** A rule's verdict: undefined when the value is fine, else what is wrong and how to fix it. */
export type Problem = { reason: string; fix: string } | undefined;

// PEP 508 names (projects, extras); PEP 735 applies the same rule to dependency-group names.
const NAME = /^([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9])$/;
// Debian policy 5.6.1: lower case letters, digits, + - . ; at least two characters, starting alphanumeric.
const DEBIAN_PACKAGE = /^[a-z0-9][a-z0-9+.-]+$/;
// A PEP 440 version or anything pip accepts after `poetry==`, without shell or Dockerfile syntax.
const VERSION = /^[0-9][0-9A-Za-z.+!_-]*$/;
// Docker's reference grammar: [domain[:port]/]path[:tag][@digest].
const DOMAIN = String.raw`(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?/)?`;
const COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const IMAGE = new RegExp(
  String.raw`^${DOMAIN}${COMPONENT}(?:/${COMPONENT})*(?::[\w][\w.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$`,
);

export function checkName(value: string): Problem {
  if (NAME.test(value)) return undefined;
  return {
    reason: "is not a valid name",
    fix: "use letters, digits and . _ - (not first or last), as PEP 508 and Poetry require",
  };
}

export function checkDebianPackage(value: string): Problem {
  if (DEBIAN_PACKAGE.test(value)) return undefined;
  return {
    reason: "is not a Debian package name",
    fix: "use lower-case letters, digits and + - . as in `apt-get install libpq5`",
  };
}

export function checkVersion(value: string): Problem {
  if (VERSION.test(value)) return undefined;
  return { reason: "is not a version", fix: "give a version such as 1.8.5" };
}

export function checkImage(value: string): Problem {
  if (value.length <= 255 && IMAGE.test(value)) return undefined;
  return {
    reason: "is not an image reference",
    fix: "give one such as python:3.12-slim-bookworm or registry.example.com/team/python:3.12",
  };
}

/**
 * A path COPY takes from the build context: relative, inside the context, a literal name (no glob: what
 * a glob matches is decided at build time and may be nothing), and no character a Dockerfile would
 * expand or unquote (`$`, `\`, quotes) or that ends a line.
 */
export function checkContextPath(value: string): Problem {
  const fix = "give a relative path inside the project folder, spelled out (no glob, no ..)";
  if (value.trim() === "") return { reason: "is empty", fix };
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this refuses
  if (/[\u0000-\u001f\u007f\u2028\u2029]/.test(value))
    return { reason: "holds a line break or control character", fix };
  if (/[$\\"'`]/.test(value))
    return { reason: "holds $, \\ or a quote, which a Dockerfile would expand", fix };
  if (/[*?[\]{}]/.test(value))
    return { reason: "is a glob pattern", fix: "list the matching paths one by one" };
  if (value.startsWith("/")) return { reason: "is absolute", fix };
  const normal = posix.normalize(value);
  if (normal === ".." || normal.startsWith("../"))
    return { reason: "points outside the project folder", fix };
  return undefined;
}
