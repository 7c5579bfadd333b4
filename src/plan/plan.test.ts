import { appendFileSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { userError } from "../../test/support/errors.js";
import { copyProject, editPyproject, lintWritten } from "../../test/support/project-variants.js";
import { render } from "../generate/render.js";
import { analyze } from "../project/analyze.js";
import { parsePlatforms } from "../project/platform.js";
import type { Project } from "../project/types.js";
import { explainPlan } from "./explain.js";
import { imageWarnings, plan } from "./plan.js";

const root = new URL("../..", import.meta.url).pathname;
const load = (path: string) => analyze(join(root, path));

describe("choosing the interpreter", () => {
  it("passes over CPython versions for which a pinned package has no wheel, and says why", async () => {
    const result = plan(await load("examples/fastapi-app"));
    expect(result.python.version).toBe("3.13");
    expect(result.python.debian).toBe("trixie");
    expect(result.baseImage.runtime).toBe("python:3.13-slim-trixie");
    const rejected = result.python.rejected.map((r) => r.version);
    expect(rejected).toContain("3.14");
    expect(result.python.rejected.find((r) => r.version === "3.14")?.reason).toMatch(
      /pydantic-core .* no x86_64 wheel/,
    );
    expect(result.native.compile).toEqual([]);
  });

  it("takes the newest allowed version when the constraint is narrow", async () => {
    const result = plan(await load("examples/flask-uwsgi"));
    expect(result.python.version).toBe("3.11");
    expect(result.python.reason).toMatch(/newest release allowed by "~3.11"/);
  });

  it("honours --python, and says what it will compile", async () => {
    const result = plan(await load("examples/fastapi-app"), { python: "3.14" });
    expect(result.python.version).toBe("3.14");
    expect(result.python.reason).toMatch(/pydantic-core .* compiled from source/);
    expect(result.native.compile.map((c) => c.name)).toContain("pydantic-core");
  });

  it("refuses --python outside the constraint, naming pyproject.toml and its line", async () => {
    const project = await load("examples/flask-uwsgi");
    const error = userError(() => plan(project, { python: "3.12" }));
    expect(error.message).toMatch(/--python 3\.12 is outside the project's python constraint "~3\.11"/);
    expect(error.location?.file).toBe(project.pyprojectPath);
    const text = readFileSync(project.pyprojectPath, "utf8").split("\n");
    expect(text[(error.location?.line ?? 0) - 1]).toMatch(/^python = "~3\.11"/);
  });

  it("refuses a constraint that no CPython release satisfies", async () => {
    const project: Project = {
      ...(await load("examples/cli-tool")),
      python: { constraint: ">=3.99", source: "project.requires-python", location: { file: "x" } },
    };
    expect(userError(() => plan(project)).message).toMatch(/admits no CPython release/);
  });
});

describe("native needs", () => {
  it("compiles the seed's sdists with their build packages, and ships only the runtime libraries", async () => {
    const result = plan(await load("examples/flask-uwsgi"));
    expect(result.native.compile.map((c) => c.name)).toEqual(["psycopg2", "uwsgi"]);
    expect(result.native.buildPackages).toEqual(expect.arrayContaining(["gcc", "libpcre3-dev", "libpq-dev"]));
    expect(result.native.runtimePackages).toEqual(expect.arrayContaining(["libpcre3", "libpq5"]));
    expect(result.native.runtimePackages.some((name) => name.endsWith("-dev") || name === "gcc")).toBe(false);
  });

  it("uses the Debian release's own package names", async () => {
    const project: Project = {
      ...(await load("examples/flask-uwsgi")),
      python: { constraint: ">=3.11,<3.14", source: "x", location: { file: "x" } },
    };
    const result = plan(project);
    expect(result.python.debian).toBe("trixie");
    expect(result.native.buildPackages).not.toContain("libpcre3-dev");
    expect(result.native.runtimePackages).not.toContain("libpcre3");
  });

  it("skips packages whose markers leave them out on Linux CPython", async () => {
    const project = await load("test/fixtures/projects/large");
    const names = project.lock.packages.map((pkg) => pkg.name);
    expect(names).toEqual(expect.arrayContaining(["pywinpty", "pypydispatcher"]));
    const compiled = plan(project).native.compile.map((c) => c.name);
    expect(compiled).not.toContain("pywinpty");
    expect(compiled).not.toContain("pypydispatcher");
    expect(compiled).toEqual(["psycopg2", "uwsgi"]);
  });

  it("needs nothing when every package has a wheel", async () => {
    const result = plan(await load("examples/cli-tool"));
    expect(result.native).toEqual({
      compile: [],
      buildPackages: [],
      buildPackagesByPlatform: { "linux/amd64": [] },
      runtimePackages: [],
      runtimeReasons: {},
    });
  });
});

describe("platforms", () => {
  it("plans for linux/amd64 unless told otherwise", async () => {
    const result = plan(await load("test/fixtures/projects/amd64-only-wheels"));
    expect(result.platforms).toEqual(["linux/amd64"]);
    expect(result.python.version).toBe("3.9");
    expect(result.native.compile).toEqual([]);
    expect(result.native.buildPackages).toEqual([]);
  });

  it("says per platform what compiles, and gives the builder what any of them needs", async () => {
    const project = await load("test/fixtures/projects/amd64-only-wheels");
    const both = plan(project, { platforms: parsePlatforms("linux/amd64,linux/arm64") });
    expect(both.platforms).toEqual(["linux/amd64", "linux/arm64"]);
    expect(both.native.compile).toEqual([
      {
        name: "psycopg2-binary",
        version: "2.8.6",
        reason: "no linux/arm64 (glibc 2.36) wheel is locked, only a source distribution",
        platforms: ["linux/arm64"],
      },
    ]);
    expect(both.native.buildPackages).toEqual(["gcc", "libc6-dev", "libpq-dev"]);
    expect(both.native.buildPackagesByPlatform).toEqual({
      "linux/amd64": [],
      "linux/arm64": ["gcc", "libc6-dev", "libpq-dev"],
    });
    expect(both.native.runtimePackages).toEqual(["libpq5"]);
    expect(explainPlan(both)).toContain("psycopg2-binary 2.8.6 on linux/arm64: no linux/arm64");
    expect(explainPlan(both)).toMatch(
      /Build apt +linux\/amd64: none \(wheels for every package, no compiler\)\n +linux\/arm64: gcc libc6-dev libpq-dev\n/,
    );
    const arm = plan(project, { platforms: parsePlatforms("linux/arm64") });
    expect(arm.native.compile.map((c) => c.name)).toEqual(["psycopg2-binary"]);
  });

  it("passes over an interpreter that lacks a wheel on any of the platforms", async () => {
    // pydantic-core has no CPython 3.14 wheel for either machine in this lock: both reject 3.14.
    const project = await load("examples/fastapi-app");
    const both = plan(project, { platforms: parsePlatforms("linux/amd64,linux/arm64") });
    expect(both.python.version).toBe("3.13");
    expect(both.python.rejected.find((r) => r.version === "3.14")?.reason).toMatch(
      /pydantic-core .* no x86_64 or aarch64 wheel for CPython 3.14/,
    );
  });
});

describe("groups, extras and Poetry", () => {
  it("keeps every non-main group out of production and puts them in development", async () => {
    const result = plan(await load("test/fixtures/projects/poetry1-groups"));
    expect(result.install.groups).toEqual(["main"]);
    expect(result.install.excludedGroups.sort()).toEqual(["dev", "docs", "test"]);
    expect(result.install.developmentGroups.sort()).toEqual(["dev", "docs", "test"]);
  });

  it("installs every non-optional group in the seed's variants, as they did", async () => {
    const result = plan(await load("test/fixtures/projects/poetry1-groups"), { strategy: "slim" });
    expect(result.install.groups.sort()).toEqual(["dev", "main", "test"]);
  });

  it("adds the optional groups named in [tool.couplet] with, and rejects unknown ones", async () => {
    const project = await load("test/fixtures/projects/poetry1-groups");
    const withDocs = { ...project, couplet: { ...project.couplet, with: ["docs"] } };
    expect(plan(withDocs).install.groups).toEqual(["main", "docs"]);
    const unknown = { ...project, couplet: { ...project.couplet, with: ["nope"] } };
    expect(userError(() => plan(unknown)).message).toMatch(/with names the group "nope"/);
  });

  it("installs the extras named in [tool.couplet] extras", async () => {
    const result = plan(await load("test/fixtures/projects/extras-dynamic"));
    expect(result.install.extras).toEqual(["images"]);
  });

  it("pins Poetry to the lock's header, the option, or the last 1.x release for a headerless 1.1 lock", async () => {
    expect(plan(await load("examples/flask-uwsgi")).poetry).toEqual({
      version: "1.8.5",
      source: "the @generated header of poetry.lock",
    });
    expect(plan(await load("examples/flask-uwsgi"), { poetryVersion: "1.8.4" }).poetry.version).toBe("1.8.4");
    // Poetry 1.1.15 is unmaintained and no longer installs; 1.8.5 reads the same lock (test/e2e/deps.test.ts).
    const headerless = plan(await load("test/fixtures/projects/poetry11"));
    expect(headerless.poetry.version).toBe("1.8.5");
    expect(headerless.poetry.source).toMatch(/lock-version 1\.1 without a @generated header/);
    expect(headerless.warnings.join("\n")).not.toMatch(/names no Poetry version/);
    expect(plan(await load("test/fixtures/projects/poetry12-groups")).poetry.version).toBe("1.8.5");
  });

  it("copies path dependencies, compiles none of the pure-Python ones, keeps the root version a plugin needs", async () => {
    const result = plan(await load("test/fixtures/projects/monorepo"));
    expect(result.install.paths).toEqual([
      { name: "myapp-plugin-hello", path: "plugins/hello", develop: false },
      { name: "mylib", path: "libs/mylib", develop: true },
    ]);
    expect(result.install.rootRequiredBy).toEqual(["myapp-plugin-hello"]);
    expect(result.native).toEqual({
      compile: [],
      buildPackages: [],
      buildPackagesByPlatform: { "linux/amd64": [] },
      runtimePackages: [],
      runtimeReasons: {},
    });
    expect(plan(await load("examples/cli-tool")).install.rootRequiredBy).toEqual([]);
  });

  it("compiles a path dependency that has native sources", async () => {
    const project = await load("test/fixtures/projects/monorepo");
    const mylib = project.lock.packages.find((p) => p.name === "mylib");
    if (mylib)
      mylib.localBuild = { path: "libs/mylib", compiles: "it has native sources (src/mylib/_speed.c)" };
    const result = plan(project);
    expect(result.native.compile).toEqual([
      {
        name: "mylib",
        version: "0.3.0",
        reason: "built from libs/mylib: it has native sources (src/mylib/_speed.c)",
        platforms: ["linux/amd64"],
      },
    ]);
    expect(result.native.buildPackages).toContain("gcc");
  });

  it("refuses a path dependency outside the build context, naming the fix", async () => {
    const project = await load("test/fixtures/projects/path-outside/app");
    const error = userError(() => plan(project));
    expect(error.message).toMatch(
      /^shared is a path dependency at "\.\.\/shared", outside the project folder/,
    );
    expect(error.hint).toMatch(/--build-context/);
  });

  it("refuses a stale lock", async () => {
    const project = { ...(await load("examples/flask-uwsgi")), lockFresh: false };
    const error = userError(() => plan(project));
    expect(error.location?.file).toMatch(/poetry\.lock$/);
    expect(error.hint).toContain("poetry lock --no-update");
  });
});

describe("the command and the code", () => {
  it("uses a console script as the entrypoint", async () => {
    expect(plan(await load("examples/cli-tool")).entrypoint).toMatchObject({
      command: ["yamlstat"],
      form: "entrypoint",
    });
  });

  it("prefers --cmd, then [tool.couplet] cmd", async () => {
    const project = await load("examples/fastapi-app");
    expect(plan(project).entrypoint).toMatchObject({ form: "cmd", source: "[tool.couplet] cmd" });
    expect(plan(project, { cmd: ["python", "-m", "app"] }).entrypoint?.command).toEqual([
      "python",
      "-m",
      "app",
    ]);
  });

  it("copies only what the command reaches when package-mode is false: no tests, no lock", async () => {
    const result = plan(await load("test/fixtures/projects/package-mode-false"));
    expect(result.project.packageMode).toBe(false);
    // [tool.couplet] cmd runs `uvicorn main:app`.
    expect(result.project.sourcePaths).toEqual(["main.py"]);
    expect(result.project.sourceReason).toMatch(/what main\.py imports or names/);
  });

  it("copies what a Django package names beside it: its apps, templates, a file it reads, manage.py", async () => {
    // bieterrunde: `voting` in INSTALLED_APPS and pyproject.toml read by the settings sit beside the
    // settings package; the image had the package only and gunicorn died on the first import.
    const dir = copyProject("test/fixtures/projects/django-package");
    try {
      editPyproject(dir, (t) => `${t}\n[tool.couplet]\nwith = ["prod"]\n`);
      // What startproject's settings name and `manage.py migrate` leaves beside them: the developer's database
      // (and a log, a key) must never be copied into the image because the settings name them.
      appendFileSync(
        join(dir, "bidsite", "settings.py"),
        '\nDATABASES = {"default": {"NAME": BASE_DIR / "db.sqlite3"}}\nLOG = BASE_DIR / "debug.log"\nKEY = "server.key"\n',
      );
      for (const name of ["db.sqlite3", "debug.log", "server.key"])
        writeFileSync(join(dir, name), "local state");
      const project = await analyze(dir);
      expect(project.lockFresh).not.toBe(false);
      const result = plan(project);
      expect(result.project.packageMode).toBe(true);
      expect(result.project.sourcePaths).toEqual([
        "bidsite",
        "manage.py",
        "pyproject.toml",
        "templates",
        "voting",
      ]);
      expect(result.project.sourceReason).toMatch(
        /root package .*; beside it, pyproject\.toml, templates, voting named by bidsite .*manage\.py/,
      );
      const { dockerfile, dockerignore } = render(result);
      for (const path of ["voting", "templates", "pyproject.toml", "manage.py"])
        expect(dockerfile).toContain(`COPY --from=builder /app/${path} /app/${path}\n`);
      expect(dockerfile).not.toMatch(/docs/);
      // The builder has pyproject.toml among the root install's inputs: it is not copied a second time.
      expect(dockerfile).not.toContain("COPY pyproject.toml ./pyproject.toml");
      expect(await lintWritten(dir, { dockerfile, dockerignore })).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("without a command, copies Python modules and data folders but no file without an extension", async () => {
    // openrelik-worker-hasher (a Celery worker, package-mode = false, no command): LICENSE and the project's own
    // Dockerfile were taken for data folders and copied into the image.
    const dir = copyProject("test/fixtures/projects/package-mode-false");
    try {
      editPyproject(dir, (t) => t.replace(/\ncmd = .*\n/, "\n"));
      mkdirSync(join(dir, "src"));
      writeFileSync(join(dir, "src", "app.py"), "from celery import Celery\n\ncelery = Celery()\n");
      mkdirSync(join(dir, "test_data"));
      writeFileSync(join(dir, "test_data", "sample.bin"), "data\n");
      writeFileSync(join(dir, "LICENSE"), "Apache License 2.0\n");
      writeFileSync(join(dir, "Dockerfile"), "FROM ubuntu:24.04\n");
      const result = plan(await analyze(dir));
      expect(result.entrypoint).toBeUndefined();
      expect(result.project.sourceReason).toMatch(/every Python module and data folder/);
      expect(result.project.sourcePaths).toEqual(["main.py", "src", "test_data"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("copies only the package of a package-mode project that is not a Django site", async () => {
    expect(plan(await load("test/fixtures/projects/src-layout")).project.sourcePaths).toEqual(["src/srccli"]);
    expect(plan(await load("examples/flask-uwsgi")).project.sourcePaths).toEqual(["hello_uwsgi"]);
  });

  it("adds libpq5 for psycopg 3 only when no psycopg-binary wheel brings its own libpq", async () => {
    // full-stack-fastapi-template locks psycopg[binary]: its apt layer was 2.8 MB of nothing needed.
    expect(plan(await load("test/fixtures/projects/psycopg-binary")).native.runtimePackages).toEqual([]);
    expect(plan(await load("test/fixtures/projects/package-mode-false")).native.runtimePackages).toEqual([
      "libpq5",
    ]);
  });

  it("says why each runtime package is wanted: the Python package, with couplet's note or its pyproject.toml line", async () => {
    expect(plan(await load("test/fixtures/projects/package-mode-false")).native.runtimeReasons).toEqual({
      libpq5: [
        "psycopg 3.3.9: psycopg 3 is pure Python and loads the system libpq at run time (unless psycopg[binary] is installed)",
      ],
    });
    // A [tool.couplet.native] entry with runtime-with-wheel: its own line, and its note when it has one.
    const project = await load("test/fixtures/projects/odbc-client");
    project.couplet.native.pyodbc = {
      build: [],
      runtime: ["libodbc2", "ssdeep"],
      runtimeWithWheel: true,
      declaredAt: 14,
    };
    expect(plan(project).native.runtimeReasons).toEqual({
      libodbc2: ["pyodbc 5.5.0: [tool.couplet.native.pyodbc] runtime, pyproject.toml line 14"],
      ssdeep: ["pyodbc 5.5.0: [tool.couplet.native.pyodbc] runtime, pyproject.toml line 14"],
    });
    project.couplet.native.pyodbc.note = "ssdeep is run by subprocess";
    expect(plan(project).native.runtimeReasons.ssdeep).toEqual([
      "pyodbc 5.5.0: [tool.couplet.native.pyodbc] runtime, pyproject.toml line 14 (ssdeep is run by subprocess)",
    ]);
    // plan's text says it under the row, for someone deciding where to change it.
    expect(explainPlan(plan(project))).toContain(
      "Runtime apt  libodbc2 ssdeep\n             libodbc2: for pyodbc 5.5.0: [tool.couplet.native.pyodbc] runtime, pyproject.toml line 14 (ssdeep is run by subprocess)\n             ssdeep: for pyodbc 5.5.0:",
    );
    // Several Python packages wanting one Debian package: each is named; a compiled one says so.
    const flask = plan(await load("examples/flask-uwsgi")).native.runtimeReasons;
    expect(flask.libpq5).toEqual([expect.stringMatching(/^psycopg2 2\.9\.\d+ \(compiled from source\): /)]);
  });

  it("is plain JSON: it survives a round trip unchanged", async () => {
    const result = plan(await load("examples/flask-uwsgi"));
    expect(JSON.parse(JSON.stringify(result))).toEqual(result);
  });
});

describe("where the app may write", () => {
  it("gives a detected service a writable data folder, and a console script none", async () => {
    expect(plan(await load("test/fixtures/projects/flask-notes")).writable).toEqual(["data"]);
    expect(plan(await load("examples/cli-tool")).writable).toEqual([]);
  });

  it("takes [tool.couplet] writable, and none when it is empty", async () => {
    const project = await load("test/fixtures/projects/flask-notes");
    const configured = { ...project, couplet: { ...project.couplet, writable: ["cache", "uploads"] } };
    expect(plan(configured).writable).toEqual(["cache", "uploads"]);
    expect(plan({ ...project, couplet: { ...project.couplet, writable: [] } }).writable).toEqual([]);
  });
});

describe("a package-mode project with no package of its name (an application that never set package-mode)", () => {
  it("is planned as an application: --no-root, its code copied, a warning saying why, lint clean", async () => {
    // flask-uwsgi with its package renamed and `packages` dropped: the shape of fastapi-realworld-example-app.
    const dir = copyProject("examples/flask-uwsgi");
    try {
      renameSync(join(dir, "hello_uwsgi"), join(dir, "web"));
      editPyproject(dir, (t) =>
        t
          .replace('packages = [{ include = "hello_uwsgi" }]\n', "")
          .replace("hello_uwsgi.wsgi:app", "web.wsgi:app"),
      );
      const project = await analyze(dir);
      expect(project.lockFresh).not.toBe(false);
      expect(project.rootPackageMissing).toBe(true);
      expect(project.packageMode).toBe(false);
      const result = plan(project);
      expect(result.warnings.join("\n")).toMatch(/no package named hello-uwsgi .* treated as an application/);
      expect(result.project.sourcePaths).toEqual(["web"]);
      const { dockerfile, dockerignore } = render(result);
      expect(dockerfile).toContain("poetry install --only main --no-root");
      expect(dockerfile).not.toMatch(/poetry install --only main\s*$/m);
      expect(await lintWritten(dir, { dockerfile, dockerignore })).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("imageWarnings: what couplet assemble says of a plan", () => {
  it("keeps the warnings about the image and drops those about how the Dockerfile builds it", async () => {
    const planned = plan(await load("examples/cli-tool"), {
      cacheMounts: false,
      cmd: ["yamlstat", "--reload"],
    });
    expect(planned.warnings).toHaveLength(2);
    expect(planned.warnings[1]).toMatch(/^cache mounts are off/);
    expect(imageWarnings(planned)).toEqual([
      "the command runs a development server (--reload watches files: a development setting); use a production server",
    ]);
  });
});
