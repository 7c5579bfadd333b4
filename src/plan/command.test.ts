import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { UserError } from "../errors.js";
import { analyze } from "../project/analyze.js";
import { containerCommand } from "./command.js";
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
      app: { objects: [], django: undefined, entries: [], scriptServers: {} },
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
