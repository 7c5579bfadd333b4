// Choose the container's command: the user's, a console script, a production server for the detected app, or a Celery worker.
import { UserError } from "../errors.js";
import type { AppObject } from "../project/app.js";
import type { CeleryApp } from "../project/celery.js";
import { type ScriptServer, SERVER_DEFAULTS } from "../project/script-server.js";
import type { Project } from "../project/types.js";
import type { Plan } from "./types.js";

export const DEFAULT_PORT = 8000;
const LISTEN_PORT = `\${PORT:-${DEFAULT_PORT}}`;

/** The production servers couplet knows, in order of preference for each interface. */
const SERVERS: Record<AppObject["interface"], string[]> = {
  wsgi: ["gunicorn", "waitress", "uwsgi", "granian"],
  asgi: ["uvicorn", "hypercorn", "granian"],
};
export const KNOWN_SERVERS = ["gunicorn", "uvicorn", "granian", "hypercorn", "uwsgi", "waitress"];

/** A word as sh reads it, with `$PORT`-style expansions left alive. */
function shellWord(word: string): string {
  if (/^[\w@%+=:,./${}-]+$/.test(word)) return word;
  return `"${word.replace(/["\\`]/g, (c) => `\\${c}`)}"`;
}

/** The server's command line for one app object, or undefined when this server cannot load it. */
function serverLine(server: string, app: AppObject): string | undefined {
  const call = `'${app.target}()'`;
  switch (server) {
    case "gunicorn":
      return `gunicorn --bind 0.0.0.0:${LISTEN_PORT} ${app.factory ? call : app.target}`;
    case "waitress":
      return `waitress-serve --listen=0.0.0.0:${LISTEN_PORT} ${app.factory ? "--call " : ""}${app.target}`;
    case "uwsgi":
      // uWSGI cannot call a factory.
      return app.factory
        ? undefined
        : `uwsgi --http-socket 0.0.0.0:${LISTEN_PORT} --master --die-on-term --module ${app.target}`;
    case "granian":
      return `granian --interface ${app.interface} --host 0.0.0.0 --port ${LISTEN_PORT}${app.factory ? " --factory" : ""} ${app.target}`;
    case "uvicorn":
      return `uvicorn --host 0.0.0.0 --port ${LISTEN_PORT}${app.factory ? " --factory" : ""} ${app.target}`;
    case "hypercorn":
      return `hypercorn --bind 0.0.0.0:${LISTEN_PORT} ${app.factory ? call : app.target}`;
    default:
      return undefined;
  }
}

const SHELLS = new Set(["sh", "bash", "dash", "/bin/sh", "/bin/bash", "/usr/bin/env"]);
const SEPARATORS = new Set(["&&", ";"]);
/** Words that only mean something to a shell: the command needs one (and may then be refused). */
const OPERATORS = new Set([...SEPARATORS, "||", "|", "&", ">", ">>", "<", "2>&1"]);

/**
 * A command as the user wrote it, made to run as the container's main process: exec form as given, or,
 * when it needs a shell (`&&`, `;`, `$PORT`, one word holding a whole line), `sh -c` with `exec` before the
 * last command so the server, not the shell, receives the container's signals.
 */
export function containerCommand(words: string[], where: string): string[] {
  const [first = ""] = words;
  if (SHELLS.has(first)) return words;
  const oneLine = words.length === 1 && /\s/.test(first);
  const needsShell = oneLine || words.some((w) => OPERATORS.has(w) || w.includes("$"));
  if (!needsShell) return words;
  const line = oneLine ? first.trim() : words.map((w) => (OPERATORS.has(w) ? w : shellWord(w))).join(" ");
  if (/\|\|?|(^|[^&])&($|[^&])/.test(line.replace(/&&/g, ""))) {
    throw new UserError(
      `${where} pipes or backgrounds commands (|, ||, &), which cannot be the container's main process`,
      {
        hint: 'put the commands in a script in the project and set cmd = ["sh", "start.sh"]',
      },
    );
  }
  const and = line.lastIndexOf("&&");
  const semicolon = line.lastIndexOf(";");
  const cut = Math.max(and < 0 ? 0 : and + 2, semicolon < 0 ? 0 : semicolon + 1);
  const last = line.slice(cut).trimStart();
  const head = line.slice(0, cut);
  const exec = last.startsWith("exec ") ? last : `exec ${last}`;
  return ["sh", "-c", head ? `${head} ${exec}` : exec];
}

const DEV_SERVERS: [RegExp, string][] = [
  [/\brunserver\b/, "Django's runserver is a development server"],
  [/(^|\s)--reload\b/, "--reload watches files: a development setting"],
  [/\bfastapi\s+dev\b/, "`fastapi dev` is a development server"],
  [/\bflask\b.*\brun\b/, "`flask run` is Flask's development server"],
];

export interface CommandChoice {
  entrypoint: Plan["entrypoint"];
  env: Record<string, string>;
  expose: number[];
  warnings: string[];
}

function userCommand(project: Project, cmd: string[] | undefined): Plan["entrypoint"] | undefined {
  if (cmd && cmd.length > 0)
    return { command: containerCommand(cmd, "--cmd"), form: "cmd", source: "--cmd", found: [] };
  if (project.couplet.cmd) {
    let command: string[];
    try {
      command = containerCommand(project.couplet.cmd, "[tool.couplet] cmd");
    } catch (error) {
      if (error instanceof UserError)
        throw new UserError(error.message, { location: { file: project.pyprojectPath }, hint: error.hint });
      throw error;
    }
    return { command, form: "cmd", source: "[tool.couplet] cmd", found: [] };
  }
  return undefined;
}

function consoleScript(project: Project): CommandChoice | undefined {
  const scripts = Object.keys(project.scripts).sort();
  if (scripts.length === 0 || !project.packageMode) return undefined;
  const servers = project.app.scriptServers;
  // The script named after the project, else one that starts a server (a project's admin CLI sorts first too).
  const preferred =
    scripts.find((name) => name === project.name) ??
    scripts.find((name) => servers[name]) ??
    (scripts[0] as string);
  // Either table may hold them in a PEP 621 project: name the table that actually declares the script.
  const table = `[${project.scripts[preferred]?.table ?? "tool.poetry.scripts"}]`;
  const source =
    scripts.length === 1 ? `${table} ${preferred}` : `${table} ${preferred} (one of ${scripts.length})`;
  const server = servers[preferred];
  if (!server)
    return {
      entrypoint: { command: [preferred], form: "entrypoint", source, found: [] },
      env: {},
      expose: [],
      warnings: [],
    };
  return scriptServerCommand(preferred, source, server);
}

/**
 * A console script that starts a web server runs as a service: a full command (CMD, so the app gets its writable
 * folder), told to listen on every interface where it has a --host option, with the port it listens on exposed.
 */
function scriptServerCommand(name: string, source: string, server: ScriptServer): CommandChoice {
  const defaults = SERVER_DEFAULTS[server.server];
  const found = [`${name} starts ${server.server}: ${server.call.value}...) at ${server.call.source}`];
  const warnings: string[] = [];
  const command = [name];
  const everywhere = (host: string) => host === "0.0.0.0" || host === "::" || host === "[::]";
  if (server.hostOption) {
    command.push("--host", "0.0.0.0");
    found.push(
      `--host option at ${server.hostOption}: given 0.0.0.0, so the server answers from outside the container`,
    );
  } else if (server.host && everywhere(server.host.value)) {
    found.push(`listens on ${server.host.value} (${server.host.source})`);
  } else {
    const host = server.host ?? { value: defaults.host, source: `${server.server}'s default` };
    if (everywhere(host.value)) found.push(`listens on ${host.value} (${host.source})`);
    else
      warnings.push(
        `${name} makes ${server.server} listen on ${host.value} (${host.source}), which nothing outside the container reaches, and has no --host option: make it listen on 0.0.0.0, or set [tool.couplet] cmd = [...] to a command that does`,
      );
  }
  const port = server.port ?? { value: defaults.port, source: `${server.server}'s default` };
  found.push(`port ${port.value} (${port.source})`);
  return {
    entrypoint: {
      command,
      form: "cmd",
      source: `${source}, a web server: it starts ${server.server}`,
      found,
    },
    env: {},
    expose: [port.value],
    warnings,
  };
}

/** Django first (its settings name the app), then shallower files: `app/main.py` over `app/sub/x.py`. */
function rank(a: AppObject, b: AppObject): number {
  const django = Number(b.framework === "django") - Number(a.framework === "django");
  if (django !== 0) return django;
  const depth = (o: AppObject) => o.source.split("/").length;
  return depth(a) - depth(b) || a.source.localeCompare(b.source);
}

function detectedServer(project: Project, production: Set<string>): CommandChoice | undefined {
  const servers = KNOWN_SERVERS.filter((s) => production.has(s));
  const objects = [...project.app.objects].sort(rank);
  const found: string[] = [];
  for (const app of objects) {
    for (const server of SERVERS[app.interface]) {
      if (!production.has(server)) continue;
      const line = serverLine(server, app);
      if (!line) continue;
      const env: Record<string, string> = {};
      found.push(
        `${app.framework} ${app.interface.toUpperCase()} app ${app.target}${app.factory ? " (factory)" : ""} at ${app.source}`,
      );
      const version = project.lock.packages.find((p) => p.name === server)?.version;
      found.push(`${server}${version ? ` ${version}` : ""} in poetry.lock's production packages`);
      const settings = project.app.django?.production;
      if (app.framework === "django" && settings) {
        env.DJANGO_SETTINGS_MODULE = settings.module;
        found.push(`production settings ${settings.module} (${settings.source})`);
      }
      if (objects.length > 1) found.push(`${objects.length - 1} other app object(s) passed over`);
      return {
        entrypoint: {
          command: ["sh", "-c", `exec ${line}`],
          form: "cmd",
          source: `detected: ${server} serving ${app.target}, on $PORT (default ${DEFAULT_PORT})`,
          found,
        },
        env,
        expose: [DEFAULT_PORT],
        warnings: [],
      };
    }
  }
  if (objects.length === 0 && servers.length === 0) return undefined;
  const apps = objects.map((o) => `${o.framework} app ${o.target} (${o.source})`).join(", ");
  const grouped = objects.length ? serverInOtherGroups(project, objects) : undefined;
  const what = grouped
    ? `found ${apps} and ${grouped.server} ${grouped.version} in poetry.lock, but only in group ${grouped.groups.join(", ")}, which production leaves out; add [tool.couplet] with = [${grouped.groups.map((g) => JSON.stringify(g)).join(", ")}] in pyproject.toml to serve it with ${grouped.server}, or`
    : objects.length
      ? `found ${apps} but no production server for it in poetry.lock (${objects.some((o) => o.interface === "wsgi") ? "gunicorn, waitress" : "uvicorn, hypercorn"}...);`
      : `found ${servers.join(", ")} in poetry.lock but no app object in the sources;`;
  return {
    entrypoint: undefined,
    env: {},
    expose: [],
    warnings: [`no command for the container: ${what} set [tool.couplet] cmd = [...] in pyproject.toml`],
  };
}

/**
 * A server for one of the apps that is locked only in optional groups (`[tool.poetry.group.prod]` holding
 * gunicorn is a common layout): the way to the detected command is to install that group, not to write one.
 */
function serverInOtherGroups(
  project: Project,
  objects: AppObject[],
): { server: string; version: string; groups: string[] } | undefined {
  for (const app of [...objects].sort(rank))
    for (const server of SERVERS[app.interface]) {
      const pkg = project.lock.packages.find((p) => p.name === server);
      if (!pkg || pkg.groups.length === 0 || pkg.groups.includes("main")) continue;
      if (!serverLine(server, app)) continue;
      return { server, version: pkg.version, groups: [...pkg.groups].sort() };
    }
  return undefined;
}

/** A command as a TOML array, to paste under [tool.couplet]. */
function tomlArray(words: string[]): string {
  return `[${words.map((w) => JSON.stringify(w)).join(", ")}]`;
}

/**
 * The worker of a Celery app: `--app module:attr` names the app itself (celery otherwise guesses among the
 * module's attributes), INFO so the log shows the tasks it registered and its "ready." line. Exec form: the
 * worker is the main process and takes the container's SIGTERM as a warm shutdown.
 */
export function celeryCommand(app: CeleryApp): string[] {
  return ["celery", "--app", app.target, "worker", "--loglevel", "INFO"];
}

/**
 * A Celery worker as the command: one module-level app in the sources and celery among the production packages.
 * Several apps are several workers: which one this image runs is the user's choice, so none is picked.
 */
function celeryWorker(project: Project, production: Set<string>): CommandChoice | undefined {
  const apps = project.app.celery;
  const [app] = apps;
  if (!app) return undefined;
  const listed = apps.map((a) => `${a.target} (${a.source})`).join(", ");
  const none = (why: string): CommandChoice => ({
    entrypoint: undefined,
    env: {},
    expose: [],
    warnings: [`no command for the container: ${why}`],
  });
  const locked = project.lock.packages.find((p) => p.name === "celery");
  if (!production.has("celery")) {
    const groups = locked && !locked.groups.includes("main") ? [...locked.groups].sort() : [];
    const why = !locked
      ? "celery is not in poetry.lock;"
      : groups.length > 0
        ? `celery ${locked.version} is locked only in group ${groups.join(", ")}, which production leaves out; add [tool.couplet] with = [${groups.map((g) => JSON.stringify(g)).join(", ")}] in pyproject.toml to run its worker, or`
        : `celery ${locked.version} is locked but left out of production by its markers;`;
    return none(`found Celery app ${listed}, but ${why} set [tool.couplet] cmd = [...] in pyproject.toml`);
  }
  if (apps.length > 1)
    return none(
      `found ${apps.length} Celery apps, ${listed}, and each is a worker of its own: couplet does not guess which one this image runs. Set [tool.couplet] cmd = ${tomlArray(celeryCommand(app))} in pyproject.toml (or pass --cmd) with the app to run`,
    );
  const command = celeryCommand(app);
  const module = app.target.split(":")[0] as string;
  const found = [
    `Celery app ${app.target} at ${app.source}`,
    `celery${locked ? ` ${locked.version}` : ""} in poetry.lock's production packages`,
    project.packageMode
      ? `${module} is installed with the root package`
      : `celery imports ${module} from the working directory, where the code is copied`,
  ];
  return {
    entrypoint: {
      command,
      form: "cmd",
      source: `detected: a Celery worker for ${app.target}`,
      found,
      override: `to run it another way (queues, concurrency, beat): --cmd "${command.join(" ")} --queues NAME", or [tool.couplet] cmd = ${tomlArray([...command, "--queues", "NAME"])} in pyproject.toml`,
    },
    env: {},
    expose: [],
    warnings: [],
  };
}

/**
 * A Celery app beside a command that won (a console script, a web app): its worker is a second process, which
 * the plan names, with the line that makes it this image's command instead.
 */
function celeryNote(project: Project, production: Set<string>, form: "entrypoint" | "cmd"): string[] {
  const apps = project.app.celery;
  const [app] = apps;
  if (!app || !production.has("celery")) return [];
  if (apps.length > 1)
    return [
      `${apps.length} Celery apps, ${apps.map((a) => `${a.target} (${a.source})`).join(", ")}, not started: set [tool.couplet] cmd = ${tomlArray(celeryCommand({ ...app, target: "MODULE:NAME" }))} to run a worker`,
    ];
  const command = celeryCommand(app);
  const run =
    form === "entrypoint"
      ? `run the image with --entrypoint celery and the arguments ${command.slice(1).join(" ")}`
      : "run the image with that command";
  return [
    `Celery app ${app.target} at ${app.source}, not started by this command: for its worker, set [tool.couplet] cmd = ${tomlArray(command)}, or ${run} (a second container)`,
  ];
}

/**
 * The command in order of precedence: --cmd, [tool.couplet] cmd, a console script, a detected web app, a
 * Celery worker.
 */
export function chooseCommand(
  project: Project,
  cmd: string[] | undefined,
  production: Set<string>,
): CommandChoice {
  return withProductionSettings(project, commandFor(project, cmd, production));
}

/**
 * A Django site's production settings hold whichever command runs: a --cmd, a console script or a worker loads
 * the same settings as the detected server would (a user's command otherwise fell back to manage.py's default,
 * often the development settings).
 */
function withProductionSettings(project: Project, choice: CommandChoice): CommandChoice {
  const settings = project.app.django?.production;
  if (!settings || choice.env.DJANGO_SETTINGS_MODULE) return choice;
  choice.env.DJANGO_SETTINGS_MODULE = settings.module;
  choice.entrypoint?.found.push(
    `production settings ${settings.module} (${settings.source}), set as DJANGO_SETTINGS_MODULE`,
  );
  return choice;
}

function commandFor(project: Project, cmd: string[] | undefined, production: Set<string>): CommandChoice {
  const user = userCommand(project, cmd);
  const given: CommandChoice | undefined = user
    ? { entrypoint: user, env: {}, expose: [], warnings: [] }
    : consoleScript(project);
  if (given?.entrypoint) {
    const text = given.entrypoint.command.join(" ");
    for (const [pattern, why] of DEV_SERVERS)
      if (pattern.test(text))
        given.warnings.push(`the command runs a development server (${why}); use a production server`);
    if (!user) given.entrypoint.found.push(...celeryNote(project, production, given.entrypoint.form));
    return given;
  }
  const detected = detectedServer(project, production);
  if (detected?.entrypoint) {
    detected.entrypoint.found.push(...celeryNote(project, production, detected.entrypoint.form));
    return detected;
  }
  const worker = celeryWorker(project, production);
  if (worker?.entrypoint) {
    // An app object with no server to run it (a FastAPI model the worker imports, say) does not stop the worker.
    for (const o of project.app.objects)
      worker.entrypoint.found.push(
        `passed over: ${o.framework} app ${o.target} (${o.source}), which no production server in poetry.lock serves`,
      );
    return worker;
  }
  if (detected || worker)
    return {
      entrypoint: undefined,
      env: {},
      expose: [],
      warnings: [...(detected?.warnings ?? []), ...(worker?.warnings ?? [])],
    };
  return {
    entrypoint: undefined,
    env: {},
    expose: [],
    warnings: [
      `no command for the container: no --cmd, [tool.couplet] cmd or console script, no web app (${KNOWN_SERVERS.join(", ")} with a Django, FastAPI, Flask or Starlette app) and no Celery app found; the image will start Python. Set [tool.couplet] cmd = ["program", "arg"] in pyproject.toml`,
    ],
  };
}
