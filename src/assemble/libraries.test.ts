import path from "node:path";
import { describe, expect, it } from "vitest";
import { FsTree } from "../image/fs-tree.js";
import { analyze } from "../project/analyze.js";
import { fetchWheel } from "./download.js";
import type { LayerTree } from "./layer.js";
import {
  type BaseLibraries,
  baseLibrariesOf,
  describeProblem,
  type InstalledLibraries,
  librariesOf,
  missingLibraries,
} from "./libraries.js";
import { chooseWheels, productionPackages, selectionFor, type Target } from "./packages.js";
import { installWheel, type Venv } from "./wheel.js";

// Real wheels from PyPI, chosen from fixture locks made by real Poetry and kept in the download cache (checked
// against the lock's sha256) so that only the first run downloads them:
// - pyodbc 5.5.0 (test/fixtures/projects/odbc-client): its manylinux wheel leaves out unixODBC, so its module
//   needs libodbc.so.2 from the system;
// - psycopg2-binary 2.8.6 (test/fixtures/projects/amd64-only-wheels): auditwheel bundled libpq and its
//   dependencies in psycopg2_binary.libs/, found through RPATH $ORIGIN/../psycopg2_binary.libs.
const repo = new URL("../..", import.meta.url).pathname;
const cacheDir = process.env.COUPLET_CACHE ?? path.join(repo, ".cache");

function target(minor: number): Target {
  return {
    python: {
      command: "/usr/bin/python3",
      executable: `/usr/bin/python3.${minor}`,
      version: `3.${minor}`,
      major: 3,
      minor,
      abi: `cp3${minor}`,
    },
    architecture: "amd64",
    machine: "x86_64",
    glibc: { major: 2, minor: 36 },
  };
}

function venvFor(minor: number): Venv {
  return {
    root: "/app/.venv",
    sitePackages: `/app/.venv/lib/python3.${minor}/site-packages`,
    pythonName: `python3.${minor}`,
  };
}

/** The fixture's one locked wheel for CPython 3.minor on x86-64, installed into the venv. */
async function installed(fixture: string, minor: number): Promise<LayerTree> {
  const project = await analyze(path.join(repo, "test/fixtures/projects", fixture));
  const selection = selectionFor(project, target(minor));
  const [request] = chooseWheels(productionPackages(project, selection), selection, target(minor));
  if (!request) throw new Error(`${fixture}: no wheel chosen`);
  const { data } = await fetchWheel(request, cacheDir);
  return installWheel(data, request.filename, venvFor(minor));
}

const triplet = "/usr/lib/x86_64-linux-gnu";
/** A Debian bookworm base as the loader sees it: glibc and the C++ runtime in the multiarch folder, /lib → usr/lib. */
function bookworm(extra: Partial<BaseLibraries> = {}): BaseLibraries {
  const names = [
    "libc.so.6",
    "libm.so.6",
    "libpthread.so.0",
    "libdl.so.2",
    "libresolv.so.2",
    "libstdc++.so.6",
    "libgcc_s.so.1",
  ];
  return {
    files: [...names.map((name) => `${triplet}/${name}`), "/usr/lib64/ld-linux-x86-64.so.2"],
    folderLinks: [
      ["/lib", "usr/lib"],
      ["/lib64", "usr/lib64"],
    ],
    ldConfigDirs: ["/usr/local/lib"],
    ldLibraryPath: [],
    release: "bookworm",
    ...extra,
  };
}

/** One package's files without the ones under `prefix` (site-packages relative), and those alone. */
function split(libraries: InstalledLibraries, prefix: string): [InstalledLibraries, InstalledLibraries] {
  const inside = (file: string) => file.includes(`/site-packages/${prefix}`);
  return [
    {
      elves: libraries.elves.filter(({ file }) => !inside(file)),
      files: libraries.files.filter((file) => !inside(file)),
      links: [],
    },
    {
      elves: libraries.elves.filter(({ file }) => inside(file)),
      files: libraries.files.filter(inside),
      links: [],
    },
  ];
}

describe("missingLibraries (real manylinux wheels)", async () => {
  const pyodbc = librariesOf(await installed("odbc-client", 11));
  const psycopg2 = librariesOf(await installed("amd64-only-wheels", 9));

  it("reads the ELF files a wheel installs and what each needs", () => {
    expect(pyodbc.elves.map(({ file }) => file)).toEqual([
      "/app/.venv/lib/python3.11/site-packages/pyodbc.cpython-311-x86_64-linux-gnu.so",
    ]);
    expect(pyodbc.elves[0]?.elf.needed).toContain("libodbc.so.2");
    const module = psycopg2.elves.find(({ file }) =>
      file.endsWith("/psycopg2/_psycopg.cpython-39-x86_64-linux-gnu.so"),
    );
    expect(module?.elf.rpath).toEqual(["$ORIGIN/../psycopg2_binary.libs"]);
    // The module and the 15 libraries auditwheel bundled.
    expect(psycopg2.elves).toHaveLength(16);
  });

  it("refuses pyodbc on a base without unixODBC, naming the file, the soname and Debian's package", () => {
    const problems = missingLibraries(bookworm(), [{ label: "pyodbc 5.5.0", libraries: pyodbc }]);
    expect(problems.map(describeProblem)).toEqual([
      "pyodbc 5.5.0: pyodbc.cpython-311-x86_64-linux-gnu.so needs libodbc.so.2 (Debian package libodbc2), which the base lacks",
    ]);
  });

  it("passes pyodbc when the base has libodbc.so.2: in the multiarch folder, an ld.so.conf folder (also through /lib → usr/lib) or LD_LIBRARY_PATH", () => {
    const libodbc = (dir: string) => bookworm({ files: [...bookworm().files, `${dir}/libodbc.so.2`] });
    const check = (base: BaseLibraries) =>
      missingLibraries(base, [{ label: "pyodbc 5.5.0", libraries: pyodbc }]);
    expect(check(libodbc(triplet))).toEqual([]);
    expect(check(libodbc("/opt/odbc/lib"))).toHaveLength(1);
    expect(check({ ...libodbc("/opt/odbc/lib"), ldConfigDirs: ["/opt/odbc/lib"] })).toEqual([]);
    // An ld.so.conf entry spelled through the /lib → usr/lib link reaches the file's real folder.
    expect(check({ ...libodbc("/usr/lib/odbc"), ldConfigDirs: ["/lib/odbc"] })).toEqual([]);
    expect(check({ ...libodbc("/usr/lib/odbc"), ldConfigDirs: ["/lib/odbc"], folderLinks: [] })).toHaveLength(
      1,
    );
    expect(check({ ...libodbc("/opt/odbc/lib"), ldLibraryPath: ["/opt/odbc/lib"] })).toEqual([]);
  });

  it("passes psycopg2-binary: libpq and its dependencies come from psycopg2_binary.libs, the rest from the base", () => {
    expect(missingLibraries(bookworm(), [{ label: "psycopg2-binary 2.8.6", libraries: psycopg2 }])).toEqual(
      [],
    );
  });

  it("passes a module whose $ORIGIN-relative libraries another package of the venv installs", () => {
    const [module, bundled] = split(psycopg2, "psycopg2_binary.libs/");
    expect(
      missingLibraries(bookworm(), [
        { label: "psycopg2 2.8.6", libraries: module },
        { label: "bundled 1.0", libraries: bundled },
      ]),
    ).toEqual([]);
    // Without the bundled folder, the module's libpq is missing (and no Debian package has that name).
    const alone = missingLibraries(bookworm(), [{ label: "psycopg2 2.8.6", libraries: module }]);
    expect(alone.map(describeProblem)).toEqual([
      "psycopg2 2.8.6: psycopg2/_psycopg.cpython-39-x86_64-linux-gnu.so needs libpq-0929ced5.so.5.11, which the base lacks",
    ]);
  });

  it("refuses only the package that lacks a library, and each lack once per file", () => {
    const problems = missingLibraries(bookworm({ files: [] }), [
      { label: "pyodbc 5.5.0", libraries: pyodbc },
      { label: "psycopg2-binary 2.8.6", libraries: psycopg2 },
    ]);
    // With an empty base even libc is missing: every ELF file of both packages is named.
    expect(problems.map(({ label }) => label)).toEqual(["pyodbc 5.5.0", "psycopg2-binary 2.8.6"]);
    expect(problems[0]?.missing.map(({ needed }) => needed)).toEqual(pyodbc.elves[0]?.elf.needed);
  });
});

describe("baseLibrariesOf", () => {
  it("keeps library files reached through links, and folder links, but not other files", () => {
    const tree = new FsTree();
    tree.set("/usr/lib/x86_64-linux-gnu/libz.so.1.2.13", "file", 1, "", 0);
    tree.set("/usr/lib/x86_64-linux-gnu/libz.so.1", "symlink", 0, "libz.so.1.2.13", 0);
    tree.set("/usr/lib/x86_64-linux-gnu/libgone.so.1", "symlink", 0, "libgone.so.1.0", 0);
    tree.set("/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0", "link", 0, "/usr/bin/python3.11", 0);
    tree.set("/usr/bin/python3.11", "file", 1, "", 0);
    tree.set("/usr/share/doc/README.solib", "file", 1, "", 0);
    tree.set("/lib", "symlink", 0, "usr/lib", 0);
    const libraries = baseLibrariesOf(tree, { ldConfigDirs: [], ldLibraryPath: [] });
    expect(libraries.files.sort()).toEqual([
      "/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0",
      "/usr/lib/x86_64-linux-gnu/libz.so.1",
      "/usr/lib/x86_64-linux-gnu/libz.so.1.2.13",
    ]);
    expect(libraries.folderLinks).toEqual([["/lib", "usr/lib"]]);
  });
});
