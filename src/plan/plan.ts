// Turn a Project into a Plan: every decision the Dockerfile embodies, with the reason for it.
import { valid } from "@renovatebot/pep440";
import { quote, UserError } from "../errors.js";
import { normalizeName } from "../project/names.js";
import { type DebianRelease, defaultNativeNeed, nativeNeedFor } from "../project/native.js";
import { DEFAULT_PLATFORM, type Platform, platformName } from "../project/platform.js";
import { FALLBACK_POETRY_VERSION, lockPoetry } from "../project/poetry-version.js";
import { buildNeed, productionPackages, productionSelection, type Selection } from "../project/selection.js";
import { lockedIndexes, sshGitSources } from "../project/sources.js";
import type { LockedPackage, NativeNeed, Project } from "../project/types.js";
import { checkContextPath } from "../project/values.js";
import { besidePackage, codeToCopy } from "./code.js";
import { chooseCommand } from "./command.js";
import { choosePython, selectionOn } from "./python.js";
import { type CPythonRelease, fullImage, slimImage } from "./pythons.js";
import { staticFilesWarning } from "./static-files.js";
import { parseStrategy, STRATEGY_TABLE } from "./strategies.js";
import type { PackageToCompile, Plan, PlanOptions } from "./types.js";

const WORKDIR = "/app";
const CACHE_MOUNTS_OFF = "cache mounts are off";
const POETRY_UNNAMED = "poetry.lock names no Poetry version";

/**
 * The warnings about the image, not about how the Dockerfile builds it (cache mounts, the Poetry it installs):
 * what `couplet assemble`, which runs neither, says too.
 */
export function imageWarnings(planned: Plan): string[] {
  return planned.warnings.filter((w) => !w.startsWith(CACHE_MOUNTS_OFF) && !w.startsWith(POETRY_UNNAMED));
}

/** What every generated .dockerignore keeps out of the build context. */
const DOCKERIGNORE = [
  ".git",
  ".hg",
  ".svn",
  "**/.venv",
  "**/venv",
  "**/__pycache__",
  "**/*.py[cod]",
  "**/.pytest_cache",
  "**/.mypy_cache",
  "**/.ruff_cache",
  "**/.tox",
  "**/.nox",
  "**/.coverage",
  "**/htmlcov",
  "**/.ipynb_checkpoints",
  "**/node_modules",
  "**/*.egg-info",
  "dist",
  "build",
  "**/.env",
  "**/.env.*",
  "**/*.bak",
  ".idea",
  ".vscode",
  ".DS_Store",
  "Dockerfile*",
  ".dockerignore",
];

function chooseGroups(
  project: Project,
  excludeDev: boolean,
): Omit<Plan["install"], "paths" | "rootRequiredBy" | "indexes" | "sshGit"> {
  const production = productionSelection(project);
  const others = project.groups.filter((group) => group.name !== "main");
  // Without exclusion, `poetry install` takes every non-optional group, as the seed's variants did.
  const groups = excludeDev
    ? production.groups
    : ["main", ...others.filter((g) => !g.optional || production.groups.includes(g.name)).map((g) => g.name)];
  return {
    groups: [...new Set(groups)],
    excludedGroups: others.map((g) => g.name).filter((name) => !groups.includes(name)),
    developmentGroups: others.map((g) => g.name),
    extras: production.extras,
  };
}

/** Per platform, the production packages and the ones among them that compile; one entry per package and reason. */
function compileList(
  project: Project,
  base: Omit<Selection, "python" | "platform">,
  release: CPythonRelease,
  platforms: Platform[],
): { production: LockedPackage[]; compile: PackageToCompile[] } {
  const production = new Map<string, LockedPackage>();
  const compile = new Map<string, PackageToCompile>();
  for (const platform of platforms) {
    const selection = selectionOn(base, release, platform);
    for (const pkg of productionPackages(project, selection)) {
      production.set(`${pkg.name} ${pkg.version}`, pkg);
      const need = buildNeed(pkg, selection);
      if (need.kind === "wheel") continue;
      const key = `${pkg.name} ${pkg.version} ${need.reason}`;
      const entry = compile.get(key) ?? {
        name: pkg.name,
        version: pkg.version,
        reason: need.reason,
        platforms: [],
      };
      entry.platforms.push(platformName(platform));
      compile.set(key, entry);
    }
  }
  return {
    production: [...production.values()],
    compile: [...compile.values()].sort((a, b) => a.name.localeCompare(b.name)),
  };
}

function nativePackages(
  project: Project,
  production: LockedPackage[],
  compile: PackageToCompile[],
  debian: DebianRelease,
  platforms: string[],
): Plan["native"] {
  const build = new Set<string>();
  const runtime = new Set<string>();
  const reasons = new Map<string, string[]>();
  const want = (names: string[], pkg: LockedPackage, need: NativeNeed, compiled: boolean) => {
    const why = runtimeReason(pkg, need, compiled);
    for (const name of names) {
      runtime.add(name);
      reasons.set(name, [...(reasons.get(name) ?? []), why]);
    }
  };
  const perPlatform = new Map(platforms.map((p) => [p, new Set<string>()]));
  const compiledOn = new Map<string, Set<string>>();
  for (const c of compile) {
    const on = compiledOn.get(c.name) ?? new Set<string>();
    for (const p of c.platforms) on.add(p);
    compiledOn.set(c.name, on);
  }
  for (const pkg of production) {
    const need = nativeNeedFor(pkg.name, project, debian);
    const on = compiledOn.get(pkg.name);
    if (on) {
      // Unknown source builds get a C toolchain: the common case, and harmless in a builder stage.
      const packages = (need ?? defaultNativeNeed()).build;
      for (const name of packages) build.add(name);
      for (const p of on) for (const name of packages) perPlatform.get(p)?.add(name);
      if (need) want(need.runtime, pkg, need, true);
    } else if (need?.runtimeWithWheel && !bundledByWheel(need.unlessInstalled, production, compiledOn)) {
      want(need.runtime, pkg, need, false);
    }
  }
  const sorted = [...runtime].sort();
  return {
    compile,
    buildPackages: [...build].sort(),
    buildPackagesByPlatform: Object.fromEntries([...perPlatform].map(([p, names]) => [p, [...names].sort()])),
    runtimePackages: sorted,
    runtimeReasons: Object.fromEntries(sorted.map((name) => [name, reasons.get(name) ?? []])),
  };
}

/**
 * Why a runtime package is wanted, for messages that must say where to change it: the Python package, and the
 * pyproject.toml line of a `[tool.couplet.native]` entry or couplet's table with its note.
 */
function runtimeReason(pkg: LockedPackage, need: NativeNeed, compiled: boolean): string {
  const who = `${pkg.name} ${pkg.version}${compiled ? " (compiled from source)" : ""}`;
  if (need.declaredAt !== undefined) {
    const own = `[tool.couplet.native.${normalizeName(pkg.name)}] runtime, pyproject.toml line ${need.declaredAt}`;
    return `${who}: ${own}${need.note && !need.note.startsWith("from [tool.couplet") ? ` (${need.note})` : ""}`;
  }
  return `${who}: ${need.note ?? "couplet's native-needs table"}`;
}

/** A package whose wheel bundles the libraries (psycopg-binary's libpq) is installed, and compiled nowhere. */
function bundledByWheel(
  names: string[] | undefined,
  production: LockedPackage[],
  compiledOn: Map<string, Set<string>>,
): boolean {
  return (names ?? []).some(
    (name) => !compiledOn.has(name) && production.some((pkg) => normalizeName(pkg.name) === name),
  );
}

function labels(project: Project): Record<string, string> {
  const out: Record<string, string> = { "org.opencontainers.image.title": project.name };
  if (project.description) out["org.opencontainers.image.description"] = project.description;
  if (project.version) out["org.opencontainers.image.version"] = project.version;
  if (project.license) out["org.opencontainers.image.licenses"] = project.license;
  if (project.authors.length) out["org.opencontainers.image.authors"] = project.authors.join(", ");
  const url = project.urls.homepage ?? project.urls.repository;
  if (url) out["org.opencontainers.image.url"] = url;
  if (project.urls.repository) out["org.opencontainers.image.source"] = project.urls.repository;
  if (project.urls.documentation) out["org.opencontainers.image.documentation"] = project.urls.documentation;
  return out;
}

function poetryVersion(project: Project, option: string | undefined): Plan["poetry"] {
  if (option !== undefined) {
    if (!valid(option)) {
      throw new UserError(`--poetry-version "${option}" is not a version`, { hint: "for example 1.8.5" });
    }
    return { version: option, source: "--poetry-version" };
  }
  const chosen = lockPoetry(project.lock);
  if (chosen) return { version: chosen.version, source: chosen.source };
  return {
    version: FALLBACK_POETRY_VERSION,
    source: "couplet's default (poetry.lock names no Poetry version)",
  };
}

/**
 * A path dependency (`{path = "../lib"}`) outside the project folder is outside the build context: no
 * Dockerfile can copy it, and `poetry install` in the image would fail late. Refused up front, with the fixes.
 */
function refuseOutsidePaths(project: Project): void {
  for (const dep of project.pathDependencies) {
    const outside =
      !dep.inContext ||
      checkContextPath(dep.path)?.reason === "points outside the project folder" ||
      dep.path.startsWith("/");
    if (!outside) continue;
    throw new UserError(
      `${dep.name} is a path dependency at ${quote(dep.path)}, outside the project folder, so no image build can see it`,
      {
        location: { file: project.lock.path },
        hint: "move it inside the project folder (and relock), or build from a folder that holds both (a wider context, with -f for the Dockerfile), or pass it as a named context (`--build-context` on BuildKit or buildah) copied with COPY --from",
      },
    );
  }
}

/**
 * Folders the app user may write, relative to the workdir: `[tool.couplet] writable`, else `data` for a
 * service (apps that create ./data at start-up die under a read-only workdir); none for a console script,
 * whose every run would leave an anonymous volume behind.
 */
function writableDirs(project: Project, entrypoint: Plan["entrypoint"]): string[] {
  return project.couplet.writable ?? (entrypoint?.form === "entrypoint" ? [] : ["data"]);
}

/** Installed packages that depend on the root package itself, as plugins of a plugin host do. */
function requiringRoot(project: Project, installed: LockedPackage[]): string[] {
  const root = normalizeName(project.name);
  return installed.filter((pkg) => pkg.dependencies.includes(root)).map((pkg) => pkg.name);
}

/**
 * The indexes and SSH git repositories the installs reach. Production's come from the production packages;
 * the development target installs every group, so every locked package counts there.
 */
function credentialSources(
  project: Project,
  production: LockedPackage[],
): Pick<Plan["install"], "indexes" | "sshGit"> {
  const inProduction = new Set(production.map((pkg) => pkg.name));
  const indexes = lockedIndexes(project.lock.packages).map(({ packages, ...index }) => ({
    ...index,
    production: packages.some((name) => inProduction.has(name)),
  }));
  const sshGit = sshGitSources(project.lock.packages).map((git) => ({
    ...git,
    production: inProduction.has(git.package),
  }));
  return { indexes, sshGit };
}

export const DEFAULT_FRONTEND = "docker/dockerfile:1";

/**
 * The `# syntax=` line. BuildKit pulls the image it names from a registry before reading the file, which
 * fails on machines without registry access; the frontend built into buildah, podman and Docker 20.10+ reads
 * everything couplet writes, so leaving the line out trades a pinned frontend for builds that work offline.
 */
function chooseSyntax(project: Project, options: PlanOptions, mounts: boolean): Plan["syntax"] {
  const asked = options.syntax ?? project.couplet.syntax;
  const source = options.syntax !== undefined ? "--syntax/--no-syntax" : "[tool.couplet] syntax";
  if (typeof asked === "string") return { frontend: asked, reason: `frontend ${asked}, from ${source}` };
  if (asked === false)
    return {
      frontend: undefined,
      reason: `left out (${source === "--syntax/--no-syntax" ? "--no-syntax" : "[tool.couplet] syntax = false"}): the engine's built-in Dockerfile frontend reads this file (Docker needs 20.10 or newer; buildah and podman any version)`,
    };
  if (!mounts) return { frontend: undefined, reason: "none needed: the file uses no BuildKit-only syntax" };
  if (asked === undefined && options.builtinFrontend)
    return {
      frontend: undefined,
      reason: `left out of this build: the engine reads RUN --mount with its built-in frontend, and fetching ${DEFAULT_FRONTEND} would need Docker Hub (--syntax ${DEFAULT_FRONTEND} keeps it)`,
    };
  return {
    frontend: DEFAULT_FRONTEND,
    reason: `${DEFAULT_FRONTEND}, which BuildKit fetches from Docker Hub (without registry access: --no-syntax, or syntax = false under [tool.couplet])`,
  };
}

export function plan(project: Project, options: PlanOptions = {}): Plan {
  const strategy = parseStrategy(options.strategy ?? "optimal");
  const table = STRATEGY_TABLE[strategy];
  if (project.lockFresh === false) {
    throw new UserError("poetry.lock is out of date with pyproject.toml (its content-hash does not match)", {
      location: { file: project.lock.path },
      hint: `run \`${project.lock.generatedBy?.startsWith("1.") ? "poetry lock --no-update" : "poetry lock"}\` and commit the result`,
    });
  }
  refuseOutsidePaths(project);
  const features = {
    ...table.features,
    cacheMounts: table.features.cacheMounts && options.cacheMounts !== false,
  };
  const chosen = chooseGroups(project, features.excludeDevGroups);
  const platforms = options.platforms?.length ? options.platforms : [DEFAULT_PLATFORM];
  const base = { groups: chosen.groups, extras: chosen.extras };
  const python = choosePython(project, base, platforms, options.python);
  const { production, compile } = compileList(project, base, python.release, platforms);
  const install: Plan["install"] = {
    ...chosen,
    paths: project.pathDependencies.map(({ name, path, develop }) => ({ name, path, develop })),
    rootRequiredBy: project.packageMode ? requiringRoot(project, production) : [],
    ...credentialSources(project, production),
  };
  const native = nativePackages(
    project,
    production,
    compile,
    options.debian ?? python.release.debian,
    platforms.map(platformName),
  );
  // Poetry's git client (dulwich, or git itself) runs `ssh` for an SSH url; the slim image has none.
  if (install.sshGit.length) {
    const withSsh = (list: string[]) => [...new Set([...list, "openssh-client"])].sort();
    native.buildPackages = withSsh(native.buildPackages);
    for (const [platform, list] of Object.entries(native.buildPackagesByPlatform))
      native.buildPackagesByPlatform[platform] = withSsh(list);
  }
  const poetry = poetryVersion(project, options.poetryVersion);
  const warnings: string[] = [];
  const command = chooseCommand(project, options.cmd, new Set(production.map((pkg) => pkg.name)));
  warnings.push(...command.warnings);
  if (features.cacheMounts === false && table.features.cacheMounts) {
    warnings.push(
      `${CACHE_MOUNTS_OFF} (the builder has no BuildKit): caches are removed in the same layer instead`,
    );
  }
  if (options.poetryVersion === undefined && lockPoetry(project.lock) === undefined) {
    warnings.push(`${POETRY_UNNAMED}; using Poetry ${poetry.version} (pass --poetry-version)`);
  }
  if (project.rootPackageMissing) {
    warnings.push(
      `no package named ${project.name} in the project (no [tool.poetry] packages, no folder or module of that name): Poetry cannot install it as the root package, so it is treated as an application (--no-root, the code copied as with package-mode = false); set package-mode = false, or packages = [...], to say so`,
    );
  }
  const beside = besidePackage(project);
  const code = project.packageMode
    ? {
        paths: [...project.sourcePaths, ...(beside?.paths ?? [])],
        reason: `installed as the root package after the dependencies${beside ? `; beside it, ${beside.reason}` : ""}`,
      }
    : codeToCopy(project, command.entrypoint, command.env);
  const sourcePaths = code.paths;
  const user = table.nonRoot ? { name: "app", uid: 10001 } : undefined;
  const writable = user ? writableDirs(project, command.entrypoint) : [];
  const uncollected = staticFilesWarning(project, new Set(production.map((pkg) => normalizeName(pkg.name))), {
    entrypoint: command.entrypoint,
    env: command.env,
    writable,
    workdir: WORKDIR,
  });
  if (uncollected) warnings.push(uncollected);
  const installFiles = project.packageMode
    ? [...new Set([...project.readme, ...project.licenseFiles, ...project.couplet.copy])]
    : [];
  const runtime = options.baseImage ?? slimImage(python.release);
  return {
    schemaVersion: 1,
    strategy,
    platforms: platforms.map(platformName),
    project: {
      name: project.name,
      version: project.version,
      description: project.description,
      authors: project.authors,
      license: project.license,
      url: project.urls.homepage ?? project.urls.repository,
      packageMode: project.packageMode,
      sourcePaths,
      sourceReason: code.reason,
      installFiles,
    },
    python: {
      version: python.release.minor,
      debian: python.release.debian,
      constraint: project.python.constraint,
      constraintSource: project.python.source,
      reason: python.reason,
      rejected: python.rejected,
    },
    poetry,
    baseImage: {
      argument: "PYTHON_IMAGE",
      runtime,
      builder: features.fullBuilderImage ? (options.baseImage ?? fullImage(python.release)) : runtime,
    },
    install,
    native,
    entrypoint: command.entrypoint,
    env: command.env,
    expose: project.couplet.expose.length > 0 ? project.couplet.expose : command.expose,
    writable,
    layout: {
      workdir: WORKDIR,
      venv: `${WORKDIR}/.venv`,
      poetryHome: "/opt/poetry",
      user,
    },
    features,
    // Secret and SSH mounts are RUN --mount too: they need the same frontend as cache mounts.
    syntax: chooseSyntax(
      project,
      options,
      features.cacheMounts || install.indexes.length > 0 || install.sshGit.length > 0,
    ),
    labels: labels(project),
    dockerignore: DOCKERIGNORE,
    warnings,
  };
}
