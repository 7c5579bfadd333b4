// The GitHub Actions workflow init --ci github writes: what it runs, with which permissions, and no way in for project values.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these are GitHub expressions, compared as the workflow holds them
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { fuzzParameters } from "../../test/support/fuzz.js";
import { UserError } from "../errors.js";
import { parseFailOn } from "../image/fail-on.js";
import { plan } from "../plan/plan.js";
import { type Plan, STRATEGIES } from "../plan/types.js";
import { analyze } from "../project/analyze.js";
import { parsePlatforms } from "../project/platform.js";
import type { Project } from "../project/types.js";
import { VERSION } from "../version.js";
import { type GithubWorkflowOptions, gateConditions, renderGithubWorkflow } from "./github-workflow.js";

const root = new URL("../..", import.meta.url).pathname;
const BOTH = parsePlatforms("linux/amd64,linux/arm64");

interface Step {
  name?: string;
  id?: string;
  if?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}
interface Job {
  permissions: Record<string, string>;
  steps: Step[];
}
interface Workflow {
  on: { push: { branches: string[] } };
  permissions: Record<string, string>;
  env: Record<string, string>;
  jobs: { lint: Job; image: Job };
}

let project: Project;
let planned: Plan;
beforeAll(async () => {
  project = await analyze(join(root, "examples/flask-uwsgi"));
  planned = plan(project, { platforms: BOTH });
});

function workflow(options: Partial<GithubWorkflowOptions> = {}, p: Plan = planned): Workflow {
  return parse(renderGithubWorkflow(p, { projectPath: ".", branch: "main", ...options })) as Workflow;
}

const builds = (w: Workflow) =>
  w.jobs.image.steps.filter((s) => s.uses?.startsWith("docker/build-push-action"));

describe("renderGithubWorkflow", () => {
  it("lints the Dockerfile to SARIF and uploads it with only the permissions that needs", () => {
    const w = workflow();
    expect(w.permissions).toEqual({ contents: "read" });
    expect(w.jobs.lint.permissions).toEqual({ contents: "read", "security-events": "write" });
    const [lint, upload] = w.jobs.lint.steps.slice(-2) as [Step, Step];
    expect(lint.run).toBe('npx --yes "$COUPLET" lint --format sarif Dockerfile > couplet-lint.sarif');
    expect(upload.uses).toMatch(/^github\/codeql-action\/upload-sarif@v\d+$/);
    expect(upload.with?.sarif_file).toBe("couplet-lint.sarif");
    // Uploaded when lint fails on findings (the point of the upload), skipped when there is no file.
    expect(upload.if).toContain("!cancelled()");
  });

  it("runs couplet from npm at this version", () => {
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
      name: string;
      version: string;
    };
    expect(workflow().env.COUPLET).toBe(`${pkg.name}@${pkg.version}`);
    expect(VERSION).toBe(pkg.version);
  });

  it("pins every action to a major version", () => {
    const w = workflow({ registry: "ghcr.io/acme/app" });
    const uses = [...w.jobs.lint.steps, ...w.jobs.image.steps].flatMap((s) => (s.uses ? [s.uses] : []));
    expect(uses.length).toBeGreaterThan(6);
    for (const action of uses) expect(action).toMatch(/^[\w-]+\/[\w/-]+@v\d+$/);
  });

  it("builds amd64 with load: true, gates it with inspect, then builds every platform of the plan", () => {
    const w = workflow();
    const names = w.jobs.image.steps.map((s) => s.uses ?? s.run ?? "");
    const [first, all] = builds(w) as [Step, Step];
    expect(first.with).toMatchObject({ platforms: "linux/amd64", load: true, target: "production" });
    expect(all.with).toMatchObject({ platforms: "linux/amd64,linux/arm64", push: false });
    const gate = names.findIndex((n) => n.includes("inspect"));
    expect(names.indexOf(first.uses as string)).toBeLessThan(gate);
    expect(names.lastIndexOf(all.uses as string)).toBeGreaterThan(gate);
    const qemu = w.jobs.image.steps.find((s) => s.uses?.startsWith("docker/setup-qemu-action"));
    expect(qemu?.with?.platforms).toBe("arm64");
    expect(w.jobs.image.steps.find((s) => s.run?.includes("inspect"))?.run).toContain(
      "--engine docker --project . \\\n  --fail-on missing-libraries,caches,toolchain,dev-deps",
    );
  });

  it("shares the layer cache through GitHub Actions' cache by default, mode=max, scoped by image", () => {
    for (const step of builds(workflow()))
      expect(step.with).toMatchObject({
        "cache-from": "type=gha,scope=hello-uwsgi",
        "cache-to": "type=gha,mode=max,scope=hello-uwsgi",
      });
    expect(workflow().jobs.image.permissions).toEqual({ contents: "read" });
  });

  it("with a registry: logs in, pushes except for pull requests, keeps the cache there; packages: write only for ghcr.io", () => {
    const w = workflow({ registry: "ghcr.io/acme/app" });
    expect(w.jobs.image.permissions).toEqual({ contents: "read", packages: "write" });
    const login = w.jobs.image.steps.find((s) => s.uses?.startsWith("docker/login-action"));
    expect(login?.with).toEqual({
      registry: "ghcr.io",
      username: "${{ github.actor }}",
      password: "${{ secrets.GITHUB_TOKEN }}",
    });
    const [first, all] = builds(w) as [Step, Step];
    // The login comes before the first build, which reads the cache too.
    expect(w.jobs.image.steps.indexOf(login as Step)).toBeLessThan(w.jobs.image.steps.indexOf(first));
    expect(all.with).toMatchObject({
      push: "${{ github.event_name != 'pull_request' }}",
      tags: "${{ steps.meta.outputs.tags }}",
      "cache-from": "type=registry,ref=ghcr.io/acme/app:buildcache",
    });
    expect(all.with?.["cache-to"]).toContain("type=registry,ref=ghcr.io/acme/app:buildcache,mode=max");

    const other = workflow({ registry: "registry.example.com:5000/team/app" });
    expect(other.jobs.image.permissions).toEqual({ contents: "read" });
    expect(other.jobs.image.steps.find((s) => s.uses?.startsWith("docker/login-action"))?.with).toMatchObject(
      {
        registry: "registry.example.com:5000",
        username: "${{ secrets.REGISTRY_USERNAME }}",
      },
    );
  });

  it("a project in a subfolder of the repository: context, Dockerfile and --project point there", () => {
    const w = workflow({ projectPath: "services/api" });
    expect(builds(w)[0]?.with).toMatchObject({ context: "services/api", file: "services/api/Dockerfile" });
    expect(w.jobs.lint.steps.find((s) => s.run)?.run).toContain(
      "lint --format sarif services/api/Dockerfile",
    );
    const spaced = workflow({ projectPath: "my services/api" });
    expect(spaced.jobs.lint.steps.find((s) => s.run)?.run).toContain("'my services/api/Dockerfile'");
  });

  it("takes its platforms from the plan: an amd64-only plan has no QEMU step", () => {
    const w = workflow({}, plan(project, {}));
    expect(w.jobs.image.steps.some((s) => s.uses?.startsWith("docker/setup-qemu-action"))).toBe(false);
    expect(builds(w).map((s) => s.with?.platforms)).toEqual(["linux/amd64", "linux/amd64"]);
  });

  it("the push branch is the one given", () => {
    expect(workflow({ branch: "trunk" }).on.push.branches).toEqual(["trunk"]);
  });

  it("every strategy's gate is one inspect accepts, and names what that strategy promises", () => {
    for (const strategy of STRATEGIES) {
      const p = plan(project, { strategy, platforms: BOTH });
      const conditions = gateConditions(p);
      expect(parseFailOn(conditions.join(",")).length).toBe(conditions.length);
      // The rendered Dockerfile's image stage is the workflow's target.
      expect(workflow({}, p).jobs.image.steps.some((s) => s.with?.target === "production")).toBe(true);
    }
    expect(gateConditions(plan(project, { strategy: "optimal" }))).toContain("toolchain");
    expect(gateConditions(plan(project, { strategy: "full" }))).not.toContain("toolchain");
    expect(gateConditions(plan(project, { strategy: "slim" }))).not.toContain("dev-deps");
  });
});

describe("values from outside never become YAML or expression syntax", () => {
  const refusals: [string, Partial<GithubWorkflowOptions>][] = [
    ["an expression in the registry", { registry: "ghcr.io/${{ secrets.TOKEN }}" }],
    ["a line break in the registry", { registry: "ghcr.io/acme/app\non: push" }],
    ["a tag on the registry", { registry: "ghcr.io/acme/app:latest" }],
    ["a quote in the registry", { registry: "ghcr.io/acme/app' || 'x" }],
    ["a pattern as the branch", { branch: "release/*" }],
    ["a line break in the branch", { branch: "main\n  pull_request_target:" }],
    ["an expression in the project folder", { projectPath: "${{ github.event.issue.title }}" }],
    ["a shell word in the project folder", { projectPath: "a`id`" }],
    ["a project folder outside the repository", { projectPath: "../elsewhere" }],
  ];
  for (const [what, options] of refusals)
    it(`refuses ${what} with one line`, () => {
      const error = (() => {
        try {
          renderGithubWorkflow(planned, { projectPath: ".", branch: "main", ...options });
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(UserError);
      expect((error as Error).message).not.toContain("\n");
    });

  it("a project name that is not a PEP 508 name is refused, not written", () => {
    const odd = { ...planned, project: { ...planned.project, name: "app\njobs: {}" } };
    expect(() => renderGithubWorkflow(odd, { projectPath: ".", branch: "main" })).toThrow(UserError);
  });

  it("any registry, branch or folder is refused or lands verbatim in its one place, adding no expression", () => {
    const base = renderGithubWorkflow(planned, { projectPath: ".", branch: "main", registry: "ghcr.io/a/b" });
    const expressions = (text: string) => text.split("${{").length;
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.constantFrom("ghcr.io/a/b", "x.io/a", "a/b")),
        fc.oneof(fc.string(), fc.constantFrom("main", "release/1.x")),
        fc.oneof(fc.string(), fc.constantFrom("services/api", "my app")),
        (registry, branch, projectPath) => {
          let text: string;
          try {
            text = renderGithubWorkflow(planned, { projectPath, branch, registry });
          } catch (error) {
            expect(error).toBeInstanceOf(UserError);
            return;
          }
          expect(expressions(text)).toBe(expressions(base));
          const w = parse(text) as Workflow;
          expect(w.on.push.branches).toEqual([branch]);
          expect(w.env.IMAGE).toBe(registry);
          expect(builds(w)[0]?.with?.context).toBe(projectPath);
          expect(Object.keys(w.jobs)).toEqual(["lint", "image"]);
        },
      ),
      fuzzParameters(),
    );
  });
});

describe("a project that installs from a private index", () => {
  it("passes the index's credentials to both builds as BuildKit secrets from repository secrets, never as build args", async () => {
    const privateIndex = plan(await analyze(join(root, "test/fixtures/projects/private-index")), {
      platforms: BOTH,
    });
    const ids = privateIndex.install.indexes
      .filter((index) => index.production)
      .flatMap((index) => [index.usernameEnv, index.passwordEnv]);
    expect(ids.length).toBeGreaterThan(0);
    const w = workflow({}, privateIndex);
    const expected = ids.map((id) => `${id}=\${{ secrets.${id} }}`).join("\n");
    expect(builds(w)).toHaveLength(2);
    for (const step of builds(w)) {
      expect(step.with?.secrets).toBe(expected);
      expect(step.with?.["build-args"]).toBeUndefined();
    }
    // A project without one gets no secrets input at all.
    for (const step of builds(workflow())) expect(step.with?.secrets).toBeUndefined();
  });
});
