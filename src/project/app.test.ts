import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { projectLayouts } from "../../test/support/project-layout.js";
import { type AppFacts, detectApp } from "./app.js";

const root = new URL("../..", import.meta.url).pathname;
const layout = projectLayouts("couplet-app-");

const brief = (facts: AppFacts) =>
  facts.objects.map((o) => `${o.framework} ${o.interface} ${o.target}${o.factory ? "()" : ""} @${o.source}`);

interface Case {
  name: string;
  files: Record<string, string>;
  /** The package's source paths (package mode); undefined: package-mode = false */
  roots?: string[];
  objects: string[];
  settings?: string;
  production?: string;
}

const STARTPROJECT_SETTINGS = `from pathlib import Path\nBASE_DIR = Path(__file__).resolve().parent.parent\nROOT_URLCONF = "proj.urls"\nWSGI_APPLICATION = "proj.wsgi.application"\n`;

const cases: Case[] = [
  {
    name: "django startproject with settings_prod.py beside settings.py",
    files: {
      "manage.py": `import os\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")\n`,
      "proj/__init__.py": "",
      "proj/settings.py": STARTPROJECT_SETTINGS,
      "proj/settings_prod.py": "from .settings import *\nDEBUG = False\n",
      "proj/wsgi.py": `import os\nfrom django.core.wsgi import get_wsgi_application\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")\napplication = get_wsgi_application()\n`,
      "proj/asgi.py": `import os\nfrom django.core.asgi import get_asgi_application\napplication = get_asgi_application()\n`,
    },
    objects: [
      "django wsgi proj.wsgi:application @proj/settings.py:4",
      "django asgi proj.asgi:application @proj/asgi.py:3",
    ],
    settings: "proj.settings",
    production: "proj.settings_prod",
  },
  {
    name: "django with ASGI_APPLICATION and no production settings",
    files: {
      "manage.py": `os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'site_.settings')\n`,
      "site_/__init__.py": "",
      "site_/settings.py": `ASGI_APPLICATION = "site_.asgi.application"\n`,
    },
    objects: ["django asgi site_.asgi:application @site_/settings.py:1"],
    settings: "site_.settings",
  },
  {
    name: "FastAPI in a src layout package",
    roots: ["src/shop"],
    files: {
      "src/shop/__init__.py": "",
      "src/shop/main.py": "from fastapi import FastAPI\n\napp = FastAPI(title='shop')\n",
      "tests/test_main.py": "from fastapi import FastAPI\napp = FastAPI()\n",
    },
    objects: ["fastapi asgi shop.main:app @src/shop/main.py:3"],
  },
  {
    name: "FastAPI built by a function of the same module and bound at module level (app = get_application())",
    files: {
      "app/__init__.py": "",
      "app/main.py":
        "from fastapi import FastAPI\n\n\ndef get_application() -> FastAPI:\n    application = FastAPI(title='x')\n    return application\n\n\napp = get_application()\n",
    },
    objects: ["fastapi asgi app.main:app @app/main.py:9"],
  },
  {
    name: "django asgi package that wraps get_asgi_application() in middleware, no ASGI_APPLICATION setting",
    files: {
      "manage.py": `os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")\n`,
      "shop/__init__.py": "",
      "shop/settings.py": "DEBUG = False\n",
      "shop/asgi/__init__.py":
        "from django.core.asgi import get_asgi_application\nfrom .cors import cors\n\napplication = get_asgi_application()\napplication = cors(application)\n",
    },
    objects: ["django asgi shop.asgi:application @shop/asgi/__init__.py:4"],
    settings: "shop.settings",
  },
  {
    name: "annotated Flask app through the module name",
    files: { "web.py": "import flask\n\nserver: flask.Flask = flask.Flask(__name__)\n" },
    objects: ["flask wsgi web:server @web.py:3"],
  },
  {
    name: "Flask factory in a package",
    files: {
      "blog/__init__.py":
        "from flask import Flask\n\n\ndef create_app():\n    app = Flask(__name__)\n    return app\n",
    },
    objects: ["flask wsgi blog:create_app() @blog/__init__.py:4"],
  },
  {
    name: "Starlette app",
    files: { "api/app.py": "from starlette.applications import Starlette\napp = Starlette(routes=[])\n" },
    objects: ["starlette asgi api.app:app @api/app.py:2"],
  },
  {
    name: "an app built inside a function is not a module-level object, tests are never searched",
    files: {
      "tool.py": "from fastapi import FastAPI\n\ndef build():\n    app = FastAPI()\n    return app\n",
      "tests/conftest.py": "from flask import Flask\napp = Flask(__name__)\n",
    },
    objects: [],
  },
  {
    name: "a name that looks like a framework without importing it",
    files: { "fake.py": "def Flask(name):\n    return name\n\napp = Flask(__name__)\n" },
    objects: [],
  },
  {
    name: "a command-line tool",
    roots: ["cli"],
    files: { "cli/__init__.py": "import click\n\n@click.command()\ndef main():\n    pass\n" },
    objects: [],
  },
];

describe("detecting the app in a project's sources", () => {
  for (const c of cases) {
    it(c.name, async () => {
      const facts = await detectApp(await layout(c.files), c.roots);
      expect(brief(facts)).toEqual(c.objects);
      expect(facts.django?.settings?.module).toBe(c.settings);
      expect(facts.django?.production?.module).toBe(c.production);
    });
  }
});

describe("on the real fixture projects", () => {
  it("Django with a settings package: production.py beside base.py", async () => {
    const facts = await detectApp(join(root, "test/fixtures/projects/django-site"), undefined);
    expect(brief(facts)).toEqual(["django wsgi mysite.wsgi:application @mysite/settings/base.py:17"]);
    expect(facts.django?.settings).toEqual({ module: "mysite.settings.base", source: "manage.py:7" });
    expect(facts.django?.production).toEqual({
      module: "mysite.settings.production",
      source: "mysite/settings/production.py",
    });
  });

  it("lists top-level entries with what each names, without tests or docs", async () => {
    const facts = await detectApp(join(root, "test/fixtures/projects/django-site"), undefined);
    const entries = Object.fromEntries(facts.entries.map((e) => [e.name, e.references]));
    expect(Object.keys(entries)).not.toContain("tests");
    expect(Object.keys(entries)).not.toContain("docs");
    // INSTALLED_APPS names "pages"; TEMPLATES names BASE_DIR / "templates".
    expect(entries.mysite).toEqual(["pages", "templates"]);
    expect(entries["manage.py"]).toEqual(["mysite"]);
  });

  it("reads only the package's own sources in package mode", async () => {
    const facts = await detectApp(join(root, "test/fixtures/projects/fastapi-svc"), ["svc"]);
    expect(brief(facts)).toEqual(["fastapi asgi svc.api:app @svc/api.py:3"]);
    expect(facts.entries).toEqual([]);
  });
});

describe("Django's static files settings", () => {
  const manage = `import os\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")\n`;
  const settings = [
    "INSTALLED_APPS = [",
    '    "django.contrib.admin",',
    '    # "django.contrib.staticfiles" is named in a comment first',
    '    "django.contrib.staticfiles",',
    "]",
    'STATIC_URL = "static/"',
    "STATIC_ROOT = BASE_DIR / 'static'",
    "",
  ].join("\n");

  it("finds the app, STATIC_ROOT, a manifest storage and WhiteNoise, production's settings before the others", async () => {
    const dir = await layout({
      "manage.py": manage,
      "proj/settings.py": settings,
      // A development module sorts before settings_prod.py by name; its storage is not what production uses.
      "proj/settings_dev.py":
        'STORAGES = {"staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"}}\n',
      "proj/settings_prod.py": [
        "from .settings import *",
        'MIDDLEWARE = ["whitenoise.middleware.WhiteNoiseMiddleware"]',
        'STORAGES = {"staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}}',
        "",
      ].join("\n"),
    });
    const facts = await detectApp(dir, undefined);
    expect(facts.django?.production?.module).toBe("proj.settings_prod");
    expect(facts.django?.staticFiles).toEqual({
      app: "proj/settings.py:4",
      root: "proj/settings.py:7",
      manifest: {
        backend: "whitenoise.storage.CompressedManifestStaticFilesStorage",
        source: "proj/settings_prod.py:3",
      },
      whitenoise: "proj/settings_prod.py:2",
    });
  });

  it("has no static files facts without the app, and no STATIC_ROOT when none is set", async () => {
    const without = await detectApp(
      await layout({ "manage.py": manage, "proj/settings.py": 'INSTALLED_APPS = ["pages"]\n' }),
      undefined,
    );
    expect(without.django).toBeDefined();
    expect(without.django?.staticFiles).toBeUndefined();
    const noRoot = await detectApp(
      await layout({ "manage.py": manage, "proj/settings.py": settings.replace(/^STATIC_ROOT.*$/m, "") }),
      undefined,
    );
    expect(noRoot.django?.staticFiles).toEqual({
      app: "proj/settings.py:4",
      root: undefined,
      manifest: undefined,
      whitenoise: undefined,
    });
  });
});

describe("on a project with many source files", () => {
  it("finds the app under a 64-descriptor limit (files are read a few at a time, none skipped by EMFILE)", async () => {
    const files: Record<string, string> = {
      "pkg/zz_main.py": "from fastapi import FastAPI\napp = FastAPI()\n",
    };
    for (let i = 0; i < 300; i++) files[`pkg/m${i}.py`] = `x = ${i}\n`;
    const dir = await layout(files);
    // The built module in a child process, so that the limit applies to it alone.
    const script = `import { detectApp } from ${JSON.stringify(join(root, "dist/project/app.js"))};
      const facts = await detectApp(${JSON.stringify(dir)}, undefined);
      console.log(facts.objects.map((o) => o.target).join(","));`;
    const result = spawnSync(
      "bash",
      ["-c", 'ulimit -n 64 && exec "$0" --input-type=module -e "$1"', process.execPath, script],
      { encoding: "utf8" },
    );
    expect(result.stderr).toBe("");
    expect(result.stdout.trim()).toBe("pkg.zz_main:app");
  });
});

describe("on files too large to be an app's module", () => {
  it("skips a file over 512 KiB on disk, counted in bytes before reading it (not in characters after)", async () => {
    // 300,000 two-byte characters: under the limit as a string's length, 600 kB on disk.
    const padding = `# ${"é".repeat(300_000)}\n`;
    const dir = await layout({
      "big.py": `from fastapi import FastAPI\napp = FastAPI()\n${padding}`,
      "small.py": "from flask import Flask\napp = Flask(__name__)\n",
    });
    const facts = await detectApp(dir, undefined);
    expect(brief(facts)).toEqual(["flask wsgi small:app @small.py:2"]);
  });
});
