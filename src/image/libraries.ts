// Check that every shared library an ELF file in the image needs (DT_NEEDED) can be found the way ld.so would find it.
import { readFileSync } from "node:fs";
import path from "node:path";
import { type ElfInfo, multiarchTriplet } from "./elf.js";
import type { FsTree } from "./fs-tree.js";

export interface MissingLibrary {
  /** The ELF file that needs it */
  file: string;
  /** The soname it needs */
  needed: string;
  /** The Debian package that ships the soname, for the image's release (or bookworm when unknown) */
  debianPackage?: string;
}

interface SonameTable {
  sonames: Record<string, Record<string, string>>;
}

let table: SonameTable | undefined;
function sonames(): SonameTable {
  table ??= JSON.parse(
    readFileSync(new URL("../../data/sonames.json", import.meta.url), "utf8"),
  ) as SonameTable;
  return table;
}

/** The Debian package providing a soname in a release ("bookworm", "trixie"); falls back to any release known. */
export function debianPackageFor(soname: string, release: string | undefined): string | undefined {
  const entry = sonames().sonames[soname];
  if (!entry) return undefined;
  return (release ? entry[release] : undefined) ?? entry.bookworm ?? entry.trixie;
}

export interface LibraryContext {
  tree: FsTree;
  /** Directories from /etc/ld.so.conf and /etc/ld.so.conf.d/*.conf */
  ldConfigDirs: string[];
  /** LD_LIBRARY_PATH from the image config's Env */
  ldLibraryPath: string[];
  /** VERSION_CODENAME from os-release */
  release: string | undefined;
}

function expandOrigin(entry: string, file: string): string {
  return entry.replace(/\$\{ORIGIN\}|\$ORIGIN/g, path.posix.dirname(file));
}

function found(tree: FsTree, dir: string, soname: string): boolean {
  const node = tree.resolve(path.posix.join(dir, soname));
  return node !== undefined && node.kind === "file";
}

/** The folder that holds site-packages (or dist-packages) for a path inside one, e.g. /app/.venv/lib/python3.11/site-packages. */
export function sitePackagesOf(file: string): string | undefined {
  const match = /^(.*?\/(?:site|dist)-packages)(?:\/|$)/.exec(file);
  return match?.[1];
}

/** auditwheel puts bundled libraries in `<pkg>.libs` folders next to the packages. */
function wheelLibDirs(tree: FsTree, sitePackages: string): string[] {
  const node = tree.get(sitePackages);
  if (!node?.children) return [];
  return [...node.children.values()]
    .filter((child) => child.kind === "directory" && child.name.endsWith(".libs"))
    .map((child) => `${sitePackages}/${child.name}`);
}

/** The libraries `file` needs that the image does not have, in ld.so's search order. */
export function missingFor(file: string, elf: ElfInfo, context: LibraryContext): MissingLibrary[] {
  const triplet = multiarchTriplet(elf.machine, elf.class);
  const system = [
    ...(triplet ? [`/lib/${triplet}`, `/usr/lib/${triplet}`] : []),
    ...(elf.class === 64 ? ["/lib64", "/usr/lib64"] : []),
    "/lib",
    "/usr/lib",
    ...context.ldConfigDirs,
  ];
  const own = [...(elf.runpath.length === 0 ? elf.rpath : []), ...context.ldLibraryPath, ...elf.runpath].map(
    (entry) => expandOrigin(entry, file),
  );
  const site = sitePackagesOf(file);
  // Libraries bundled by auditwheel are loaded by soname before the modules that need them; accept them
  // even where RUNPATH does not point (a lenient check: it never reports a library that ld.so finds).
  const bundled = site ? wheelLibDirs(context.tree, site) : [];
  const missing: MissingLibrary[] = [];
  for (const needed of elf.needed) {
    let ok: boolean;
    if (needed.includes("/")) ok = context.tree.resolve(needed)?.kind === "file";
    else ok = [...own, ...system, ...bundled].some((dir) => found(context.tree, dir, needed));
    if (!ok) {
      const debianPackage = debianPackageFor(needed, context.release);
      missing.push(debianPackage ? { file, needed, debianPackage } : { file, needed });
    }
  }
  return missing;
}

/** Directories named by ld.so.conf files (their `include` lines are expanded by the caller passing every file). */
export function parseLdConfig(text: string): string[] {
  return text
    .split("\n")
    .map((line) => line.replace(/#.*/, "").trim())
    .filter((line) => line.startsWith("/"));
}

/** The release's code name (VERSION_CODENAME) from an os-release file, which picks the Debian package names. */
export function osRelease(text: string | undefined): string | undefined {
  return text ? /^VERSION_CODENAME=("?)([^"\n]*)\1$/m.exec(text)?.[2] : undefined;
}
