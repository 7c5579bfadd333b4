// What a build's --platform asks of the engine: several platforms at once, and foreign ones under qemu emulation.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { UserError } from "../errors.js";
import type { BuildRequest, Engine } from "./types.js";

/** The architectures couplet builds for, in OCI spelling (the engine layer does not read project/'s platform type). */
export type Arch = "amd64" | "arm64";

/** The architecture of "linux/arm64" (or "linux/arm64/v8", "linux/amd64-musl"); undefined for one couplet does not build. */
export function platformArch(platform: string): Arch | undefined {
  const m = /^linux\/(amd64|x86_64|arm64|aarch64)(?:\/v8)?(?:-musl)?$/.exec(platform.trim());
  if (!m) return undefined;
  return m[1] === "amd64" || m[1] === "x86_64" ? "amd64" : "arm64";
}

/** The platforms of a request ("linux/amd64,linux/arm64"), as written; empty when it names none. */
export function requestPlatforms(request: Pick<BuildRequest, "platform">): string[] {
  return (request.platform ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean);
}

/** True when the request builds an image list (one image per platform) rather than one image. */
export function isMultiPlatform(request: Pick<BuildRequest, "platform">): boolean {
  return requestPlatforms(request).length > 1;
}

/**
 * Refuses, before anything is built, a multi-platform request the engine cannot carry out: one line with the way
 * through (buildx, or one platform per build).
 */
export function checkMultiPlatform(
  engine: Pick<Engine, "label" | "features">,
  request: Pick<BuildRequest, "platform">,
): void {
  if (!isMultiPlatform(request) || engine.features.multiPlatform) return;
  const platforms = requestPlatforms(request);
  throw new UserError(`${engine.label} cannot build several platforms at once (${platforms.join(", ")})`, {
    hint: `install docker-buildx (Debian: apt-get install docker-buildx), build with buildah or podman, or build one platform per run (--platform ${platforms[0]})`,
  });
}

/** One registered binfmt_misc handler: a program the kernel runs for binaries whose header matches. */
export interface BinfmtEntry {
  name: string;
  enabled: boolean;
  interpreter: string;
  /** Letters as the kernel prints them, e.g. "PF"; F (fix-binary) opens the interpreter at registration */
  flags: string;
  offset: number;
  /** Undefined for handlers that match a file-name extension */
  magic: Uint8Array | undefined;
  mask: Uint8Array | undefined;
}

function hexBytes(hex: string | undefined): Uint8Array | undefined {
  if (!hex || !/^(?:[0-9a-f]{2})+$/i.test(hex)) return undefined;
  return Uint8Array.from(hex.match(/../g) ?? [], (b) => Number.parseInt(b, 16));
}

/** One file of /proc/sys/fs/binfmt_misc, as the kernel writes it. */
export function parseBinfmtEntry(name: string, text: string): BinfmtEntry {
  const lines = text.split("\n");
  const field = (key: string) =>
    lines
      .find((l) => l.startsWith(`${key} `) || l.startsWith(`${key}:`))
      ?.replace(/^\S+:? ?/, "")
      .trim();
  return {
    name,
    enabled: lines[0]?.trim() === "enabled",
    interpreter: field("interpreter") ?? "",
    flags: field("flags") ?? "",
    offset: Number(field("offset") ?? 0),
    magic: hexBytes(field("magic")),
    mask: hexBytes(field("mask")),
  };
}

/** Every handler registered on this machine (none where binfmt_misc is not mounted or not readable). */
export async function readBinfmt(dir = "/proc/sys/fs/binfmt_misc"): Promise<BinfmtEntry[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const out: BinfmtEntry[] = [];
  for (const name of names) {
    if (name === "register" || name === "status") continue;
    const text = await readFile(join(dir, name), "utf8").catch(() => undefined);
    if (text !== undefined) out.push(parseBinfmtEntry(name, text));
  }
  return out;
}

// The ELF machine numbers (e_machine) of the architectures couplet builds for.
const ELF_MACHINE: Record<Arch, number> = { amd64: 0x3e, arm64: 0xb7 };

/** The first 20 bytes of a 64-bit little-endian Linux executable for this architecture (what binfmt matches). */
function elfHeader(arch: Arch): Uint8Array {
  const header = new Uint8Array(20);
  header.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  header[16] = 2; // ET_EXEC; handlers mask the low bit so PIE (ET_DYN) matches too
  header[18] = ELF_MACHINE[arch];
  return header;
}

function matches(entry: BinfmtEntry, header: Uint8Array): boolean {
  const { magic, mask, offset } = entry;
  if (!entry.enabled || !magic || offset + magic.length > header.length) return false;
  return magic.every(
    (byte, i) => ((header[offset + i] ?? 0) & (mask?.[i] ?? 0xff)) === (byte & (mask?.[i] ?? 0xff)),
  );
}

/** The machine's own architecture as Node names it, in OCI spelling (undefined for others). */
export function hostArch(arch: string = process.arch): Arch | undefined {
  if (arch === "x64") return "amd64";
  if (arch === "arm64") return "arm64";
  return undefined;
}

/**
 * Why this machine cannot run the binaries of a foreign platform the build asks for, or undefined when it can:
 * RUN steps of an arm64 image on an amd64 host run under qemu, which the kernel must know (binfmt_misc), and
 * in a chroot or container only when registered with the F flag (the interpreter is opened at registration,
 * not looked up inside the image).
 */
export function emulationProblem(
  platforms: string[],
  host: Arch | undefined,
  entries: BinfmtEntry[],
): string | undefined {
  if (!host || platforms.length === 0) return undefined;
  for (const name of platforms) {
    const arch = platformArch(name);
    if (!arch || arch === host) continue;
    const handler = entries.find((entry) => matches(entry, elfHeader(arch)));
    const setup =
      "install qemu-user-static and binfmt-support (Debian: apt-get install qemu-user-static binfmt-support), or build on a " +
      `${arch} machine`;
    if (!handler)
      return `this ${host} machine cannot run ${name} binaries: no qemu handler is registered in binfmt_misc; ${setup}`;
    if (!handler.flags.includes("F"))
      return `this ${host} machine's ${handler.name} handler for ${name} binaries lacks the F (fix-binary) flag, so RUN steps in a container cannot find ${handler.interpreter}; re-register it with the F flag (Debian's qemu-user-static does), or build on a ${arch} machine`;
  }
  return undefined;
}
