// The build plan: plain, JSON-serializable data that says what the Dockerfile will do and why.
import type { DebianRelease } from "../project/native.js";
import type { Platform } from "../project/platform.js";

export const STRATEGIES = ["optimal", "full", "slim", "layered", "multistage", "slim-buildkit"] as const;
export type StrategyName = (typeof STRATEGIES)[number];

export interface PlanOptions {
  strategy?: StrategyName;
  /** Force a CPython minor version ("3.12") instead of choosing one */
  python?: string;
  poetryVersion?: string;
  /** The container command, exec form */
  cmd?: string[];
  /** Default value of ARG PYTHON_IMAGE (the runtime base) */
  baseImage?: string;
  /** Render cache mounts (`RUN --mount=type=cache`); false for builders without BuildKit */
  cacheMounts?: boolean;
  /** Platforms the image is built for (default linux/amd64): wheels and markers are checked on each */
  platforms?: Platform[];
  /** The `# syntax=` line: false for none, a string for that frontend (beats [tool.couplet] syntax) */
  syntax?: string | false;
  /**
   * The engine that builds this Dockerfile right away (couplet build, bench), when its own Dockerfile frontend
   * reads everything couplet writes: the `# syntax=` line is then left out unless the user asked for one.
   */
  builtinFrontend?: boolean;
  /**
   * The Debian release the image runs on when it is known, not chosen (assemble reads the base's os-release):
   * the runtime packages take that release's names (trixie's libpcre2-8-0 where bookworm has libpcre3)
   */
  debian?: DebianRelease;
}

export interface PackageToCompile {
  name: string;
  version: string;
  /** e.g. "only an sdist is locked" */
  reason: string;
  /** The platforms ("linux/arm64") on which it compiles for this reason */
  platforms: string[];
}

export interface Plan {
  schemaVersion: 1;
  strategy: StrategyName;
  /** Platforms the plan was made for, e.g. ["linux/amd64"] */
  platforms: string[];
  project: {
    name: string;
    version: string | undefined;
    description: string | undefined;
    authors: string[];
    license: string | undefined;
    url: string | undefined;
    packageMode: boolean;
    /** Relative paths of the root package's sources, copied after the dependency layer */
    sourcePaths: string[];
    /** Why these paths (for `couplet plan`) */
    sourceReason: string;
    /** Files the root install needs besides pyproject.toml and poetry.lock (readme, extra `copy`) */
    installFiles: string[];
  };
  python: {
    /** CPython minor version, e.g. "3.11" */
    version: string;
    /** Debian release of the base image */
    debian: string;
    constraint: string;
    constraintSource: string;
    /** Why this version: one sentence for `couplet plan` */
    reason: string;
    /** Newer versions the constraint allows but were not chosen, and why */
    rejected: { version: string; reason: string }[];
  };
  poetry: { version: string; source: string };
  baseImage: {
    /** ARG that selects the base image */
    argument: "PYTHON_IMAGE";
    /** Default runtime base, e.g. "python:3.11-slim-bookworm" */
    runtime: string;
    /** Default builder base (the full image for the `full` strategy) */
    builder: string;
  };
  install: {
    /** Groups installed in production (always starts with "main") */
    groups: string[];
    /** Groups left out of production */
    excludedGroups: string[];
    /** Groups added in the development target */
    developmentGroups: string[];
    extras: string[];
    /**
     * Path dependencies, copied into the builder before the dependency install (each its own layer, keyed
     * on its own content) and installed non-editable where the lock stage can make them so.
     */
    paths: { name: string; path: string; develop: boolean }[];
    /**
     * Installed packages that require the root package (plugins): the reduced pyproject keeps the root's
     * version, or `poetry install --no-root` cannot solve.
     */
    rootRequiredBy: string[];
    /**
     * Private package indexes the lock takes packages from: each one's credentials are build secrets, mounted
     * in the installs that reach it (`production`: the dependency install; every one: the development install).
     */
    indexes: {
      name: string;
      url: string;
      usernameEnv: string;
      passwordEnv: string;
      /** A production package comes from it */
      production: boolean;
    }[];
    /** Git dependencies fetched over SSH: those installs mount the build's SSH agent and a known_hosts secret */
    sshGit: { package: string; url: string; host: string; production: boolean }[];
  };
  native: {
    compile: PackageToCompile[];
    /** Debian packages for the builder stage (empty: no compiler at all): every platform's, together */
    buildPackages: string[];
    /**
     * The same per platform ("linux/arm64" → gcc ...): a multi-platform build installs compilers only on the
     * platforms that compile something (one lacks a wheel the other has), keyed like `platforms`.
     */
    buildPackagesByPlatform: Record<string, string[]>;
    /** Debian packages for the runtime stage (shared libraries) */
    runtimePackages: string[];
    /**
     * Why each runtime package is there: the Python packages that want it and where that is written (couplet's
     * table, or a pyproject.toml line), e.g. libpq5 → ["psycopg 3.2.3: psycopg 3 is pure Python and loads ..."]
     */
    runtimeReasons: Record<string, string[]>;
  };
  /** `entrypoint` form for a console script (arguments pass through), `cmd` for a full command line */
  entrypoint:
    | {
        command: string[];
        form: "entrypoint" | "cmd";
        source: string;
        /** What detection found that led to this command (empty for a command the user gave) */
        found: string[];
        /** How to run it differently, for a detected command whose usual variants need arguments couplet cannot know */
        override?: string;
      }
    | undefined;
  /** Environment the app runs with (e.g. DJANGO_SETTINGS_MODULE for production settings) */
  env: Record<string, string>;
  expose: number[];
  /** Folders under the workdir the app user may write (owned by it, declared as volumes); the rest stays read-only */
  writable: string[];
  layout: {
    workdir: string;
    venv: string;
    poetryHome: string;
    user: { name: string; uid: number } | undefined;
  };
  features: {
    /** Separate builder and runtime stages */
    multiStage: boolean;
    /** A `development` target with the dev groups */
    developmentTarget: boolean;
    /** BuildKit cache mounts for pip, Poetry and apt */
    cacheMounts: boolean;
    /** Poetry in its own venv (optimal) or pip-installed into the system interpreter (seed presets) */
    poetryIsolated: boolean;
    /** Key the dependency layer on what the lock resolves to (a normalized pyproject), not on pyproject bytes */
    lockKeyedDependencies: boolean;
    /** Install dependencies (--no-root) before copying sources */
    dependenciesBeforeCode: boolean;
    /** Install only the production groups */
    excludeDevGroups: boolean;
    /** Remove caches in the same layer (when there is no cache mount) */
    cleanCaches: boolean;
    /** The builder starts from the full `python` image (the seed's `full` variant) instead of slim */
    fullBuilderImage: boolean;
    /** Compile the venv's and the code's bytecode at build time (hash-based .pyc, reproducible) */
    compileBytecode: boolean;
  };
  /** The `# syntax=` parser directive: the frontend image BuildKit pulls to read the file, or none */
  syntax: { frontend: string | undefined; reason: string };
  labels: Record<string, string>;
  dockerignore: string[];
  warnings: string[];
}

export interface RenderedFiles {
  dockerfile: string;
  dockerignore: string;
}
