// End to end: web apps with no command of their own get a production server from `couplet build`, a server started
// by its own console script runs as one, and they answer.
import { execFile } from "node:child_process";
import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBaseImage } from "../support/base-image.js";
import { freePort, httpGet, imageConfig, removeImages, runInImage, startServer } from "../support/buildah.js";

const exec = promisify(execFile);
const repo = fileURLToPath(new URL("../../", import.meta.url));
const cli = join(repo, "dist/cli/main.js");
const runId = `${process.pid}${Date.now() % 100_000}`;

interface Built {
  tag: string;
  code: number;
  log: string;
}

/** `couplet build` of a copy of a fixture project (the fixture folder stays untouched). */
async function build(fixture: string, base: string, work: string): Promise<Built> {
  const dir = join(work, fixture);
  await cp(join(repo, "test/fixtures/projects", fixture), dir, { recursive: true });
  const tag = `couplet-e2e-apps/${fixture}:${runId}`;
  const args = [cli, "build", dir, "--engine", "buildah", "--network", "host"];
  args.push("--build-arg", `PYTHON_IMAGE=${base}`, "--tag", tag);
  return exec(process.execPath, args, { maxBuffer: 64 * 1024 * 1024 }).then(
    ({ stdout, stderr }) => ({ tag, code: 0, log: stdout + stderr }),
    (error: { code?: number; stdout?: string; stderr?: string }) => ({
      tag,
      code: typeof error.code === "number" ? error.code : -1,
      log: `${error.stdout ?? ""}${error.stderr ?? ""}`,
    }),
  );
}

describe("apps without a command of their own, built and answering on loopback", () => {
  let work: string;
  const images: Record<string, Built> = {};

  beforeAll(async () => {
    const base = await ensureBaseImage({ debian: "trixie", flavor: "slim" });
    work = await mkdtemp(join(tmpdir(), "couplet-e2e-apps-"));
    // One at a time: the machine is shared, and the builds share Poetry's stage from the layer cache.
    for (const fixture of ["django-site", "fastapi-svc", "flask-notes", "script-server"])
      images[fixture] = await build(fixture, base, work);
  });

  afterAll(async () => {
    await removeImages(...Object.values(images).map((b) => b.tag));
    if (work) await rm(work, { recursive: true, force: true });
  });

  async function answer(fixture: string): Promise<{ status: number; body: string }> {
    const built = images[fixture] as Built;
    expect(built.code, built.log).toBe(0);
    const port = await freePort();
    const server = await startServer(built.tag, undefined, { PORT: String(port) });
    try {
      return await httpGet(port, "/", 90_000).catch((error: Error) => {
        throw new Error(`${error.message}\n${server.output()}`);
      });
    } finally {
      await server.stop();
    }
  }

  it("Django: gunicorn with the production settings, on $PORT", async () => {
    const response = await answer("django-site");
    expect(response.status).toBe(200);
    // settings/production.py sets DEBUG = False; the base settings would say True.
    expect(response.body).toContain("django-site says hello (debug=False)");
    const config = await imageConfig(images["django-site"]?.tag as string);
    expect(config.exposedPorts).toEqual(["8000/tcp"]);
    expect(config.env).toContain("DJANGO_SETTINGS_MODULE=mysite.settings.production");
    expect(config.cmd.join(" ")).toMatch(/^sh -c exec gunicorn /);
  });

  it("FastAPI without a console script: uvicorn on $PORT", async () => {
    const response = await answer("fastapi-svc");
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ app: "fastapi-svc" });
  });

  it("Flask factory that writes ./data when it starts: waitress, as the non-root user", async () => {
    const response = await answer("flask-notes");
    expect(response.status).toBe(200);
    expect(response.body).toBe("flask-notes says hello, data written by uid 10001");
    const config = await imageConfig(images["flask-notes"]?.tag as string);
    expect(config.user).toBe("10001:10001");
  });

  it("FastAPI started by its own console script (lnbits' shape): told to leave 127.0.0.1, ./data writable", async () => {
    // The script's port comes from settings that read PORT from the environment, as lnbits' do.
    const response = await answer("script-server");
    expect(response.status).toBe(200);
    expect(response.body).toBe("tipjar says hello, data written by uid 10001");
    const config = await imageConfig(images["script-server"]?.tag as string);
    expect(config.cmd).toEqual(["tipjar", "--host", "0.0.0.0"]);
    expect(config.entrypoint).toEqual([]);
    expect(config.exposedPorts).toEqual(["5000/tcp"]);
  });

  it("keeps the code and the venv read-only for the app user", async () => {
    const tag = images["flask-notes"]?.tag as string;
    const attempt = await runInImage(tag, [
      "sh",
      "-c",
      "touch /app/notes/x || touch /app/.venv/x || echo refused",
    ]);
    expect(attempt.stdout.trim().split("\n").pop()).toBe("refused");
  });

  it("package-mode = false: only what the command reaches, bytecode already compiled", async () => {
    const tag = images["django-site"]?.tag as string;
    const listing = await runInImage(tag, ["sh", "-c", "ls -A /app; ls /app/mysite/__pycache__"]);
    expect(listing.code, listing.stderr).toBe(0);
    const top = listing.stdout.split("\n");
    expect(top).toEqual(
      expect.arrayContaining([".venv", "data", "manage.py", "mysite", "pages", "templates"]),
    );
    for (const absent of ["tests", "docs", "poetry.lock", "pyproject.toml"])
      expect(top).not.toContain(absent);
    expect(listing.stdout).toMatch(/wsgi\.cpython-3\d+\.pyc/);
    // Imported without writing anything: the venv's bytecode is there (hash-based, no source check).
    const imported = await runInImage(tag, [
      "python",
      "-c",
      "import django, importlib.util as u; print(open(u.cache_from_source(django.__file__), 'rb').read(8)[4:5] == b'\\x01')",
    ]);
    expect(imported.stdout.trim(), imported.stderr).toBe("True");
  });
});
