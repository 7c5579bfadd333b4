// Wheels built once by the user (with an engine, in the base) for packages whose lock has no wheel that fits: `--wheels DIR`.
import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { describeFsError, InputFileError } from "../errors.js";
import { normalizeName } from "../project/names.js";
import { bestWheel, parseWheelName } from "./tags.js";

export interface LocalWheel {
  /** The file's name, e.g. PyPyDispatcher-2.1.2-py3-none-any.whl */
  file: string;
  path: string;
  /** Hex sha256 of the file: the lock cannot vouch for a wheel built here, so this says which file went in */
  sha256: string;
  /** PEP 503 normalised */
  name: string;
  version: string;
}

/** Every wheel in the folder, hashed; any other file is left alone. */
export async function readWheelDir(dir: string): Promise<LocalWheel[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    throw new InputFileError(`--wheels: cannot read the folder: ${describeFsError(error)}`, {
      location: { file: dir },
      hint: "give the folder the wheels were built into (pip wheel -w DIR)",
    });
  }
  const wheels: LocalWheel[] = [];
  for (const file of names.sort()) {
    const parsed = parseWheelName(file);
    if (!parsed) continue;
    const full = path.join(dir, file);
    const data = await readFile(full).catch((error: unknown) => {
      throw new InputFileError(`--wheels: cannot read ${file}: ${describeFsError(error)}`, {
        location: { file: full },
        hint: "remove it or build it again (pip wheel -w DIR)",
      });
    });
    wheels.push({
      file,
      path: full,
      sha256: createHash("sha256").update(data).digest("hex"),
      name: normalizeName(parsed.name),
      version: parsed.version,
    });
  }
  return wheels;
}

/** PEP 440 versions compare case-insensitively, with an optional leading v; wheel names spell `-` as `_`. */
function sameVersion(a: string, b: string): boolean {
  const canonical = (text: string) => text.toLowerCase().replace(/^v/, "").replace(/_/g, "-");
  return canonical(a) === canonical(b);
}

/** The folder's best wheel for a locked package, or why none of them will do (for the refusal line). */
export function pickLocalWheel(
  pkg: { name: string; version: string },
  wheels: LocalWheel[],
  supported: string[],
  target: string,
): { wheel: LocalWheel } | { reason: string } {
  const named = wheels.filter((wheel) => wheel.name === normalizeName(pkg.name));
  if (named.length === 0) return { reason: "no wheel for it in --wheels" };
  const versioned = named.filter((wheel) => sameVersion(wheel.version, pkg.version));
  if (versioned.length === 0)
    return {
      reason: `--wheels has ${named.map((wheel) => wheel.file).join(", ")}, not version ${pkg.version}`,
    };
  const best = bestWheel(versioned, supported);
  if (!best)
    return {
      reason: `${versioned.map((wheel) => wheel.file).join(", ")} in --wheels does not fit ${target}`,
    };
  return { wheel: best.file };
}

/**
 * How to make the missing wheels once: pip in a container of the same base (so the tags, the interpreter and the
 * glibc are the image's), written to ./wheels. buildah takes a registry reference as it is and a file or folder
 * with its transport.
 */
export function wheelCommand(packages: { name: string; version: string }[], base: string): string {
  const specs = packages.map(({ name, version }) => `${name}==${version}`).join(" ");
  // One shell line that removes its working container again, whether pip succeeded or not; buildah mounts only
  // a host folder that exists.
  return `mkdir -p wheels && c=$(buildah from ${base}) && buildah run -v "$PWD/wheels:/wheels" "$c" -- pip wheel --no-deps ${specs} -w /wheels; buildah rm "$c"`;
}

/**
 * The --base as buildah names it: a registry reference as it is, a folder as an OCI layout, a file as what it was
 * read as (`format`): a docker-archive, or an OCI archive (`buildah from docker-archive:` of one fails on its
 * missing manifest.json).
 */
export async function buildahReference(source: string, format: "docker-archive" | "oci"): Promise<string> {
  const found = await stat(source).catch(() => undefined);
  if (!found) return source;
  if (found.isDirectory()) return `oci:${path.resolve(source)}`;
  return `${format === "oci" ? "oci-archive" : "docker-archive"}:${path.resolve(source)}`;
}

/** How a package reads in the layer's history and the progress: a --wheels file by its own sha256. */
export function describeRequest(request: {
  name: string;
  version: string;
  path?: string;
  sha256: string;
}): string {
  return request.path
    ? `${request.name} ${request.version} (--wheels ${path.basename(request.path)} sha256:${request.sha256.slice(0, 12)})`
    : `${request.name} ${request.version}`;
}
