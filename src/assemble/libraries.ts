// Whether every shared library the assembled packages need will be found in the image, decided before anything is written.
import { type ElfInfo, isElfMagic, readElf } from "../image/elf.js";
import { FsTree } from "../image/fs-tree.js";
import { type MissingLibrary, missingFor, sitePackagesOf } from "../image/libraries.js";
import type { LayerTree } from "./layer.js";

/**
 * What the base gives the dynamic loader, as plain data kept with the base's facts (base-cache.ts), so that a
 * rebuild checks libraries without reading the base again.
 */
export interface BaseLibraries {
  /** Every path whose name has `.so` in it and that resolves to a file (through symlinks and hard links) */
  files: string[];
  /** Symlinks to folders, such as `/lib` → `usr/lib` on a merged-/usr system: a lookup through them resolves */
  folderLinks: [string, string][];
  /** Folders named by /etc/ld.so.conf and /etc/ld.so.conf.d/*.conf */
  ldConfigDirs: string[];
  /** LD_LIBRARY_PATH from the base's config */
  ldLibraryPath: string[];
  /** VERSION_CODENAME from os-release: which Debian release's package names to suggest */
  release?: string;
}

/** What one package (or the project) installs, for the check: kept per wheel in the cache. */
export interface InstalledLibraries {
  /** Each ELF file it installs and what the loader needs for it */
  elves: { file: string; elf: ElfInfo }[];
  /** Files another ELF file may find by name: shared-library names and ELF files */
  files: string[];
  links: [string, string][];
}

const LIBRARY_NAME = /\.so(\.|$)/;

/** Read the base's library search space from its merged filesystem. */
export function baseLibrariesOf(
  tree: FsTree,
  context: Omit<BaseLibraries, "files" | "folderLinks">,
): BaseLibraries {
  const files: string[] = [];
  const folderLinks: [string, string][] = [];
  tree.walk(tree.root, (node, at) => {
    if (node.kind === "symlink" && tree.resolve(at)?.kind === "directory")
      folderLinks.push([at, node.linkname]);
    else if (node.kind !== "directory" && LIBRARY_NAME.test(node.name) && tree.resolve(at)?.kind === "file")
      files.push(at);
    return undefined;
  });
  return { files, folderLinks, ...context };
}

/** The ELF files in a layer tree and the library files it offers. */
export function librariesOf(tree: LayerTree): InstalledLibraries {
  const result: InstalledLibraries = { elves: [], files: [], links: [] };
  for (const entry of tree.sorted()) {
    if (entry.type === "symlink") {
      result.links.push([entry.path, entry.linkname ?? ""]);
      continue;
    }
    if (entry.type !== "file" || !entry.data) continue;
    const elf = isElfMagic(entry.data) ? readElf(entry.data) : undefined;
    if (elf) result.elves.push({ file: entry.path, elf });
    if (elf || LIBRARY_NAME.test(entry.path.slice(entry.path.lastIndexOf("/") + 1)))
      result.files.push(entry.path);
  }
  return result;
}

export interface PackageLibraries {
  /** `pyodbc 5.5.0`, or the project's name and version */
  label: string;
  libraries: InstalledLibraries;
}

export interface PackageProblem {
  label: string;
  missing: MissingLibrary[];
}

/**
 * The libraries each package needs that neither the base, nor its own bundled folder (auditwheel's
 * `<pkg>.libs`, RPATH/RUNPATH with $ORIGIN), nor another installed package provides. The lookup is
 * `couplet inspect`'s own (image/libraries.ts) on the image's future filesystem, so an image that passes here
 * passes inspect's missing-library check.
 */
export function missingLibraries(base: BaseLibraries, packages: PackageLibraries[]): PackageProblem[] {
  const tree = new FsTree();
  for (const [link, target] of base.folderLinks) tree.set(link, "symlink", 0, target, 0);
  for (const file of base.files) tree.set(file, "file", 0, "", 0);
  for (const { libraries } of packages) {
    for (const file of libraries.files) tree.set(file, "file", 0, "", 1);
    for (const [link, target] of libraries.links) tree.set(link, "symlink", 0, target, 1);
  }
  const context = {
    tree,
    ldConfigDirs: base.ldConfigDirs,
    ldLibraryPath: base.ldLibraryPath,
    release: base.release,
  };
  const problems: PackageProblem[] = [];
  for (const { label, libraries } of packages) {
    const missing = libraries.elves.flatMap(({ file, elf }) => missingFor(file, elf, context));
    if (missing.length > 0) problems.push({ label, missing });
  }
  return problems;
}

/** A file as a user knows it: relative to site-packages when it is inside, else its path in the image. */
function shown(file: string): string {
  const site = sitePackagesOf(file);
  return site ? file.slice(site.length + 1) : file;
}

/** `pyodbc 5.5.0: pyodbc.cpython-311-x86_64-linux-gnu.so needs libodbc.so.2 (Debian package libodbc2), which the base lacks`. */
export function describeProblem(problem: PackageProblem): string {
  const byFile = new Map<string, string[]>();
  for (const item of problem.missing) {
    const needs = item.debianPackage ? `${item.needed} (Debian package ${item.debianPackage})` : item.needed;
    byFile.set(item.file, [...(byFile.get(item.file) ?? []), needs]);
  }
  const parts = [...byFile].map(
    ([file, needs]) => `${shown(file)} needs ${needs.join(", ")}, which the base lacks`,
  );
  return `${problem.label}: ${parts.join("; ")}`;
}

/** The Debian packages that would supply what is missing, and the sonames no table names. */
export function debianPackagesFor(problems: PackageProblem[]): { packages: string[]; unknown: string[] } {
  const packages = new Set<string>();
  const unknown = new Set<string>();
  for (const item of problems.flatMap((problem) => problem.missing))
    if (item.debianPackage) packages.add(item.debianPackage);
    else unknown.add(item.needed);
  return { packages: [...packages].sort(), unknown: [...unknown].sort() };
}
