// Read a base image from disk: its layers, config, and the facts that decide which wheels it can run.
import { stat } from "node:fs/promises";
import path from "node:path";
import { UserError } from "../errors.js";
import { type OpenedImage, openImageArchive } from "../image/archive.js";
import {
  DPKG_STATUS,
  DPKG_STATUS_D,
  installedPackages,
  parseDpkgStatus,
  providedPackages,
} from "../image/dpkg.js";
import { FsTree, OPAQUE_MARKER, pathOf, WHITEOUT_PREFIX } from "../image/fs-tree.js";
import { readLayer } from "../image/layer.js";
import { osRelease, parseLdConfig } from "../image/libraries.js";
import type { EntrySink } from "../image/tar-parser.js";
import { type BaseLibraries, baseLibrariesOf } from "./libraries.js";
import { type BlobTransfer, type Origin, type Platform, type PulledBase, pullBase } from "./pull.js";

export interface BaseImage {
  /** What the user named */
  label: string;
  opened: OpenedImage;
  /** Set when the base was pulled from a registry */
  origin?: Origin;
  /** `amd64`, `arm64` */
  architecture: string;
  /** uname machine name used in wheel platform tags: `x86_64`, `aarch64` */
  machine: "x86_64" | "aarch64";
  python: {
    /** The interpreter as found on PATH, e.g. /usr/bin/python3 */
    command: string;
    /** The real file it resolves to, e.g. /usr/bin/python3.11 */
    executable: string;
    /** "3.11.2" when the image says, else "3.11" */
    version: string;
    major: number;
    minor: number;
    /** CPython ABI tag, e.g. "cp311" */
    abi: string;
  };
  glibc: { major: number; minor: number };
  /** Text of /etc/passwd and /etc/group, to add the runtime user */
  passwd: string;
  group: string;
  /** What the dynamic loader finds in the base: the packages' shared libraries are checked against it */
  libraries: BaseLibraries;
  /**
   * The Debian packages installed in the base, from dpkg's database: the plan's runtime packages are checked
   * against it. null when the base has no database (not Debian-based), so they cannot be checked.
   */
  dpkg: DebianPackages | null;
}

export interface DebianPackages {
  /** `name:arch` of each installed package (`libc6:amd64`, `tzdata:all`), sorted */
  installed: string[];
  /** `name:arch` of each name an installed package provides (`libmagic1:amd64` from trixie's libmagic1t64), sorted */
  provided: string[];
  /** Where they were read: /var/lib/dpkg/status, /var/lib/dpkg/status.d (distroless), or both */
  database: string[];
  /** The base has /usr/bin/apt-get, so a derived image can install what it lacks */
  aptGet: boolean;
}

const MACHINES: Record<string, "x86_64" | "aarch64"> = { amd64: "x86_64", arm64: "aarch64" };
const LIBC = /\/libc\.so\.6$|\/libc-2\.\d+\.so$/;
const INTERPRETER = /\/bin\/python\d\.\d+$|\/libpython\d\.\d+\.so\.1\.0$/;
const OS_RELEASE = ["/etc/os-release", "/usr/lib/os-release"];
const WANTED = (file: string) =>
  LIBC.test(file) ||
  INTERPRETER.test(file) ||
  file === "/etc/passwd" ||
  file === "/etc/group" ||
  file.startsWith("/etc/ld.so.conf") ||
  OS_RELEASE.includes(file) ||
  file === DPKG_STATUS ||
  (file.startsWith(DPKG_STATUS_D) && !file.endsWith(".md5sums"));

function envOf(opened: OpenedImage): Map<string, string> {
  const env = new Map<string, string>();
  for (const line of opened.config.config?.Env ?? []) {
    const at = line.indexOf("=");
    if (at > 0) env.set(line.slice(0, at), line.slice(at + 1));
  }
  return env;
}

/** glibc's version as printed in libc.so.6 ("... release version 2.36"), or from an old libc-2.31.so name. */
export function glibcVersion(file: string, content: Buffer): { major: number; minor: number } | undefined {
  const named = /libc-(\d+)\.(\d+)\.so$/.exec(file);
  if (named) return { major: Number(named[1]), minor: Number(named[2]) };
  const text = content.toString("latin1");
  const banner = /GNU C Library[^\n\0]*?version (\d+)\.(\d+)/.exec(text);
  if (banner) return { major: Number(banner[1]), minor: Number(banner[2]) };
  // Without the banner, the newest GLIBC_x.y symbol version the library defines is its version.
  let best: { major: number; minor: number } | undefined;
  for (const found of text.matchAll(/GLIBC_(\d+)\.(\d+)(?![.\d])/g)) {
    const candidate = { major: Number(found[1]), minor: Number(found[2]) };
    if (
      !best ||
      candidate.major > best.major ||
      (candidate.major === best.major && candidate.minor > best.minor)
    )
      best = candidate;
  }
  return best;
}

/**
 * The interpreter's full version: the official images say it in PYTHON_VERSION; otherwise CPython's binary (or
 * libpython) holds PY_VERSION as a NUL-terminated string. Only the minor version when neither says.
 */
export function pythonVersion(
  declared: string | undefined,
  major: number,
  minor: number,
  binaries: (Buffer | undefined)[],
): string {
  if (declared?.startsWith(`${major}.${minor}.`)) return declared;
  const pattern = new RegExp(`\\0(${major}\\.${minor}\\.\\d+)\\0`);
  for (const binary of binaries) {
    const found = binary ? pattern.exec(binary.toString("latin1")) : null;
    if (found) return found[1] as string;
  }
  return `${major}.${minor}`;
}

/**
 * Whether `--base` names a registry image rather than a file: its first part is a registry host
 * (`127.0.0.1:5000/python:3.11`, `docker.io/library/python`), or it has a tag or digest and no such path exists
 * (`python:3.12-slim` is Docker Hub's, as docker pull reads it). A missing `base.tar` stays a missing file.
 */
export async function isRegistryReference(target: string): Promise<boolean> {
  if (target.startsWith("/") || target.startsWith(".")) return false;
  const first = target.split("/")[0] ?? "";
  if (target.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost"))
    return !(await exists(target));
  return /^[a-z0-9][^/]*[:@]/.test(target.split("/").pop() ?? "") && !(await exists(target));
}

/**
 * What a repository name without a registry or tag looks like (`python`, `library/python`, `bitnami/python`);
 * a dot reads as a file name (`base.tar`), which gets no registry hint.
 */
const IMAGE_NAME = /^[a-z0-9]+(?:[_-]+[a-z0-9]+)*(?:\/[a-z0-9]+(?:[_-]+[a-z0-9]+)*)*$/;

async function exists(target: string): Promise<boolean> {
  return stat(target).then(
    () => true,
    () => false,
  );
}

export interface BaseOptions {
  /** The platform to pull from a registry index (default linux/amd64 on x86-64 hosts, linux/arm64 on arm64) */
  platform?: Platform;
  /** Where pulled blobs are kept */
  cacheDir: string;
  progress?: (line: string) => void;
  /** Each chunk of a base layer as it downloads */
  onTransfer?: (transfer: BlobTransfer) => void;
}

/** The image's facts from a registry reference, or a docker-archive, OCI archive or OCI layout on disk. */
export async function readBase(target: string, options?: BaseOptions): Promise<BaseImage> {
  if (options && (await isRegistryReference(target)))
    return readPulledBase(await pullRegistryBase(target, options), target);
  // `python` or `library/python` without a tag is read as a path, as documented; docker pull would take
  // Docker Hub's latest, so the line says how to ask for that.
  if (IMAGE_NAME.test(target) && !(await exists(target)))
    throw new UserError(`${target}: no such file or directory`, {
      hint: `for the registry image, give its tag: --base ${target}:latest (Docker Hub's, when no registry is named)`,
    });
  return factsOf(await openImageArchive(target, options?.platform?.architecture), target);
}

/** Pull a registry base's manifest, config and layers into the blob cache (a blob already there is not fetched). */
export function pullRegistryBase(target: string, options: BaseOptions): Promise<PulledBase> {
  return pullBase(
    target,
    options.platform,
    options.cacheDir,
    options.progress ?? (() => {}),
    options.onTransfer,
  );
}

/** The facts of a base pulled into the blob cache, read from its layers. */
export async function readPulledBase(pulled: PulledBase, label: string): Promise<BaseImage> {
  return { ...(await factsOf(pulled.opened, label)), origin: pulled.origin };
}

/** Find an opened image's interpreter, ABI and glibc. */
async function factsOf(opened: OpenedImage, label: string): Promise<BaseImage> {
  const architecture = opened.config.architecture ?? "amd64";
  const machine = MACHINES[architecture];
  if (opened.config.os && opened.config.os !== "linux")
    throw new UserError(
      `${label}: the base image is for ${opened.config.os}; couplet assembles Linux images`,
    );
  if (!machine) throw new UserError(`${label}: unsupported architecture ${architecture} (amd64 or arm64)`);

  const tree = new FsTree();
  const contents = new Map<string, { layer: number; data: Buffer }>();
  for (const [index, layer] of opened.layers.entries()) {
    await readLayer(opened.source.chunks(layer.blob), (entry): EntrySink | undefined => {
      const base = path.posix.basename(entry.path);
      const dir = path.posix.dirname(entry.path);
      if (base === OPAQUE_MARKER) {
        tree.makeOpaque(dir, index);
        return undefined;
      }
      if (base.startsWith(WHITEOUT_PREFIX)) {
        tree.remove(path.posix.join(dir, base.slice(WHITEOUT_PREFIX.length)));
        return undefined;
      }
      tree.set(entry.path, entry.kind, entry.size, entry.linkname, index);
      if (entry.kind !== "file" || !WANTED(entry.path)) return undefined;
      const chunks: Buffer[] = [];
      return {
        data: (chunk) => chunks.push(Buffer.from(chunk)),
        end: () => contents.set(entry.path, { layer: index, data: Buffer.concat(chunks) }),
      };
    });
  }
  const fileText = (name: string): Buffer | undefined => {
    const node = tree.resolve(name);
    if (node?.kind !== "file") return undefined;
    const held = contents.get(pathOf(node));
    return held && held.layer === node.layer ? held.data : undefined;
  };

  const env = envOf(opened);
  const searchPath = (
    env.get("PATH") ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
  ).split(":");
  let python: BaseImage["python"] | undefined;
  for (const name of ["python3", "python"]) {
    for (const dir of searchPath) {
      const command = path.posix.join(dir, name);
      const node = tree.resolve(command);
      if (node?.kind !== "file") continue;
      const executable = pathOf(node);
      const found = /python(\d+)\.(\d+)$/.exec(executable);
      if (!found) continue;
      const major = Number(found[1]);
      const minor = Number(found[2]);
      const version = pythonVersion(env.get("PYTHON_VERSION"), major, minor, [
        fileText(executable),
        ...[...contents.keys()]
          .filter((file) => file.includes(`libpython${major}.${minor}.so`))
          .map(fileText),
      ]);
      python = { command, executable, version, major, minor, abi: `cp${major}${minor}` };
      break;
    }
    if (python) break;
  }
  if (python?.major !== 3)
    throw new UserError(`${label}: no CPython 3 interpreter (python3.X) found on the image's PATH`, {
      hint: "use a python base image",
    });

  let glibc: BaseImage["glibc"] | undefined;
  for (const [file] of contents) {
    if (!LIBC.test(file)) continue;
    const data = fileText(file);
    if (data) glibc = glibcVersion(file, data);
    if (glibc) break;
  }
  if (!glibc)
    throw new UserError(`${label}: no glibc found in the image (musl-based images are not supported yet)`, {
      hint: "use a Debian- or Ubuntu-based python image",
    });
  // The loader's configuration as inspect reads it: every ld.so.conf file present (includes need no expanding).
  const ldConfigDirs = [...contents.keys()]
    .filter((file) => file.startsWith("/etc/ld.so.conf"))
    .sort()
    .flatMap((file) => parseLdConfig(fileText(file)?.toString("utf8") ?? ""));
  const libraries = baseLibrariesOf(tree, {
    ldConfigDirs,
    ldLibraryPath: (env.get("LD_LIBRARY_PATH") ?? "").split(":").filter((dir) => dir.startsWith("/")),
    release: osRelease(OS_RELEASE.map((file) => fileText(file)?.toString("utf8")).find(Boolean)),
  });
  return {
    label,
    opened,
    architecture,
    machine,
    python,
    glibc,
    passwd: fileText("/etc/passwd")?.toString("utf8") ?? "",
    group: fileText("/etc/group")?.toString("utf8") ?? "",
    libraries,
    dpkg: dpkgOf(tree, fileText),
  };
}

/**
 * The base's installed Debian packages, from the status file and the status.d files as the stacked layers leave
 * them (the tree has applied whiteouts, and `fileText` gives the content of the layer that wrote a file last).
 */
export function dpkgOf(tree: FsTree, fileText: (name: string) => Buffer | undefined): DebianPackages | null {
  const texts: string[] = [];
  const database: string[] = [];
  const status = fileText(DPKG_STATUS);
  if (status) {
    texts.push(status.toString("utf8"));
    database.push(DPKG_STATUS);
  }
  const folder = tree.resolve(DPKG_STATUS_D.slice(0, -1));
  const entries = folder?.kind === "directory" ? [...(folder.children?.keys() ?? [])].sort() : [];
  const parts = entries
    .filter((name) => !name.endsWith(".md5sums"))
    .flatMap((name) => fileText(`${DPKG_STATUS_D}${name}`)?.toString("utf8") ?? []);
  if (parts.length > 0) {
    texts.push(...parts);
    database.push(DPKG_STATUS_D.slice(0, -1));
  }
  if (database.length === 0) return null;
  const aptGet = ["/usr/bin/apt-get", "/bin/apt-get"].some((file) => tree.resolve(file)?.kind === "file");
  const stanzas = texts.flatMap(parseDpkgStatus);
  return { installed: installedPackages(stanzas), provided: providedPackages(stanzas), database, aptGet };
}
