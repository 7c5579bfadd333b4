// Local stand-ins for the official python images (no registry here): made once by scripts/make-base-image, cached.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const script = fileURLToPath(new URL("../../scripts/make-base-image", import.meta.url));

export type Debian = "bookworm" | "trixie";
export type Flavor = "slim" | "full";
export interface BaseImageOptions {
  debian: Debian;
  /** "slim" stands for python:X-slim-<debian>, "full" for python:X-<debian> (compilers and -dev headers). */
  flavor: Flavor;
  /**
   * amd64 (the default) or arm64, made under qemu emulation; "amd64,arm64" gives a manifest list over both, as
   * the official python images are: `FROM` it with `--platform` picks each platform's image.
   */
  arch?: "amd64" | "arm64" | "amd64,arm64";
}

/** The Debian release whose own CPython is the given minor version ("3.11" → bookworm, "3.13" → trixie). */
export function debianForPython(version: string): Debian {
  const minor = version.split(".").slice(0, 2).join(".");
  if (minor === "3.11") return "bookworm";
  if (minor === "3.13") return "trixie";
  throw new Error(
    `no Debian release ships CPython ${version} as its python3 (only 3.11: bookworm, 3.13: trixie)`,
  );
}

async function make(args: string[]): Promise<string> {
  // The first call debootstraps (minutes); the script serializes concurrent callers with a file lock.
  const { stdout } = await run(script, args, { maxBuffer: 16 * 1024 * 1024, timeout: 20 * 60_000 });
  return stdout.trim();
}

/** A buildah image reference usable as `--build-arg PYTHON_IMAGE=<ref>` (created and imported if missing). */
export function ensureBaseImage({ debian, flavor, arch }: BaseImageOptions): Promise<string> {
  return make([...(arch ? ["--arch", arch] : []), debian, flavor]);
}

/** Path of the same image's root filesystem as a tarball, for `docker import <path> <tag>`. */
export function ensureBaseTarball({ debian, flavor, arch }: BaseImageOptions): Promise<string> {
  return make(["--tarball", ...(arch ? ["--arch", arch] : []), debian, flavor]);
}

/**
 * The `docker import` options that give an imported tarball the same configuration as the buildah image
 * (docker import drops the config): pass as `docker import <changes...> <tarball> <tag>`.
 */
export function dockerImportChanges(): string[] {
  const bundle = "/etc/ssl/certs/ca-certificates.crt";
  const env = {
    PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    LANG: "C.UTF-8",
    SSL_CERT_FILE: bundle,
    REQUESTS_CA_BUNDLE: bundle,
    PIP_CERT: bundle,
  };
  const changes = Object.entries(env).flatMap(([k, v]) => ["--change", `ENV ${k}=${v}`]);
  return [...changes, "--change", 'CMD ["python3"]'];
}
