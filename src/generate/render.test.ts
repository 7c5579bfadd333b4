import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { plan } from "../plan/plan.js";
import { STRATEGIES } from "../plan/types.js";
import { analyze } from "../project/analyze.js";
import { parsePlatforms } from "../project/platform.js";
import { render } from "./render.js";

const root = new URL("../..", import.meta.url).pathname;

/** Every real project in the repository that has a lock: the bundled examples and the test fixtures. */
function projects(): string[] {
  const dirs: string[] = [];
  for (const parent of ["examples", "test/fixtures/projects"]) {
    // A missing folder throws here rather than leaving the snapshots with nothing to check.
    const base = join(root, parent);
    for (const name of readdirSync(base).sort()) {
      if (existsSync(join(base, name, "poetry.lock")) && existsSync(join(base, name, "pyproject.toml"))) {
        dirs.push(`${parent}/${name}`);
      }
    }
  }
  return dirs;
}

async function dockerfile(project: string, options: Parameters<typeof plan>[1] = {}): Promise<string> {
  return render(plan(await analyze(join(root, project)), options)).dockerfile;
}

describe("rendered Dockerfiles (snapshots)", () => {
  for (const project of projects()) {
    for (const strategy of STRATEGIES) {
      it(`${project} with strategy ${strategy}`, async () => {
        const text = await dockerfile(project, { strategy });
        const name = `${project.replace(/\//g, "__")}.${strategy}.Dockerfile`;
        await expect(text).toMatchFileSnapshot(join(root, "test/snapshots/dockerfiles", name));
      });
    }
  }
});

describe("what the optimal Dockerfile does", () => {
  it("puts compilers only in the builder, and the runtime libraries in production", async () => {
    const text = await dockerfile("test/fixtures/projects/poetry1-groups");
    const [builder = "", production = ""] = text.split("FROM base AS production");
    expect(builder).toMatch(/apt-get install -y --no-install-recommends .*gcc/);
    expect(builder).toContain("libpq-dev");
    expect(production).not.toContain("gcc");
    expect(production).toMatch(/apt-get install -y --no-install-recommends .*libpq5/);
    expect(production).toContain("rm -rf /var/lib/apt/lists/*");
  });

  it("installs compilers only on the platform that lacks a wheel, picked by TARGETARCH", async () => {
    const project = "test/fixtures/projects/amd64-only-wheels";
    // psycopg2-binary 2.8.6 is locked with x86_64 wheels and an sdist only: arm64 compiles it, amd64 does not.
    const both = await dockerfile(project, { platforms: parsePlatforms("linux/amd64,linux/arm64") });
    const builder = both.slice(both.indexOf(" AS builder"), both.indexOf("COPY --from=lock"));
    expect(builder).toContain("ARG TARGETARCH\n");
    expect(builder).toMatch(
      /case "\$\{TARGETARCH:-\$\(dpkg --print-architecture\)\}" in \\\n +arm64\) rm -f \/etc\/apt\/apt\.conf\.d\/docker-clean && apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev libpq-dev ;; \\\n +esac/,
    );
    expect(builder).not.toMatch(/amd64\)/);
    // The instruction is one valid shell command once the Dockerfile's line continuations are joined.
    const command = builder
      .slice(builder.indexOf("case "))
      .replace(/ \\\n\s*/g, " ")
      .split("\n")[0] as string;
    expect(spawnSync("sh", ["-n", "-c", command]).status).toBe(0);
    // For the one platform, as before: unconditional where it compiles, nothing where it has wheels.
    const arm = await dockerfile(project, { platforms: parsePlatforms("linux/arm64") });
    expect(arm).not.toContain("TARGETARCH");
    expect(arm).toMatch(/&& apt-get install -y --no-install-recommends gcc libc6-dev libpq-dev/);
    expect(await dockerfile(project)).not.toMatch(/gcc|TARGETARCH/);
    // Both platforms compiling the same packages need no condition either.
    const flask = await dockerfile("examples/flask-uwsgi", {
      platforms: parsePlatforms("linux/amd64,linux/arm64"),
    });
    expect(flask).not.toContain("TARGETARCH");
    expect(flask).toMatch(/apt-get install -y --no-install-recommends .*gcc/);
  });

  it("installs no compiler when every package has a wheel", async () => {
    const text = await dockerfile("test/fixtures/projects/src-layout");
    expect(text).not.toMatch(/gcc|-dev\b|build-essential/);
  });

  it("installs only the production groups, and the dev groups in the development target", async () => {
    const text = await dockerfile("test/fixtures/projects/poetry1-groups");
    expect(text).toContain("poetry install --only main --no-root");
    expect(text).toMatch(/FROM builder AS development\nRUN [^\n]*\n\s+poetry install --with dev,test,docs/);
  });

  it("uses --no-dev for Poetry 1.1, which has no groups", async () => {
    const project = "test/fixtures/projects/poetry11";
    expect(await dockerfile(project, { poetryVersion: "1.1.15" })).toContain(
      "poetry install --no-dev --no-root",
    );
    // Left to itself, couplet installs a headerless 1.1 lock with Poetry 1.8.5, which has groups.
    expect(await dockerfile(project)).toContain("poetry install --only main --no-root");
  });

  it("removes caches in the same layer when cache mounts are off", async () => {
    const text = await dockerfile("test/fixtures/projects/poetry1-groups", { cacheMounts: false });
    expect(text).not.toContain("--mount=type=cache");
    expect(text).not.toContain("# syntax=");
    expect(text).toMatch(/poetry install --only main --no-root \\\n\s+&& rm -rf \/root\/.cache\/pypoetry/);
    expect(text).toContain('pip install --no-cache-dir "poetry==$POETRY_VERSION"');
  });

  it("copies the code without installing it when package-mode is false", async () => {
    const text = await dockerfile("test/fixtures/projects/package-mode-false");
    expect(text).toContain("poetry install --only main --no-root");
    expect(text).not.toMatch(/poetry install --only main\n/);
    const production = text.split("FROM base AS production")[1] ?? "";
    // The venv and the code in separate layers: a source edit does not re-copy the venv.
    expect(production).toContain(
      "COPY --from=builder /app/.venv /app/.venv\nCOPY --from=builder /app/main.py /app/main.py\n",
    );
    expect(text).not.toContain("COPY . .");
    expect(text).not.toContain("COPY --from=builder /app /app");
  });

  it("compiles the venv and the code to hash-based bytecode in the builder (optimal only)", async () => {
    const text = await dockerfile("test/fixtures/projects/src-layout");
    const builder = text.split("FROM base AS production")[0] ?? "";
    expect(builder).toMatch(
      /poetry install --only main --no-root\nRUN \/app\/\.venv\/bin\/python -c '[^\n]*compile_dir[^\n]*'\n/,
    );
    expect(builder).toMatch(
      /poetry install --only main\nRUN python -m compileall -q --invalidation-mode checked-hash src\/srccli\n/,
    );
    const seed = await dockerfile("test/fixtures/projects/src-layout", { strategy: "multistage" });
    expect(seed).not.toContain("compileall");
  });

  it("compiles the venv as pip does: a .py that is not Python (a packaged template) is skipped, a missing venv fails", async () => {
    const text = await dockerfile("test/fixtures/projects/src-layout");
    const step = text.match(/^RUN \/app\/\.venv\/bin\/python -c '([^\n]*)'$/m)?.[1];
    expect(step).toBeDefined();
    const work = mkdtempSync(join(tmpdir(), "couplet-compile-"));
    try {
      const lib = join(work, "lib", "site-packages", "pkg");
      mkdirSync(lib, { recursive: true });
      writeFileSync(join(lib, "good.py"), "x = 1\n");
      // django-tailwind ships such a file: compileall alone exits 1 on it and failed a real build.
      writeFileSync(join(lib, "template.py"), "class {{ cookiecutter.name }}Config:\n    pass\n");
      const script = (step ?? "").replaceAll("/app/.venv/lib", join(work, "lib"));
      const ok = spawnSync("python3", ["-c", script], { encoding: "utf8" });
      expect(ok.status).toBe(0);
      expect(readdirSync(join(lib, "__pycache__")).some((f) => f.startsWith("good."))).toBe(true);
      const missing = spawnSync("python3", [
        "-c",
        (step ?? "").replaceAll("/app/.venv/lib", join(work, "absent")),
      ]);
      expect(missing.status).not.toBe(0);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it("gives the app user only its writable folders, as volumes; the code and venv stay root's", async () => {
    const text = await dockerfile("test/fixtures/projects/flask-notes");
    const production = text.split("FROM base AS production")[1] ?? "";
    expect(production).toContain(
      "useradd --create-home --uid 10001 --user-group app \\\n    && install -d -o app -g app /app/data\n",
    );
    expect(production).toContain('VOLUME ["/app/data"]');
    expect(production).not.toMatch(/--chown|chown /);
  });

  it("sets Django's production settings in the production stage", async () => {
    const text = await dockerfile("test/fixtures/projects/django-site");
    const production = text.split("FROM base AS production")[1] ?? "";
    expect(production).toContain('ENV DJANGO_SETTINGS_MODULE="mysite.settings.production"');
    // Tests and docs never reach the image.
    expect(text).not.toMatch(/COPY .*\b(tests|docs)\b/);
  });

  it("passes the selected extras, quoted", async () => {
    const project = "test/fixtures/projects/extras-dynamic";
    const text = await dockerfile(project);
    expect(text).toContain("--extras images");
  });

  it("runs as a non-root user with an exec-form command", async () => {
    const text = await dockerfile("test/fixtures/projects/src-layout");
    const production = text.split("FROM base AS production")[1] ?? "";
    expect(production).toMatch(/USER 10001:10001/);
    expect(production).toMatch(/\n(ENTRYPOINT|CMD) \[".*"\]\n$/);
  });

  it("keys the dependency layer on the reduced pyproject, not on pyproject.toml", async () => {
    const text = await dockerfile("test/fixtures/projects/pep621");
    const builder = text.slice(text.indexOf("AS builder"));
    const install = builder.indexOf("--no-root");
    expect(builder.indexOf("COPY --from=lock /deps/ ./")).toBeLessThan(install);
    expect(builder.indexOf("COPY pyproject.toml poetry.lock")).toBeGreaterThan(install);
  });
});
