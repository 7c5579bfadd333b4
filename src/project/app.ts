// Detect what a web project serves: the app objects in its sources, Django's settings, and which local modules reference which.
import { readdir, readFile, stat } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import { type CeleryApp, celeryApps } from "./celery.js";
import { detectScriptServers, type ScriptServer } from "./script-server.js";
import type { Script } from "./types.js";

/** An app object a server can load, with the file and line it was found on. */
export interface AppObject {
  framework: "django" | "fastapi" | "starlette" | "flask" | "quart" | "litestar";
  interface: "wsgi" | "asgi";
  /** `module:attribute`, e.g. "svc.api:app"; for a factory, the function to call */
  target: string;
  /** The target is a function that returns the app (`create_app()`) */
  factory: boolean;
  /** Where it was found, e.g. "svc/api.py:3" */
  source: string;
}

export interface DjangoFacts {
  /** The settings module manage.py (or wsgi.py) sets as the default, and where */
  settings: { module: string; source: string } | undefined;
  /** A production settings module next to it (settings/production.py, settings_prod.py, ...) */
  production: { module: string; source: string } | undefined;
  /** Set when the sources name django.contrib.staticfiles: what serving the collected files depends on */
  staticFiles: StaticFilesFacts | undefined;
}

/** Where the settings name the static files app and what collecting its files needs; each a `file:line`. */
export interface StaticFilesFacts {
  /** `django.contrib.staticfiles` named (in INSTALLED_APPS) */
  app: string;
  /** `STATIC_ROOT = ...`: where collectstatic writes */
  root: string | undefined;
  /** A manifest storage: `{% static %}` raises (a 500) for a file missing from the collected manifest */
  manifest: { backend: string; source: string } | undefined;
  /** WhiteNoise's middleware, which serves the collected files from the app */
  whitenoise: string | undefined;
}

/** A top-level entry of the project folder and the other top-level entries its Python code names. */
export interface LocalEntry {
  /** As it appears in the folder: "mysite", "manage.py", "templates" */
  name: string;
  /** A Python package or module (else data: templates, static files, ...) */
  python: boolean;
  /** A folder (else a file: a module, LICENSE, a Dockerfile) */
  folder: boolean;
  /** Other top-level entries this one imports or names in a string (INSTALLED_APPS, BASE_DIR / "templates") */
  references: string[];
}

export interface AppFacts {
  objects: AppObject[];
  django: DjangoFacts | undefined;
  /**
   * The folder's top-level entries with their references: read for package-mode = false projects, and for a
   * Django package, whose settings name apps, templates and files beside it
   */
  entries: LocalEntry[];
  /** Console scripts whose function starts a web server (package mode only: scripts are the package's) */
  scriptServers: Record<string, ScriptServer>;
  /** Celery apps made at module level, whose worker can be the container's command */
  celery: CeleryApp[];
}

/** Folders never searched for an app: tools' caches, environments, tests and docs. */
/**
 * Files a settings module names that belong to the machine it runs on, not to the code: a database
 * (Django's default `BASE_DIR / "db.sqlite3"`), a log, a pid or socket, keys and certificates, an env file.
 * The developer's copy holds their data or secrets; the image must make its own (or have it mounted).
 */
const LOCAL_STATE = /\.(sqlite3?|db|log|pid|sock|pem|key|crt|p12|pfx|env)$|^\.?env(\.|$)/i;

const SKIP = new Set([
  "node_modules",
  "__pycache__",
  "venv",
  "env",
  "site-packages",
  "build",
  "dist",
  "tests",
  "test",
  "docs",
  "doc",
  "migrations",
]);
const MAX_FILES = 2000;
const MAX_BYTES = 512 * 1024;
const MAX_DEPTH = 6;
const READ_AT_ONCE = 16;

interface SourceFile {
  /** Relative to the project folder, with forward slashes */
  path: string;
  /** The dotted module name it is imported as */
  module: string;
  text: string;
}

async function walk(dir: string, root: string, depth: number, out: string[]): Promise<void> {
  if (depth > MAX_DEPTH || out.length >= MAX_FILES) return;
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.name.startsWith(".")) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIP.has(entry.name)) await walk(path, root, depth + 1, out);
    } else if (
      entry.isFile() &&
      entry.name.endsWith(".py") &&
      !/^(test_.*|.*_test|conftest)\.py$/.test(entry.name)
    ) {
      out.push(relative(root, path));
    }
  }
}

function moduleName(path: string): string {
  const parts = path.replace(/\.py$/, "").split(sep);
  if (parts[parts.length - 1] === "__init__") parts.pop();
  return parts.join(".");
}

/** The Python files of the project, each with the module name it is imported under. */
async function sources(dir: string, roots: string[] | undefined): Promise<SourceFile[]> {
  const files: { path: string; base: string }[] = [];
  // An installed package is imported relative to the folder that holds it (`src/` for a src layout).
  for (const root of roots ?? ["."]) {
    const found: string[] = [];
    const absolute = join(dir, root);
    if (root.endsWith(".py")) found.push(root);
    else if (root === ".") await walk(dir, dir, 0, found);
    else await walk(absolute, dir, 1, found);
    const base = root === "." ? "." : dirname(root);
    for (const path of found) files.push({ path, base });
  }
  const read = async ({ path, base }: { path: string; base: string }) => {
    // Size first: a generated 200 MB module is skipped without being read into memory.
    const info = await stat(join(dir, path)).catch(() => undefined);
    if (!info?.isFile() || info.size > MAX_BYTES) return undefined;
    const text = await readFile(join(dir, path), "utf8").catch(() => undefined);
    if (text === undefined) return undefined;
    return { path: path.split(sep).join("/"), module: moduleName(relative(base, path)), text };
  };
  // A few files at a time: opening up to MAX_FILES at once runs out of descriptors (EMFILE) under a
  // 1024 limit, and a file that fails to open is skipped, so the app found would depend on the machine.
  const out: SourceFile[] = [];
  for (let at = 0; at < files.length; at += READ_AT_ONCE)
    for (const file of await Promise.all(files.slice(at, at + READ_AT_ONCE).map(read)))
      if (file) out.push(file);
  return out;
}

const CONSTRUCTORS: Record<string, Pick<AppObject, "framework" | "interface">> = {
  FastAPI: { framework: "fastapi", interface: "asgi" },
  Starlette: { framework: "starlette", interface: "asgi" },
  Litestar: { framework: "litestar", interface: "asgi" },
  Quart: { framework: "quart", interface: "asgi" },
  Flask: { framework: "flask", interface: "wsgi" },
};
const FRAMEWORK_IMPORT: Record<string, RegExp> = {
  fastapi: /^\s*(from|import)\s+fastapi\b/m,
  starlette: /^\s*(from|import)\s+starlette\b/m,
  litestar: /^\s*(from|import)\s+litestar\b/m,
  quart: /^\s*(from|import)\s+quart\b/m,
  flask: /^\s*(from|import)\s+flask\b/m,
};

/** Module-level `app = FastAPI(...)`, `app: Flask = flask.Flask(__name__)`, and `def create_app()` factories. */
function appObjects(file: SourceFile): AppObject[] {
  const found: AppObject[] = [];
  const lines = file.text.split("\n");
  const assignment =
    /^([A-Za-z_]\w*)\s*(?::\s*[\w.]+\s*)?=\s*(?:[a-z_]+\.)?(FastAPI|Starlette|Litestar|Quart|Flask)\(/;
  lines.forEach((line, index) => {
    const match = assignment.exec(line);
    const kind = match && CONSTRUCTORS[match[2] as string];
    if (match && kind && FRAMEWORK_IMPORT[kind.framework]?.test(file.text)) {
      found.push({
        ...kind,
        target: `${file.module}:${match[1]}`,
        factory: false,
        source: `${file.path}:${index + 1}`,
      });
    }
  });
  if (found.length > 0) return found;
  // `app = get_application()` at module level, where this module defines get_application() and builds a known
  // app in it (fastapi-realworld-example-app's shape): the module-level name is the app, no call needed.
  const built = /\b(FastAPI|Starlette|Litestar|Quart|Flask)\(/.exec(file.text);
  const builtKind = built && CONSTRUCTORS[built[1] as string];
  if (builtKind && FRAMEWORK_IMPORT[builtKind.framework]?.test(file.text)) {
    const defined = new Set(
      lines.flatMap((line) => /^(?:async\s+)?def\s+([A-Za-z_]\w*)\s*\(/.exec(line)?.[1] ?? []),
    );
    lines.forEach((line, index) => {
      const match = /^([A-Za-z_]\w*)\s*(?::\s*[\w.]+\s*)?=\s*([A-Za-z_]\w*)\(/.exec(line);
      if (!match || !defined.has(match[2] as string)) return;
      found.push({
        ...builtKind,
        target: `${file.module}:${match[1]}`,
        factory: false,
        source: `${file.path}:${index + 1}`,
      });
    });
    if (found.length > 0) return found;
  }
  // A factory counts only where the module builds one of the known apps inside it.
  lines.forEach((line, index) => {
    const match = /^(?:async\s+)?def\s+(create_app|make_app|app_factory|get_app)\s*\(\s*\)/.exec(line);
    if (!match) return;
    const built = /\b(FastAPI|Starlette|Litestar|Quart|Flask)\(/.exec(file.text);
    const kind = built && CONSTRUCTORS[built[1] as string];
    if (kind && FRAMEWORK_IMPORT[kind.framework]?.test(file.text)) {
      found.push({
        ...kind,
        target: `${file.module}:${match[1]}`,
        factory: true,
        source: `${file.path}:${index + 1}`,
      });
    }
  });
  return found;
}

function stringSetting(text: string, name: string): { value: string; line: number } | undefined {
  const match = new RegExp(`^${name}\\s*=\\s*["']([\\w.]+)["']`, "m").exec(text);
  if (!match) return undefined;
  return { value: match[1] as string, line: text.slice(0, match.index).split("\n").length };
}

/** Django: the settings module the project starts with, WSGI/ASGI_APPLICATION, and production settings. */
function django(files: SourceFile[], objects: AppObject[]): DjangoFacts | undefined {
  const byModule = new Map(files.map((f) => [f.module, f]));
  const manage = files.find((f) => f.path === "manage.py");
  // wsgi.py/asgi.py, or a package of that name (saleor/asgi/__init__.py).
  const entryFile = /(^|\/)(wsgi|asgi)(\.py|\/__init__\.py)$/;
  const defaults = [manage, ...files.filter((f) => entryFile.test(f.path))];
  let settings: DjangoFacts["settings"];
  for (const file of defaults) {
    const match = file && /DJANGO_SETTINGS_MODULE["']\s*,\s*["']([\w.]+)["']/.exec(file.text);
    if (file && match) {
      settings = {
        module: match[1] as string,
        source: `${file.path}:${file.text.slice(0, match.index).split("\n").length}`,
      };
      break;
    }
  }
  for (const [setting, iface] of [
    ["WSGI_APPLICATION", "wsgi"],
    ["ASGI_APPLICATION", "asgi"],
  ] as const) {
    for (const file of files) {
      const found = stringSetting(file.text, setting);
      if (!found) continue;
      const dot = found.value.lastIndexOf(".");
      const target = `${found.value.slice(0, dot)}:${found.value.slice(dot + 1)}`;
      if (!objects.some((o) => o.target === target))
        objects.push({
          framework: "django",
          interface: iface,
          target,
          factory: false,
          source: `${file.path}:${found.line}`,
        });
      break;
    }
  }
  // startproject writes asgi.py but no ASGI_APPLICATION setting: its `application` is still servable (also from
  // an asgi package that wraps it in middleware, as saleor does).
  for (const file of files) {
    if (!/(^|\/)asgi(\.py|\/__init__\.py)$/.test(file.path) || !/get_asgi_application\(/.test(file.text))
      continue;
    const line = file.text.split("\n").findIndex((l) => /^application\s*=/.test(l));
    const target = `${file.module}:application`;
    if (line >= 0 && !objects.some((o) => o.target === target))
      objects.push({
        framework: "django",
        interface: "asgi",
        target,
        factory: false,
        source: `${file.path}:${line + 1}`,
      });
  }
  if (!settings && !manage && !objects.some((o) => o.framework === "django")) return undefined;
  const production = settings ? productionSettings(settings.module, byModule) : undefined;
  const modules = [production?.module, settings?.module].filter((m): m is string => m !== undefined);
  return { settings, production, staticFiles: staticFiles(files, modules) };
}

/** The first line (files in path order) that matches and is not a comment, as `file:line` and the match. */
function locate(
  files: SourceFile[],
  pattern: RegExp,
): { source: string; match: RegExpExecArray } | undefined {
  for (const file of files) {
    const lines = file.text.split("\n");
    for (const [index, line] of lines.entries()) {
      if (line.trimStart().startsWith("#")) continue;
      const match = pattern.exec(line);
      if (match) return { source: `${file.path}:${index + 1}`, match };
    }
  }
  return undefined;
}

/**
 * What the settings say about static files, read from every source file (settings may be split): the settings
 * the image runs with first (production's, then the default's), then their package, then the rest by path, so
 * a development module's storage does not speak for production's.
 */
function staticFiles(files: SourceFile[], modules: string[]): StaticFilesFacts | undefined {
  const rank = (file: SourceFile) => {
    const at = modules.indexOf(file.module);
    if (at >= 0) return at;
    const inPackage = modules.some((m) => file.module.startsWith(`${m.slice(0, m.lastIndexOf(".") + 1)}`));
    return inPackage ? modules.length : modules.length + 1;
  };
  const sorted = [...files].sort(
    (a, b) => rank(a) - rank(b) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0),
  );
  const app = locate(sorted, /["']django\.contrib\.staticfiles(\.apps\.StaticFilesConfig)?["']/);
  if (!app) return undefined;
  const manifest = locate(sorted, /["']([\w.]*Manifest\w*Storage)["']/);
  return {
    app: app.source,
    root: locate(sorted, /^STATIC_ROOT\s*[:=]/)?.source,
    manifest: manifest ? { backend: manifest.match[1] as string, source: manifest.source } : undefined,
    whitenoise: locate(sorted, /["']whitenoise\.middleware\.WhiteNoiseMiddleware["']/)?.source,
  };
}

/** settings/production.py beside settings/base.py, or settings_prod.py beside settings.py, and similar names. */
function productionSettings(module: string, byModule: Map<string, SourceFile>): DjangoFacts["production"] {
  const parts = module.split(".");
  const last = parts.pop() as string;
  const parent = parts.join(".");
  const prefix = parent ? `${parent}.` : "";
  const names = [
    "production",
    "prod",
    `${last}_production`,
    `${last}_prod`,
    `production_${last}`,
    `prod_${last}`,
  ];
  for (const name of names) {
    const candidate = `${prefix}${name}`;
    const file = byModule.get(candidate);
    if (file && candidate !== module) return { module: candidate, source: file.path };
  }
  return undefined;
}

/** Top-level names an entry's code imports (`import a.b`, `from a import b`) or names in a string ("a.b", "a"). */
function referencedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const match of text.matchAll(/^\s*(?:from\s+([\w.]+)\s+import|import\s+([\w., ]+))/gm)) {
    const modules = match[1] ? [match[1]] : (match[2] ?? "").split(",");
    for (const m of modules) {
      const head = m.trim().split(/[.\s]/)[0];
      if (head) names.add(head);
    }
  }
  for (const match of text.matchAll(/["']([\w.-]+)(?:\/[^"']*)?["']/g)) {
    const head = (match[1] as string).split(".")[0];
    if (head) names.add(head);
    names.add(match[1] as string);
  }
  return names;
}

async function topLevel(dir: string, files: SourceFile[]): Promise<LocalEntry[]> {
  const listing = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const entries = listing.filter(
    (e) => !e.name.startsWith(".") && !SKIP.has(e.name) && e.name !== "__pycache__",
  );
  const pythonNames = new Map<string, string>();
  for (const e of entries) {
    if (e.isFile() && e.name.endsWith(".py")) pythonNames.set(e.name.slice(0, -3), e.name);
    else if (e.isDirectory() && files.some((f) => f.path.startsWith(`${e.name}/`)))
      pythonNames.set(e.name, e.name);
  }
  return entries
    .filter((e) => e.isDirectory() || e.isFile())
    .map((e) => {
      const own = files.filter((f) => f.path === e.name || f.path.startsWith(`${e.name}/`));
      const refs = new Set<string>();
      for (const file of own)
        for (const name of referencedNames(file.text)) {
          // A folder by its name, or any entry named in full ("pyproject.toml" read by the settings at start).
          const entry =
            pythonNames.get(name) ??
            (entries.some(
              (x) => x.name === name && (x.isDirectory() || (name.includes(".") && !LOCAL_STATE.test(name))),
            )
              ? name
              : undefined);
          if (entry && entry !== e.name) refs.add(entry);
        }
      return { name: e.name, python: own.length > 0, folder: e.isDirectory(), references: [...refs].sort() };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Read the sources for the app: `roots` are the package's source paths (package mode), or undefined to
 * read the whole folder (package-mode = false, where the folder is the working directory at run time).
 */
export async function detectApp(
  dir: string,
  roots: string[] | undefined,
  scripts: Record<string, Script> = {},
): Promise<AppFacts> {
  const files = await sources(dir, roots);
  const objects = files.flatMap(appObjects);
  const djangoFacts = django(files, objects);
  // `startproject` then `startapp` puts the apps beside the settings package: in package mode they are only
  // found by following what the package names, through the whole folder.
  const entries = !roots
    ? await topLevel(dir, files)
    : djangoFacts
      ? await topLevel(dir, await sources(dir, undefined))
      : [];
  return {
    objects,
    django: djangoFacts,
    entries,
    scriptServers: roots ? await detectScriptServers(files, scripts) : {},
    celery: celeryApps(files),
  };
}
