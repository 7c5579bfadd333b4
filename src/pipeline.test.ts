// The one pipeline (analyze → plan → render) and the data direction around it, on real example projects.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { dockerEngine } from "./engine/docker.js";
import { render } from "./generate/render.js";
import { generate, prepareBuild } from "./pipeline.js";
import { plan } from "./plan/plan.js";
import { analyze } from "./project/analyze.js";

const root = new URL("..", import.meta.url).pathname;
const example = join(root, "examples/fastapi-app");

describe("generate", () => {
  it("is analyze, plan and render, nothing else", async () => {
    const generated = await generate(example, { strategy: "optimal" });
    const planned = plan(await analyze(example), { strategy: "optimal" });
    expect(generated.plan).toEqual(planned);
    expect(generated.files).toEqual(render(planned));
  });

  it("renders without cache mounts for an engine without BuildKit, and says so", async () => {
    const legacy = dockerEngine({ builder: "legacy" }).features;
    const withBuildx = dockerEngine({ builder: "buildx", server: "27.3.1" }).features;
    expect((await generate(example, {}, withBuildx)).files.dockerfile).toContain("--mount=type=cache");
    const generated = await generate(example, {}, legacy);
    expect(generated.files.dockerfile).not.toContain("--mount=type=cache");
    expect(generated.plan.warnings.join("\n")).toMatch(/cache mounts are off/);
  });

  it("leaves `# syntax=` out for an engine whose own frontend reads RUN --mount, and keeps it otherwise", async () => {
    const daemon = dockerEngine({ builder: "buildkit", server: "20.10.24+dfsg1" }).features;
    const old = dockerEngine({ builder: "buildkit", server: "19.03.15" }).features;
    const own = await generate(example, {}, daemon);
    expect(own.files.dockerfile).toContain("--mount=type=cache");
    expect(own.files.dockerfile).not.toMatch(/^# syntax=/m);
    expect(own.plan.syntax.reason).toMatch(/^left out of this build/);
    expect((await generate(example, {}, old)).files.dockerfile).toMatch(/^# syntax=docker\/dockerfile:1$/m);
  });

  it("stages a generated build with the plan's Dockerfile and a tag from the project's name", async () => {
    const prepared = await prepareBuild(dockerEngine({ builder: "legacy" }), example);
    try {
      expect(prepared.plan?.project.name).toBe("fastapi-app");
      expect(prepared.request.tag).toBe("couplet/fastapi-app:latest");
      const staged = readFileSync(prepared.request.dockerfile, "utf8");
      expect(staged).not.toContain("--mount=type=cache");
      expect(staged).toBe(render(prepared.plan as NonNullable<typeof prepared.plan>).dockerfile);
    } finally {
      await prepared.cleanup();
    }
  });
});

describe("a build's platform", () => {
  const fixture = join(root, "test/fixtures/projects/amd64-only-wheels");
  const engine = dockerEngine({ builder: "buildx", server: "27.3.1" });

  it("plans the compilers the target platform needs (psycopg2-binary 2.8.6 has no arm64 wheel)", async () => {
    const staged = async (platform?: string) => {
      const prepared = await prepareBuild(engine, fixture, platform ? { request: { platform } } : {});
      try {
        return { plan: prepared.plan, dockerfile: readFileSync(prepared.request.dockerfile, "utf8") };
      } finally {
        await prepared.cleanup();
      }
    };
    const amd64 = await staged();
    expect(amd64.plan?.platforms).toEqual(["linux/amd64"]);
    expect(amd64.dockerfile).not.toContain("libpq-dev");
    const arm64 = await staged("linux/arm64");
    expect(arm64.plan?.platforms).toEqual(["linux/arm64"]);
    expect(arm64.plan?.native.compile.map((c) => c.name)).toEqual(["psycopg2-binary"]);
    expect(arm64.dockerfile).toMatch(/apt-get install -y --no-install-recommends .*libpq-dev/);
    expect((await staged("linux/amd64,linux/arm64")).plan?.platforms).toEqual(["linux/amd64", "linux/arm64"]);
  });

  it("refuses a platform it cannot check wheels for, in one line, before anything is staged", async () => {
    await expect(prepareBuild(engine, fixture, { request: { platform: "linux/s390x" } })).rejects.toThrow(
      /unknown platform "linux\/s390x"/,
    );
  });
});

describe("data flows one way", () => {
  it("engine/ imports nothing from project/, plan/ or generate/", () => {
    const dir = join(root, "src/engine");
    const offenders = readdirSync(dir)
      .filter((name) => name.endsWith(".ts"))
      .flatMap((name) =>
        [
          ...readFileSync(join(dir, name), "utf8").matchAll(
            /from "(\.\.\/(?:project|plan|generate)\/[^"]+)"/g,
          ),
        ].map((m) => `${name}: ${m[1]}`),
      );
    expect(offenders).toEqual([]);
  });
});
