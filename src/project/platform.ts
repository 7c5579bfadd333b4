// The platform an image is built for (linux/amd64, linux/arm64; glibc or musl), as wheel tags and markers see it.
import { UserError } from "../errors.js";

export type Arch = "amd64" | "arm64";
export type Libc = "glibc" | "musl";

export interface Platform {
  os: "linux";
  arch: Arch;
  /** The base image's C library: Debian's python images are glibc (manylinux wheels), Alpine's are musl (musllinux). */
  libc: Libc;
  /**
   * The base image's glibc as "2.36", which bounds the manylinux_2_X wheels it can load; undefined when not known,
   * and then every manylinux wheel of the architecture is taken to fit.
   */
  glibc?: string;
}

export const DEFAULT_PLATFORM: Platform = { os: "linux", arch: "amd64", libc: "glibc" };

/** glibc of the Debian releases the official python images are built on. */
export const DEBIAN_GLIBC: Record<"bookworm" | "trixie", string> = { bookworm: "2.36", trixie: "2.41" };

/** The machine name wheels and `platform_machine` markers use. */
export function machine(arch: Arch): "x86_64" | "aarch64" {
  return arch === "amd64" ? "x86_64" : "aarch64";
}

/** "linux/amd64", with "-musl" for Alpine-style images (no OCI spelling exists for the C library). */
export function platformName(platform: Platform): string {
  return `${platform.os}/${platform.arch}${platform.libc === "musl" ? "-musl" : ""}`;
}

const ARCHES: Record<string, Arch> = {
  amd64: "amd64",
  x86_64: "amd64",
  arm64: "arm64",
  "arm64/v8": "arm64",
  aarch64: "arm64",
};

/** One platform as `--platform` takes it: `linux/amd64`, `linux/arm64` (or `linux/arm64/v8`). */
export function parsePlatform(text: string): Platform {
  const match = /^linux\/(.+?)(-musl)?$/.exec(text.trim());
  const arch = match?.[1] ? ARCHES[match[1]] : undefined;
  if (!match || !arch)
    throw new UserError(`unknown platform "${text}"`, {
      hint: "couplet targets linux/amd64 and linux/arm64 (add -musl for an Alpine-based image)",
    });
  return { os: "linux", arch, libc: match[2] ? "musl" : "glibc" };
}

/** A comma-separated list (`linux/amd64,linux/arm64`), duplicates removed, order kept. */
export function parsePlatforms(text: string): Platform[] {
  const out: Platform[] = [];
  for (const part of text.split(",")) {
    if (part.trim() === "") continue;
    const platform = parsePlatform(part);
    if (!out.some((p) => platformName(p) === platformName(platform))) out.push(platform);
  }
  if (out.length === 0) throw new UserError("--platform is empty", { hint: "for example linux/amd64" });
  return out;
}
