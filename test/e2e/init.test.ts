// End to end: `couplet init` on each bundled example, built with buildah, run, and checked for the promised properties.
import { execFile } from "node:child_process";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Plan } from "../../src/plan/types.js";
import { type Debian, ensureBaseImage } from "../support/base-image.js";
import {
  type BuildResult,
  build,
  freePort,
  httpGet,
  imageConfig,
  removeImages,
  runInImage,
  startServer,
} from "../support/buildah.js";
import { coupletOutput as couplet } from "../support/cli.js";

const run = promisify(execFile);
// Image names and edits carry this run's id. Edits, because buildah's layer cache outlives the test and
// an edit it has seen in an earlier run would hit the cache whatever the Dockerfile keys its layers on.
const runId = `${process.pid}${Date.now() % 100_000}`;
const repo = fileURLToPath(new URL("../../", import.meta.url));

interface Example {
  name: string;
  /** A source file to edit, relative to the project */
  source: string;
  /** A cosmetic pyproject.toml edit that must not reinstall the dependencies */
  cosmetic: { what: string; edit: (text: string) => string };
  /** Dev-group module importable in the development target only (undefined: no dev group) */
  devModule: string | undefined;
  /** Start the image and check what it answers */
  check: (tag: string, plan: Plan) => Promise<void>;
}

/** The image's command with the port it listens on replaced (containers share the host network). */
function withPort(argv: string[], from: number, to: number): string[] {
  return argv.map((arg) =>
    arg === String(from) ? String(to) : arg.replace(new RegExp(`:${from}$`), `:${to}`),
  );
}

async function checkWebApp(tag: string, plan: Plan, expectBody: (body: Record<string, unknown>) => void) {
  const config = await imageConfig(tag);
  const listening = plan.expose[0] ?? 8000;
  const port = await freePort();
  const server = await startServer(tag, withPort([...config.entrypoint, ...config.cmd], listening, port));
  try {
    const response = await httpGet(port, "/", 90_000);
    expect(response.status, server.output()).toBe(200);
    const body = JSON.parse(response.body) as Record<string, unknown>;
    // The interpreter the plan chose is the one serving.
    expect(String(body.python)).toMatch(new RegExp(`^${plan.python.version.replace(".", "\\.")}\\.`));
    expectBody(body);
  } finally {
    await server.stop();
  }
}

const examples: Example[] = [
  {
    name: "flask-uwsgi",
    source: "hello_uwsgi/app.py",
    cosmetic: {
      what: "a comment",
      edit: (t) => `# A cosmetic comment (${runId}): the lock does not change.\n${t}`,
    },
    devModule: "pytest",
    check: (tag, plan) =>
      checkWebApp(tag, plan, (body) => {
        expect(body.app).toBe("hello-uwsgi");
        // psycopg2 reports the libpq it runs against: libpq5 is present in the runtime image.
        expect(Number(body.libpq)).toBeGreaterThan(100000);
      }),
  },
  {
    name: "fastapi-app",
    source: "app/main.py",
    cosmetic: {
      what: "the description",
      edit: (t) => t.replace(/^description = ".*"$/m, `description = "A new description (${runId})"`),
    },
    devModule: "pytest",
    check: (tag, plan) =>
      checkWebApp(tag, plan, (body) => {
        expect(body).toMatchObject({ app: "fastapi-app", pydantic_core: "2.27.2" });
      }),
  },
  {
    name: "cli-tool",
    source: "src/yamlstat/cli.py",
    cosmetic: {
      what: "the project's own version",
      edit: (t) => t.replace(/^version = "0\.1\.0"$/m, `version = "0.1.${runId}"`),
    },
    devModule: undefined,
    check: async (tag) => {
      const config = await imageConfig(tag);
      const result = await runInImage(tag, [...config.entrypoint, ...config.cmd]);
      expect(result.code, result.stderr).toBe(0);
      // libyaml: pyyaml's compiled wheel for the chosen CPython, not a pure-Python fallback.
      expect(result.stdout).toContain("yamlstat: document 0 has 4 nodes (pyyaml 6.0.2, libyaml)");
    },
  },
];

/** The step that installs the dependencies (without the root package) in the builder. */
function dependencyStep(result: BuildResult) {
  const steps = result.steps.filter(
    (s) => s.instruction.startsWith("RUN") && s.instruction.includes("--no-root"),
  );
  expect(steps, result.log).toHaveLength(1);
  return steps[0];
}

beforeAll(async () => {
  await run("npm", ["run", "build"], { cwd: repo });
}, 5 * 60_000);

for (const example of examples) {
  describe.sequential(example.name, () => {
    let dir: string;
    let plan: Plan;
    let base: string;
    // Per-run names: another process running this same test at the same time must not retag our images.
    const repoName = `couplet-e2e-${example.name}-${runId}`;
    const tag = `${repoName}:production`;
    const tags = [tag, `${repoName}:source-edit`, `${repoName}:cosmetic-edit`, `${repoName}:development`];
    const buildTag = (t: string, target?: string) =>
      build({ context: dir, tag: t, target, buildArgs: { PYTHON_IMAGE: base } });

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), `couplet-e2e-${example.name}-`));
      await cp(join(repo, "examples", example.name), dir, {
        recursive: true,
        // A local venv or tool caches in the example folder are not part of the project.
        filter: (src) => !/[/\\](\.venv|__pycache__|\.pytest_cache|\.mypy_cache|\.ruff_cache)$/.test(src),
      });
      await couplet(["init", dir]);
      plan = JSON.parse(await couplet(["plan", dir, "--json"])) as Plan;
      base = await ensureBaseImage({ debian: plan.python.debian as Debian, flavor: "slim" });
    });
    afterAll(async () => {
      await removeImages(...tags);
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it("builds the generated Dockerfile and the image runs the app", async () => {
      const result = await buildTag(tag);
      expect(result.code, result.log).toBe(0);
      await example.check(tag, plan);
    });

    it("production image: non-root, no compiler, no dev packages, no Poetry, no package-manager cache", async () => {
      const config = await imageConfig(tag);
      const asConfigured = await runInImage(tag, ["sh", "-c", "id -u"]);
      expect(config.user, "the image names a user").not.toBe("");
      expect(Number(asConfigured.stdout.trim())).not.toBe(0);

      const probe = [
        "for c in gcc cc g++ clang poetry; do command -v $c >/dev/null && echo present:$c; done",
        "python -c 'import pytest' 2>/dev/null && echo present:pytest",
        "test -e /opt/poetry && echo present:/opt/poetry",
        // Caches: Poetry's and pip's, for root and the app user, and anything cache-like inside the venv.
        "for d in /root/.cache/pypoetry /root/.cache/pip /home/*/.cache/pypoetry /home/*/.cache/pip; do" +
          ' [ -n "$(ls -A $d 2>/dev/null)" ] && echo present:$d; done',
        "find /app/.venv -type d \\( -name pypoetry -o -name .cache -o -name http-v2 -o -name wheels \\) | sed 's/^/present:/'",
        "echo probed",
      ].join("; ");
      // As root, so that nothing hides behind permissions.
      const result = await runInImage(tag, ["sh", "-c", probe], { user: "0" });
      expect(result.stdout, result.stderr).toContain("probed");
      expect(result.stdout.split("\n").filter((l) => l.startsWith("present:"))).toEqual([]);
    });

    it("editing only a source file reuses the dependency layer, and the edit reaches the image", async () => {
      const file = join(dir, example.source);
      await writeFile(file, `${await readFile(file, "utf8")}\n# e2e source edit marker ${runId}\n`);
      const result = await buildTag(tags[1] ?? "");
      expect(result.code, result.log).toBe(0);
      expect(dependencyStep(result)?.cached, result.log).toBe(true);
      // Only the dependency layer may come from the cache: the code copied into the image is the new one.
      const grep = await runInImage(tags[1] ?? "", [
        "sh",
        "-c",
        `grep -rl 'e2e source edit marker ${runId}' /app`,
      ]);
      expect(
        grep.stdout.trim(),
        `${grep.stderr}\n${await readFile(join(dir, "Dockerfile"), "utf8")}\n${result.log}`,
      ).not.toBe("");
      await example.check(tags[1] ?? "", plan);
    });

    it(`a cosmetic pyproject.toml edit (${example.cosmetic.what}) reuses the dependency layer`, async () => {
      const file = join(dir, "pyproject.toml");
      const before = await readFile(file, "utf8");
      const after = example.cosmetic.edit(before);
      expect(after).not.toBe(before);
      await writeFile(file, after);
      const result = await buildTag(tags[2] ?? "");
      expect(result.code, result.log).toBe(0);
      expect(dependencyStep(result)?.cached, result.log).toBe(true);
      await example.check(tags[2] ?? "", plan);
    });

    if (example.devModule) {
      const devModule = example.devModule;
      it(`the development target builds and has the dev group (${devModule})`, async () => {
        const result = await buildTag(tags[3] ?? "", "development");
        expect(result.code, result.log).toBe(0);
        const imported = await runInImage(tags[3] ?? "", [
          "python",
          "-c",
          `import ${devModule}; print("ok")`,
        ]);
        expect(imported.stdout.trim(), imported.stderr).toBe("ok");
      });
    }
  });
}
