import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { projectLayouts } from "../../test/support/project-layout.js";
import { detectApp } from "./app.js";
import type { ScriptServer } from "./script-server.js";

const root = new URL("../..", import.meta.url).pathname;
const layout = projectLayouts("couplet-script-server-");

/** One line per server script: name, server, where it starts, host option, literal host, port and its source. */
function brief(found: Record<string, ScriptServer>): string[] {
  return Object.entries(found).map(
    ([name, s]) =>
      `${name}: ${s.server} ${s.call.value} @${s.call.source}` +
      `${s.hostOption ? ` --host@${s.hostOption}` : ""}` +
      `${s.host ? ` host=${s.host.value}@${s.host.source}` : ""}` +
      `${s.port ? ` port=${s.port.value}@${s.port.source}` : ""}`,
  );
}

interface Case {
  name: string;
  files: Record<string, string>;
  /** name → "module:function" */
  scripts: Record<string, string>;
  roots: string[];
  servers: string[];
}

const cases: Case[] = [
  {
    name: "a '--host' that is no option of the script: another module's __main__, a subprocess argument list",
    roots: ["pkg"],
    scripts: { pkg: "pkg.cli:main" },
    files: {
      "pkg/cli.py":
        'import subprocess\nfrom pkg.server import run\n\n\ndef main():\n    subprocess.run(["pg_isready", "--host", "db"])\n    run()\n',
      "pkg/server.py":
        'import argparse\nimport uvicorn\n\n\ndef run():\n    uvicorn.run("pkg.app:app", port=8000)\n\n\nif __name__ == "__main__":\n    parser = argparse.ArgumentParser()\n    parser.add_argument("--host")\n',
    },
    servers: ["pkg: uvicorn uvicorn.run( @pkg/server.py:6 port=8000@pkg/server.py:6"],
  },
  {
    name: "uvicorn.run with a literal port and host, in the script's own function",
    roots: ["web"],
    scripts: { web: "web.main:main" },
    files: {
      "web/main.py":
        'import uvicorn\n\n\ndef main():\n    uvicorn.run("web.app:app", host="0.0.0.0", port=8080)\n',
    },
    servers: ["web: uvicorn uvicorn.run( @web/main.py:5 host=0.0.0.0@web/main.py:5 port=8080@web/main.py:5"],
  },
  {
    name: "a starter imported by name, a signature over several lines, a src layout",
    roots: ["src/api"],
    scripts: { api: "api.cli:serve" },
    files: {
      "src/api/cli.py":
        "from uvicorn import run as start\n\n\ndef serve(\n    reload: bool = False,\n):\n    start('api.app:app')\n",
    },
    servers: ["api: uvicorn start( @src/api/cli.py:7"],
  },
  {
    name: "a helper in another module of the project, an argparse --port default",
    roots: ["svc"],
    scripts: { svc: "svc.__main__:main" },
    files: {
      "svc/__main__.py":
        "import argparse\nfrom svc.serving import launch\n\ndef main():\n    p = argparse.ArgumentParser()\n    p.add_argument('--host')\n    p.add_argument('--port', type=int, default=9000)\n    a = p.parse_args()\n    launch(a.host, a.port)\n",
      "svc/serving.py":
        "import hypercorn.asyncio\n\ndef launch(host, port):\n    hypercorn.asyncio.serve(app, config)\n",
    },
    servers: [
      "svc: hypercorn hypercorn.asyncio.serve( @svc/serving.py:4 --host@svc/__main__.py:6 port=9000@svc/__main__.py:7",
    ],
  },
  {
    name: "waitress.serve with its listen address; a module-level constant PORT through a settings module",
    roots: ["shop"],
    scripts: { shop: "shop.run:main" },
    files: {
      "shop/run.py":
        "from waitress import serve\nfrom shop import config\n\ndef main():\n    serve(app, port=config.port)\n",
      "shop/config.py": "PORT = 6543\nport = PORT\n",
    },
    servers: ["shop: waitress serve( @shop/run.py:5 port=6543@shop/config.py:1"],
  },
  {
    name: "a gunicorn application class built and run by the script",
    roots: ["gapp"],
    scripts: { gapp: "gapp.server:main" },
    files: {
      "gapp/server.py":
        "from gunicorn.app.base import BaseApplication\n\nclass App(BaseApplication):\n    def load(self):\n        return app\n\ndef main():\n    App({'bind': '0.0.0.0:7000'}).run()\n",
    },
    servers: ["gapp: gunicorn App( @gapp/server.py:8"],
  },
  {
    name: "a click group whose serve subcommand runs uvicorn: the script itself starts nothing",
    roots: ["tool"],
    scripts: { tool: "tool.cli:cli" },
    files: {
      "tool/cli.py":
        "import click\nimport uvicorn\n\n@click.group()\ndef cli():\n    pass\n\n@cli.command()\ndef serve():\n    uvicorn.run('tool.app:app')\n",
    },
    servers: [],
  },
  {
    name: "a CLI that imports a server but never starts one, and a script whose module is missing",
    roots: ["cli"],
    scripts: { cli: "cli.main:main", gone: "cli.absent:main" },
    files: {
      "cli/main.py": "import uvicorn\n\ndef main():\n    print(uvicorn.__version__)\n",
    },
    servers: [],
  },
  {
    name: "a local function named like a starter, with no server import",
    roots: ["runner"],
    scripts: { runner: "runner:main" },
    files: { "runner/__init__.py": "def run():\n    pass\n\ndef main():\n    run()\n" },
    servers: [],
  },
];

describe("telling a console script that starts a server from a CLI tool", () => {
  for (const c of cases) {
    it(c.name, async () => {
      const scripts = Object.fromEntries(
        Object.entries(c.scripts).map(([name, target]) => [
          name,
          { target, table: "project.scripts" as const },
        ]),
      );
      expect(brief((await detectApp(await layout(c.files), c.roots, scripts)).scriptServers)).toEqual(
        c.servers,
      );
    });
  }
});

describe("on real projects", () => {
  it("finds the lnbits-shaped fixture's server script, its --host option and the port its settings give", async () => {
    const { scriptServers: found } = await detectApp(
      join(root, "test/fixtures/projects/script-server"),
      ["tipjar"],
      {
        tipjar: { target: "tipjar.server:main", table: "project.scripts" },
        "tipjar-cli": { target: "tipjar.commands:main", table: "project.scripts" },
      },
    );
    expect(brief(found)).toEqual([
      "tipjar: uvicorn uvicorn.Server( @tipjar/server.py:16 --host@tipjar/server.py:11 port=5000@tipjar/settings.py:9",
    ]);
  });

  it("finds no server in the bundled CLI example", async () => {
    const { scriptServers: found } = await detectApp(join(root, "examples/cli-tool"), ["src/yamlstat"], {
      yamlstat: { target: "yamlstat.cli:main", table: "tool.poetry.scripts" },
    });
    expect(found).toEqual({});
  });
});
