import { renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { copyProject, editPyproject, lintWritten } from "../../test/support/project-variants.js";
import { UserError } from "../errors.js";
import { render } from "../generate/render.js";
import { analyze } from "../project/analyze.js";
import { containerCommand } from "./command.js";
import { explainPlan } from "./explain.js";
import { plan } from "./plan.js";

const root = new URL("../..", import.meta.url).pathname;
const load = (path: string) => analyze(join(root, path));
// biome-ignore lint/suspicious/noTemplateCurlyInString: the shell's default-value expansion, on purpose
const PORT = "${PORT:-8000}";

describe("a command the user wrote, as the container's main process", () => {
  const table: [string[], string[]][] = [
    [
      ["gunicorn", "app:app"],
      ["gunicorn", "app:app"],
    ],
    [
      ["python manage.py migrate && gunicorn site.wsgi"],
      ["sh", "-c", "python manage.py migrate && exec gunicorn site.wsgi"],
    ],
    [
      ["gunicorn", "--bind", `0.0.0.0:${PORT}`, "app:app"],
      ["sh", "-c", `exec gunicorn --bind 0.0.0.0:${PORT} app:app`],
    ],
    [
      ["alembic", "upgrade", "head", "&&", "uvicorn", "main:app", "--port", "$PORT"],
      ["sh", "-c", "alembic upgrade head && exec uvicorn main:app --port $PORT"],
    ],
    [
      ["setup", ";", "exec", "serve", "it's"],
      ["sh", "-c", 'setup ; exec serve "it\'s"'],
    ],
    [
      ["sh", "-c", "a && b"],
      ["sh", "-c", "a && b"],
    ],
  ];
  for (const [given, expected] of table) {
    it(JSON.stringify(given), () => {
      expect(containerCommand(given, "--cmd")).toEqual(expected);
    });
  }

  for (const line of [["a | b"], ["a", "||", "b"], ["worker &", "&&", "serve"]]) {
    it(`refuses ${JSON.stringify(line)}, saying how to fix it`, () => {
      expect(() => containerCommand(line, "--cmd")).toThrow(UserError);
      expect(() => containerCommand(line, "--cmd")).toThrow(/--cmd pipes or backgrounds commands/);
    });
  }

  it("no longer renders a literal && in exec form (regression: --cmd was split into words)", async () => {
    const result = plan(await load("examples/flask-uwsgi"), {
      cmd: ["flask", "db", "upgrade", "&&", "uwsgi"],
    });
    expect(result.entrypoint?.command).toEqual(["sh", "-c", "flask db upgrade && exec uwsgi"]);
  });

  it("points at pyproject.toml when [tool.couplet] cmd cannot run", async () => {
    const project = await load("examples/flask-uwsgi");
    const broken = { ...project, couplet: { ...project.couplet, cmd: ["uwsgi | tee log"] } };
    try {
      plan(broken);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(UserError);
      expect((error as UserError).location?.file).toBe(project.pyprojectPath);
      expect((error as UserError).message).toMatch(/^\[tool\.couplet\] cmd pipes/);
    }
  });
});

describe("the command for a detected web app", () => {
  const table: { project: string; command: string; env?: Record<string, string> }[] = [
    {
      project: "test/fixtures/projects/django-site",
      command: `exec gunicorn --bind 0.0.0.0:${PORT} mysite.wsgi:application`,
      env: { DJANGO_SETTINGS_MODULE: "mysite.settings.production" },
    },
    {
      project: "test/fixtures/projects/fastapi-svc",
      command: `exec uvicorn --host 0.0.0.0 --port ${PORT} svc.api:app`,
    },
    {
      project: "test/fixtures/projects/flask-notes",
      command: `exec waitress-serve --listen=0.0.0.0:${PORT} --call notes:create_app`,
    },
  ];
  for (const c of table) {
    it(`${c.project}: a production server on $PORT, with EXPOSE`, async () => {
      const result = plan(await load(c.project));
      expect(result.entrypoint?.command).toEqual(["sh", "-c", c.command]);
      expect(result.entrypoint?.source).toMatch(/^detected: /);
      expect(result.entrypoint?.found.length).toBeGreaterThan(1);
      expect(result.env).toEqual(c.env ?? {});
      expect(result.expose).toEqual([8000]);
      expect(result.warnings.join("\n")).not.toMatch(/no command/);
      expect(result.entrypoint?.command.join(" ")).not.toMatch(/runserver|--reload|fastapi dev/);
    });
  }

  it("keeps a Django site's production settings under a --cmd, and the Dockerfile sets them", async () => {
    const result = plan(await load("test/fixtures/projects/django-site"), {
      cmd: ["python", "manage.py", "migrate", "&&", "gunicorn", "mysite.wsgi"],
    });
    expect(result.entrypoint?.command).toEqual([
      "sh",
      "-c",
      "python manage.py migrate && exec gunicorn mysite.wsgi",
    ]);
    expect(result.env).toEqual({ DJANGO_SETTINGS_MODULE: "mysite.settings.production" });
    expect(result.entrypoint?.found).toEqual([
      "production settings mysite.settings.production (mysite/settings/production.py), set as DJANGO_SETTINGS_MODULE",
    ]);
    expect(render(result).dockerfile).toContain('ENV DJANGO_SETTINGS_MODULE="mysite.settings.production"\n');
    // Not a Django site: a --cmd sets nothing.
    expect(plan(await load("examples/flask-uwsgi"), { cmd: ["uwsgi"] }).env).toEqual({});
  });

  it("keeps a console script ahead of detection", async () => {
    const result = plan(await load("examples/cli-tool"));
    expect(result.entrypoint).toMatchObject({ command: ["yamlstat"], form: "entrypoint" });
    // A CLI tool: no port, no writable folder.
    expect(result.expose).toEqual([]);
    expect(result.writable).toEqual([]);
  });

  it("plans a console script that starts a web server as a service: 0.0.0.0, its port, a data folder", async () => {
    const result = plan(await load("test/fixtures/projects/script-server"));
    expect(result.entrypoint).toEqual({
      command: ["tipjar", "--host", "0.0.0.0"],
      form: "cmd",
      source: "[project.scripts] tipjar (one of 2), a web server: it starts uvicorn",
      found: [
        "tipjar starts uvicorn: uvicorn.Server(...) at tipjar/server.py:16",
        "--host option at tipjar/server.py:11: given 0.0.0.0, so the server answers from outside the container",
        "port 5000 (tipjar/settings.py:9)",
      ],
    });
    expect(result.expose).toEqual([5000]);
    expect(result.writable).toEqual(["data"]);
    expect(result.warnings).toEqual([]);
  });

  it("says when a server script cannot be told to leave 127.0.0.1, and falls back to the server's port", async () => {
    const project = await load("test/fixtures/projects/script-server");
    const tipjar = project.app.scriptServers.tipjar;
    if (!tipjar) throw new Error("the fixture's server script was not detected");
    const result = plan({
      ...project,
      app: {
        ...project.app,
        scriptServers: { tipjar: { ...tipjar, hostOption: undefined, port: undefined } },
      },
    });
    expect(result.entrypoint?.command).toEqual(["tipjar"]);
    expect(result.entrypoint?.found).toContain("port 8000 (uvicorn's default)");
    expect(result.expose).toEqual([8000]);
    expect(result.warnings.join("\n")).toMatch(
      /tipjar makes uvicorn listen on 127\.0\.0\.1 \(uvicorn's default\).*no --host option.*\[tool\.couplet\] cmd/,
    );
  });

  it("without a server in the production packages, says what it found and how to set cmd", async () => {
    const project = await load("test/fixtures/projects/fastapi-svc");
    const withoutServer = {
      ...project,
      lock: { ...project.lock, packages: project.lock.packages.filter((p) => p.name !== "uvicorn") },
    };
    const result = plan(withoutServer);
    expect(result.entrypoint).toBeUndefined();
    expect(result.warnings.join("\n")).toMatch(
      /no command for the container: found fastapi app svc\.api:app \(svc\/api\.py:3\) but no production server .*set \[tool\.couplet\] cmd/,
    );
  });

  it("with the server locked only in an optional group, names the group and the `with` that installs it", async () => {
    // bieterrunde keeps gunicorn in [tool.poetry.group.prod]: the plan said "no production server in poetry.lock".
    const project = await load("test/fixtures/projects/django-package");
    const result = plan(project);
    expect(result.entrypoint).toBeUndefined();
    expect(result.warnings.join("\n")).toMatch(
      /found django app bidsite\.wsgi:application \(bidsite\/settings\.py:\d+\) and gunicorn 23\.0\.0 in poetry\.lock, but only in group prod, which production leaves out; add \[tool\.couplet\] with = \["prod"\]/,
    );
    const served = plan({ ...project, couplet: { ...project.couplet, with: ["prod"] } });
    expect(served.entrypoint?.command).toEqual([
      "sh",
      "-c",
      `exec gunicorn --bind 0.0.0.0:${PORT} bidsite.wsgi:application`,
    ]);
    expect(served.warnings).toEqual([]);
  });

  it("without any app, says so and how to set [tool.couplet] cmd", async () => {
    const project = await load("test/fixtures/projects/fastapi-svc");
    const result = plan({
      ...project,
      app: { objects: [], django: undefined, entries: [], scriptServers: {}, celery: [] },
      lock: { ...project.lock, packages: project.lock.packages.filter((p) => p.name !== "uvicorn") },
    });
    expect(result.entrypoint).toBeUndefined();
    expect(result.warnings.join("\n")).toMatch(
      /no web app .* found; the image will start Python\. Set \[tool\.couplet\] cmd/,
    );
  });

  it("warns when the user's command is a development server", async () => {
    const result = plan(await load("test/fixtures/projects/django-site"), {
      cmd: ["python", "manage.py", "runserver", "0.0.0.0:8000"],
    });
    expect(result.warnings.join("\n")).toMatch(/development server \(Django's runserver/);
  });
});

describe("a Celery worker as the command", () => {
  const fixture = "test/fixtures/projects/celery-worker";
  const WORKER = ["celery", "--app", "src.app:celery", "worker", "--loglevel", "INFO"];

  it("runs the worker of the one module-level app, exec form, and plan says where it was found", async () => {
    const result = plan(await load(fixture));
    expect(result.entrypoint).toEqual({
      command: WORKER,
      form: "cmd",
      source: "detected: a Celery worker for src.app:celery",
      found: [
        "Celery app src.app:celery at src/app.py:6",
        "celery 5.7.0 in poetry.lock's production packages",
        "celery imports src.app from the working directory, where the code is copied",
      ],
      override: expect.stringMatching(
        /--cmd "celery --app src\.app:celery worker --loglevel INFO --queues NAME", or \[tool\.couplet\] cmd = \["celery", /,
      ),
    });
    expect(result.warnings).toEqual([]);
    expect(result.expose).toEqual([]);
    // The module the command names brings its package, and nothing from tests/.
    expect(result.project.sourcePaths).toEqual(["src"]);
    const text = explainPlan(result);
    expect(text).toContain(
      `CMD ${JSON.stringify(WORKER)}, from detected: a Celery worker for src.app:celery`,
    );
    expect(text).toContain("found: Celery app src.app:celery at src/app.py:6");
    expect(text).toMatch(/--cmd ".*", or \[tool\.couplet\] cmd = \[/);
  });

  it("renders the worker as the Dockerfile's CMD, and the file lints clean", async () => {
    const dir = copyProject(fixture);
    try {
      const { dockerfile, dockerignore } = render(plan(await analyze(dir)));
      expect(dockerfile).toContain(`CMD [${WORKER.map((w) => JSON.stringify(w)).join(", ")}]\n`);
      expect(dockerfile).not.toMatch(/^ENTRYPOINT/m);
      expect(await lintWritten(dir, { dockerfile, dockerignore })).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("gives way to --cmd and [tool.couplet] cmd", async () => {
    const project = await load(fixture);
    expect(plan(project, { cmd: ["celery", "--app", "src.app", "beat"] }).entrypoint).toMatchObject({
      command: ["celery", "--app", "src.app", "beat"],
      source: "--cmd",
      found: [],
    });
    const configured = { ...project, couplet: { ...project.couplet, cmd: ["python", "-m", "src.cli"] } };
    expect(plan(configured).entrypoint?.command).toEqual(["python", "-m", "src.cli"]);
  });

  it("picks none of several apps, and names each with its file and line", async () => {
    const dir = copyProject(fixture);
    try {
      writeFileSync(
        join(dir, "src", "beat.py"),
        "from celery import Celery\n\n\nscheduler = Celery('beat', broker='memory://')\n",
      );
      const result = plan(await analyze(dir));
      expect(result.entrypoint).toBeUndefined();
      expect(result.warnings.join("\n")).toMatch(
        /^no command for the container: found 2 Celery apps, src\.app:celery \(src\/app\.py:6\), src\.beat:scheduler \(src\/beat\.py:4\), .*does not guess .*\[tool\.couplet\] cmd = \["celery", "--app", "src\.app:celery", "worker", "--loglevel", "INFO"\]/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("says which group holds celery when production leaves it out", async () => {
    const project = await load(fixture);
    const packages = project.lock.packages.map((p) =>
      p.name === "celery" ? { ...p, groups: ["worker"] } : p,
    );
    const result = plan({ ...project, lock: { ...project.lock, packages } });
    expect(result.entrypoint).toBeUndefined();
    expect(result.warnings.join("\n")).toMatch(
      /found Celery app src\.app:celery \(src\/app\.py:6\), but celery 5\.7\.0 is locked only in group worker, .*with = \["worker"\]/,
    );
  });

  it("passes over a web app no locked server can serve, and says so", async () => {
    const dir = copyProject(fixture);
    try {
      writeFileSync(join(dir, "src", "status.py"), "from flask import Flask\n\napp = Flask(__name__)\n");
      const result = plan(await analyze(dir));
      expect(result.entrypoint?.command).toEqual(WORKER);
      expect(result.entrypoint?.found).toContain(
        "passed over: flask app src.status:app (src/status.py:3), which no production server in poetry.lock serves",
      );
      expect(result.warnings).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("leaves a console script the command (path-tmpl-worker's shape), naming the worker and how to run it", async () => {
    // path-tmpl-worker: a package whose one script is a maintenance CLI, its Celery app in the package.
    const dir = copyProject(fixture);
    try {
      renameSync(join(dir, "src"), join(dir, "checksum_worker"));
      writeFileSync(join(dir, "checksum_worker", "cli.py"), "def main():\n    print('maintenance')\n");
      editPyproject(dir, (t) =>
        t
          .replace("[tool.poetry]\npackage-mode = false\n", "")
          .replace(
            "[tool.poetry.group",
            '[project.scripts]\nchecksum = "checksum_worker.cli:main"\n\n[tool.poetry.group',
          ),
      );
      const project = await analyze(dir);
      expect(project.packageMode).toBe(true);
      const result = plan(project);
      expect(result.entrypoint?.command).toEqual(["checksum"]);
      expect(result.entrypoint?.form).toBe("entrypoint");
      expect(result.entrypoint?.found).toEqual([
        'Celery app checksum_worker.app:celery at checksum_worker/app.py:6, not started by this command: for its worker, set [tool.couplet] cmd = ["celery", "--app", "checksum_worker.app:celery", "worker", "--loglevel", "INFO"], or run the image with --entrypoint celery and the arguments --app checksum_worker.app:celery worker --loglevel INFO (a second container)',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("is no worker when the only Celery() is made inside a function", async () => {
    const dir = copyProject(fixture);
    try {
      writeFileSync(
        join(dir, "src", "app.py"),
        "from celery import Celery\n\n\ndef make_app():\n    return Celery('checksum', broker='memory://')\n",
      );
      const result = plan(await analyze(dir));
      expect(result.entrypoint).toBeUndefined();
      expect(result.warnings.join("\n")).toMatch(/no Celery app found; the image will start Python/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
