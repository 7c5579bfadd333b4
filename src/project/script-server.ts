// Reads a console script's target function to tell a server it starts (uvicorn.run, waitress.serve...) from a CLI tool.
import { importBindings } from "./python-source.js";
import { escapeRegExp } from "./toml.js";
import type { Script } from "./types.js";

export type ScriptServerName = "uvicorn" | "hypercorn" | "gunicorn" | "waitress" | "granian";

/** Where a fact was read: a file relative to the project folder and a 1-based line. */
export interface Found<T> {
  value: T;
  source: string;
}

export interface ScriptServer {
  server: ScriptServerName;
  /** The call that starts it, as written (`uvicorn.Server(`), and where */
  call: Found<string>;
  /** Where the script's module declares a `--host` option (click, argparse, typer), if it does */
  hostOption: string | undefined;
  /** A host the start call passes as a literal (`host="0.0.0.0"`), if any */
  host: Found<string> | undefined;
  /** The port it listens on by default when the sources give it as a number; undefined leaves the server's own */
  port: Found<number> | undefined;
}

/** What each server exposes to start it: functions called, or (gunicorn) a class the app subclasses and runs. */
const STARTERS: Record<ScriptServerName, string[]> = {
  uvicorn: ["run", "Server"],
  hypercorn: ["serve"],
  waitress: ["serve"],
  gunicorn: ["BaseApplication", "WSGIApplication"],
  granian: ["Granian"],
};

/** Where each server listens when given nothing (the projects' own documentation). */
export const SERVER_DEFAULTS: Record<ScriptServerName, { host: string; port: number }> = {
  uvicorn: { host: "127.0.0.1", port: 8000 },
  hypercorn: { host: "127.0.0.1", port: 8000 },
  gunicorn: { host: "127.0.0.1", port: 8000 },
  waitress: { host: "0.0.0.0", port: 8080 },
  granian: { host: "127.0.0.1", port: 8000 },
};

/** How deep calls are followed from the script's function: its helpers, and theirs. */
const MAX_DEPTH = 2;

interface Module {
  /** Relative to the project folder, forward slashes */
  path: string;
  name: string;
  text: string;
  lines: string[];
}

function lineOf(text: string, index: number): number {
  return text.slice(0, index).split("\n").length;
}

/**
 * A module-level function's body: the lines after its signature (which may span lines, `):` closing it at column
 * 0) up to the next statement at column 0. Returns the first line's index too, for locations.
 */
function functionBody(module: Module, name: string): { text: string; start: number } | undefined {
  const { lines } = module;
  const at = lines.findIndex((line) =>
    new RegExp(`^(?:async\\s+)?def\\s+${escapeRegExp(name)}\\s*\\(`).test(line),
  );
  if (at < 0) return undefined;
  let depth = 0;
  let end = at;
  for (; end < lines.length; end++) {
    const line = (lines[end] as string).replace(/#.*$/, "");
    for (const c of line) {
      if (c === "(" || c === "[") depth++;
      else if (c === ")" || c === "]") depth--;
    }
    if (depth <= 0 && /:\s*$/.test(line)) break;
  }
  const body: string[] = [];
  for (let i = end + 1; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.trim() !== "" && !/^\s/.test(line) && !line.startsWith("#")) break;
    body.push(line);
  }
  return { text: body.join("\n"), start: end + 1 };
}

interface Start {
  server: ScriptServerName;
  call: Found<string>;
  /** The function body holding the call, where host and port arguments are looked for */
  body: string;
  /** Index of the body's first line in the module */
  bodyStart: number;
  module: Module;
}

/** A call in `body` that starts a known server, by the names the module's imports bind. */
function startIn(module: Module, body: { text: string; start: number }): Start | undefined {
  const bound = importBindings(module.text);
  for (const [server, starters] of Object.entries(STARTERS) as [ScriptServerName, string[]][]) {
    // How the module can name a starter: `run` after `from uvicorn import run`, `uvicorn.run` after `import
    // uvicorn`, `hypercorn.asyncio.serve` after `import hypercorn.asyncio`.
    const names: string[] = [];
    for (const [name, dotted] of bound) {
      if (dotted !== server && !dotted.startsWith(`${server}.`)) continue;
      const tail = dotted.split(".").pop() as string;
      if (dotted !== server && starters.includes(tail)) names.push(`(?<![\\w.])${escapeRegExp(name)}`);
      else names.push(`(?<![\\w.])${escapeRegExp(name)}(?:\\.\\w+)*\\.(?:${starters.join("|")})`);
    }
    if (names.length === 0) continue;
    const starter = `(?:${names.join("|")})`;
    let match: RegExpExecArray | null = null;
    if (server === "gunicorn") {
      // A gunicorn application class: it starts when the function builds the module's subclass (and runs it).
      for (const cls of module.text.matchAll(/^class\s+(\w+)\s*\(([^)]*)\)/gm)) {
        if (!new RegExp(`${starter}\\s*$`).test((cls[2] as string).trim())) continue;
        match = new RegExp(`(?<![\\w.])${escapeRegExp(cls[1] as string)}\\s*\\(`).exec(body.text);
        if (match) break;
      }
    } else match = new RegExp(`${starter}\\s*\\(`).exec(body.text);
    if (!match) continue;
    return {
      server,
      call: {
        value: match[0].replace(/\s+/g, ""),
        source: `${module.path}:${body.start + lineOf(body.text, match.index)}`,
      },
      body: body.text,
      bodyStart: body.start,
      module,
    };
  }
  return undefined;
}

/** A Python file of the project as detectApp read it, with the dotted module name it is imported as. */
export interface SourceText {
  path: string;
  module: string;
  text: string;
}

/** The project's own modules by dotted name, from the files detectApp has already read (none is read again). */
class Sources {
  private readonly byName = new Map<string, SourceText>();
  private readonly cache = new Map<string, Module>();

  constructor(files: readonly SourceText[]) {
    for (const file of files) if (!this.byName.has(file.module)) this.byName.set(file.module, file);
  }

  /** The file a dotted module name is imported from, among the project's own sources. */
  async module(name: string): Promise<Module | undefined> {
    let found = this.cache.get(name);
    if (!found) {
      const file = this.byName.get(name);
      if (!file) return undefined;
      found = { path: file.path, name, text: file.text, lines: file.text.split("\n") };
      this.cache.set(name, found);
    }
    return found;
  }
}

/** Follows the function and the project's own functions it calls, up to MAX_DEPTH, to a server start. */
async function reach(
  sources: Sources,
  module: Module,
  name: string,
  depth: number,
  seen: Set<string>,
): Promise<Start | undefined> {
  const key = `${module.name}:${name}`;
  if (seen.has(key)) return undefined;
  seen.add(key);
  const body = functionBody(module, name);
  if (!body) return undefined;
  const start = startIn(module, body);
  if (start || depth >= MAX_DEPTH) return start;
  const bound = importBindings(module.text);
  for (const call of new Set(
    [...body.text.matchAll(/(?<![\w.])([A-Za-z_]\w*)\s*\(/g)].map((m) => m[1] as string),
  )) {
    const dotted = bound.get(call);
    let next: Start | undefined;
    if (dotted === undefined) next = await reach(sources, module, call, depth + 1, seen);
    else {
      const dot = dotted.lastIndexOf(".");
      const target = dot > 0 ? await sources.module(dotted.slice(0, dot)) : undefined;
      if (target) next = await reach(sources, target, dotted.slice(dot + 1), depth + 1, seen);
    }
    if (next) return next;
  }
  return undefined;
}

/**
 * A `--host` option declared in the script's own module (click.option, argparse add_argument, typer.Option):
 * the CMD passes `--host 0.0.0.0` to the script, so a `"--host"` elsewhere (another module's `__main__`, a
 * subprocess argument list, a database host) must not count, or the container stops at "no such option".
 */
function hostOption(module: Module): string | undefined {
  const match = /\b(?:option|add_argument|Option)\s*\([^)]*?["']--host["']/.exec(module.text);
  return match ? `${module.path}:${lineOf(module.text, match.index)}` : undefined;
}

/** A literal host the start passes: `host="0.0.0.0"`, or the host part of `bind=`/`listen=`. */
function literalHost(start: Start): Found<string> | undefined {
  const match =
    /\bhost\s*=\s*["']([^"']*)["']/.exec(start.body) ??
    /\b(?:bind|listen)\s*=\s*\[?\s*["']([^"']*):\d+["']/.exec(start.body);
  if (!match) return undefined;
  return { value: match[1] as string, source: sourceIn(start, match.index) };
}

function sourceIn(start: Start, index: number): string {
  return `${start.module.path}:${start.bodyStart + lineOf(start.body, index)}`;
}

const PORT_NUMBER = "(\\d{2,5})\\b";

/**
 * The port as a number the sources give: in the start's arguments (`port=5000`, `bind="0.0.0.0:5000"`), as the
 * default of a `--port` option, or, when either names a setting (`default=settings.port`), where a settings
 * class or module defines `port` (`port: int = Field(default=5000)`, `PORT = 5000`) in the same package.
 */
async function findPort(start: Start, script: Module, sources: Sources): Promise<Found<number> | undefined> {
  const valid = (value: number) => value > 0 && value < 65536;
  const inBody =
    new RegExp(`\\bport\\s*=\\s*${PORT_NUMBER}`).exec(start.body) ??
    new RegExp(`\\b(?:bind|listen)\\s*=\\s*\\[?\\s*["'][^"']*:${PORT_NUMBER}["']`).exec(start.body);
  if (inBody && valid(Number(inBody[1])))
    return { value: Number(inBody[1]), source: sourceIn(start, inBody.index) };
  for (const module of new Set([script, start.module])) {
    const option = /["']--port["']([^)]{0,300})/.exec(module.text);
    const literal = option && new RegExp(`\\bdefault\\s*=\\s*${PORT_NUMBER}`).exec(option[1] as string);
    if (option && literal && valid(Number(literal[1])))
      return { value: Number(literal[1]), source: `${module.path}:${lineOf(module.text, option.index)}` };
  }
  // A setting: follow names the module imports from the project (`from tipjar.settings import settings`).
  const named = /\b(?:port|default)\s*=\s*([A-Za-z_]\w*)\.port\b/i.exec(`${start.body}\n${script.text}`);
  if (!named) return undefined;
  const holders = [start.module, script];
  for (const module of [start.module, script]) {
    const dotted = importBindings(module.text).get(named[1] as string);
    if (!dotted) continue;
    for (const candidate of [dotted, dotted.slice(0, dotted.lastIndexOf("."))]) {
      const found = candidate ? await sources.module(candidate) : undefined;
      if (found) holders.unshift(found);
    }
  }
  const definition = new RegExp(
    `^[ \\t]*port[ \\t]*(?::[^=\\n]+)?=[ \\t]*(?:Field\\(\\s*(?:default\\s*=\\s*)?)?${PORT_NUMBER}`,
    "im",
  );
  for (const module of holders) {
    const match = definition.exec(module.text);
    if (match && valid(Number(match[1])))
      return { value: Number(match[1]), source: `${module.path}:${lineOf(module.text, match.index)}` };
  }
  return undefined;
}

/**
 * Which console scripts start a web server, read from the project's own sources: the script's function (or a
 * project function it calls, two calls deep) must call a server's start (uvicorn.run or Server, hypercorn's serve,
 * waitress.serve, a gunicorn application class, Granian) of a server the module imports. A command group or a
 * function that only imports a server is not one. `roots` are the package's source paths.
 */
export async function detectScriptServers(
  files: readonly SourceText[],
  scripts: Record<string, Script>,
): Promise<Record<string, ScriptServer>> {
  const sources = new Sources(files);
  const out: Record<string, ScriptServer> = {};
  for (const [name, script] of Object.entries(scripts)) {
    const [moduleName, func] = script.target.split(":").map((part) => part.trim());
    if (!moduleName || !func || !/^\w+$/.test(func)) continue;
    const module = await sources.module(moduleName);
    if (!module) continue;
    const start = await reach(sources, module, func, 0, new Set());
    if (!start) continue;
    out[name] = {
      server: start.server,
      call: start.call,
      hostOption: hostOption(module),
      host: literalHost(start),
      port: await findPort(start, module, sources),
    };
  }
  return out;
}
