// Django's static files: the image never runs collectstatic, so the plan says so once, with the way through.
import type { Project } from "../project/types.js";
import type { Plan } from "./types.js";

/** The command line as a user would type it after `--cmd`: sh -c's script without its exec. */
function commandLine(command: string[]): string {
  const [shell, flag, script] = command;
  if (command.length === 3 && shell === "sh" && flag === "-c" && script) return script.replace(/^exec /, "");
  return command.join(" ");
}

/**
 * The line as one shell word to paste: in single quotes, so the user's shell leaves `${PORT:-8000}` for the
 * container's (in double quotes it took the host's PORT, or 8000, into the image's command).
 */
function shellQuoted(line: string): string {
  return `'${line.replace(/'/g, `'\\''`)}'`;
}

/**
 * One warning when the production image would serve a Django site whose settings collect static files
 * (django.contrib.staticfiles and STATIC_ROOT) while nothing runs collectstatic. couplet does not add the step
 * itself: collectstatic imports the settings, which at build time lack what the runtime gives them (shark
 * stops on BASE_URL, bieterrunde on SECRET_KEY_FILE; with them, shark's S3 storage uploads during the build).
 */
export function staticFilesWarning(
  project: Project,
  production: Set<string>,
  image: Pick<Plan, "entrypoint" | "env" | "writable"> & { workdir: string },
): string | undefined {
  const facts = project.app.django?.staticFiles;
  if (!facts?.root || !production.has("django")) return undefined;
  const command = image.entrypoint ? commandLine(image.entrypoint.command) : undefined;
  if (command?.includes("collectstatic")) return undefined;
  const manage = project.app.entries.some((entry) => entry.name === "manage.py" && !entry.folder);
  // The image sets the production settings whatever the command (plan keeps them under a --cmd).
  const settings = image.env.DJANGO_SETTINGS_MODULE;
  // `python -m django` has no collectstatic ("Unknown command") until settings are loaded: manage.py names them,
  // and without it and without the image's DJANGO_SETTINGS_MODULE, --settings must (wsgi.py's default is not read).
  const named = project.app.django?.settings?.module;
  const collect = manage
    ? "python manage.py collectstatic --noinput"
    : `python -m django collectstatic --noinput${!settings && named ? ` --settings ${named}` : ""}`;
  const effect = facts.manifest
    ? `every page that uses {% static %} answers 500 (${facts.manifest.backend}, ${facts.manifest.source})`
    : "nothing is served at STATIC_URL";
  const line = `${collect} && ${command}`;
  const folder = image.writable[0] ? `${image.workdir}/${image.writable[0]}` : undefined;
  const atStart = command
    ? `--cmd ${shellQuoted(line)} with STATIC_ROOT ${folder ? `under ${folder} (the app user's writable folder)` : "in a folder the app user may write"}`
    : `\`${collect}\` before the server, with STATIC_ROOT in a folder the app user may write`;
  const serve = facts.whitenoise
    ? `WhiteNoise (${facts.whitenoise}) serves them from there`
    : "serve them with WhiteNoise or a web server in front";
  return `static files are not collected: django.contrib.staticfiles (${facts.app}) with STATIC_ROOT (${facts.root}), and nothing runs collectstatic, so ${effect}; couplet does not run it at build time, where the settings lack the runtime environment (SECRET_KEY, DATABASE_URL, ...): run it at start, ${atStart}, or, in a Dockerfile, add \`RUN ${collect}\` to the production stage with what the settings need; ${serve}`;
}
