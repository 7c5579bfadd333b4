// biome-ignore-all lint/suspicious/noTemplateCurlyInString: shell variables, not templates
import { execFileSync } from "node:child_process";
import { appendFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { copyProject } from "../../test/support/project-variants.js";
import { parseCmd } from "../cli/options.js";
import { render } from "../generate/render.js";
import { analyze } from "../project/analyze.js";
import { plan } from "./plan.js";
import { staticFilesWarning } from "./static-files.js";

// The django-site fixture (django and gunicorn locked in main by real Poetry), its settings given static files.
function siteWithStaticFiles(production = ""): string {
  const dir = copyProject("test/fixtures/projects/django-site");
  appendFileSync(
    join(dir, "mysite/settings/base.py"),
    'INSTALLED_APPS += ["django.contrib.staticfiles"]\nSTATIC_URL = "static/"\nSTATIC_ROOT = BASE_DIR / "static"\n',
  );
  if (production) appendFileSync(join(dir, "mysite/settings/production.py"), production);
  return dir;
}

const uncollected = (warnings: string[]) =>
  warnings.filter((w) => w.startsWith("static files are not collected"));

describe("the plan says when Django's static files are never collected", () => {
  it("in one line: where the settings say so, what fails, and a --cmd that keeps the production settings", async () => {
    const dir = siteWithStaticFiles(
      'MIDDLEWARE = ["whitenoise.middleware.WhiteNoiseMiddleware"]\nSTORAGES = {"staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}}\n',
    );
    const planned = plan(await analyze(dir));
    expect(planned.env).toEqual({ DJANGO_SETTINGS_MODULE: "mysite.settings.production" });
    expect(uncollected(planned.warnings)).toEqual([
      "static files are not collected: django.contrib.staticfiles (mysite/settings/base.py:19) with STATIC_ROOT (mysite/settings/base.py:21), and nothing runs collectstatic, so every page that uses {% static %} answers 500 (whitenoise.storage.CompressedManifestStaticFilesStorage, mysite/settings/production.py:7); couplet does not run it at build time, where the settings lack the runtime environment (SECRET_KEY, DATABASE_URL, ...): run it at start, --cmd 'python manage.py collectstatic --noinput && gunicorn --bind 0.0.0.0:${PORT:-8000} mysite.wsgi:application' with STATIC_ROOT under /app/data (the app user's writable folder), or, in a Dockerfile, add `RUN python manage.py collectstatic --noinput` to the production stage with what the settings need; WhiteNoise (mysite/settings/production.py:6) serves them from there",
    ]);
    // No step is added: a build that works today never gains one that imports the settings.
    const plainSite = plan(await analyze(copyProject("test/fixtures/projects/django-site")));
    expect(render(planned).dockerfile).toBe(render(plainSite).dockerfile);
  });

  it("the --cmd it suggests runs collectstatic before the same server, with the same settings, and silences it", async () => {
    const dir = siteWithStaticFiles();
    const detected = plan(await analyze(dir));
    // Pasted into a shell as printed, with PORT set on the host: the words reach couplet unexpanded.
    const quoted = /--cmd ('[^']+') with/.exec(uncollected(detected.warnings)[0] ?? "")?.[1] as string;
    const line = execFileSync("sh", ["-c", `printf %s ${quoted}`], { env: { PORT: "1234" } }).toString();
    expect(line).toContain("--bind 0.0.0.0:${PORT:-8000} ");
    const given = plan(await analyze(dir), { cmd: parseCmd(line) });
    expect(given.entrypoint?.command).toEqual([
      "sh",
      "-c",
      "python manage.py collectstatic --noinput && exec gunicorn --bind 0.0.0.0:${PORT:-8000} mysite.wsgi:application",
    ]);
    // The same settings: the image keeps the production settings under the --cmd.
    expect(given.env).toEqual({ DJANGO_SETTINGS_MODULE: "mysite.settings.production" });
    expect(given.writable).toEqual(["data"]);
    expect(uncollected(given.warnings)).toEqual([]);
  });

  it("says nothing to a site without STATIC_ROOT or without the app, nor when django is not in production", async () => {
    const plain = plan(await analyze(copyProject("test/fixtures/projects/django-site")));
    expect(uncollected(plain.warnings)).toEqual([]);
    const noRoot = copyProject("test/fixtures/projects/django-site");
    appendFileSync(
      join(noRoot, "mysite/settings/base.py"),
      'INSTALLED_APPS += ["django.contrib.staticfiles"]\n',
    );
    expect(uncollected(plan(await analyze(noRoot)).warnings)).toEqual([]);
    const project = await analyze(siteWithStaticFiles());
    const image = { entrypoint: undefined, env: {}, writable: ["data"], workdir: "/app" };
    expect(staticFilesWarning(project, new Set(["gunicorn"]), image)).toBeUndefined();
    expect(staticFilesWarning(project, new Set(["django"]), image)).toMatch(
      /run it at start, `python manage\.py collectstatic --noinput` before the server, with STATIC_ROOT in a folder the app user may write,/,
    );
  });

  it("without manage.py, collects with python -m django; without WhiteNoise, says what serves them", async () => {
    const dir = siteWithStaticFiles();
    rmSync(join(dir, "manage.py"));
    const warning = uncollected(plan(await analyze(dir)).warnings)[0] ?? "";
    expect(warning).toContain("nothing is served at STATIC_URL");
    expect(warning).toContain("`RUN python -m django collectstatic --noinput`");
    expect(warning).toMatch(/serve them with WhiteNoise or a web server in front$/);
    // Without production settings the image sets no DJANGO_SETTINGS_MODULE, and `python -m django` alone answers
    // "Unknown command: 'collectstatic'": the line names the settings wsgi.py defaults to.
    rmSync(join(dir, "mysite/settings/production.py"));
    const planned = plan(await analyze(dir));
    expect(planned.env).toEqual({});
    const line = /--cmd '([^']+)'/.exec(uncollected(planned.warnings)[0] ?? "")?.[1];
    expect(line).toBe(
      "python -m django collectstatic --noinput --settings mysite.settings.base && gunicorn --bind 0.0.0.0:${PORT:-8000} mysite.wsgi:application",
    );
    expect(uncollected(planned.warnings)[0]).toContain(
      "`RUN python -m django collectstatic --noinput --settings mysite.settings.base`",
    );
  });
});
