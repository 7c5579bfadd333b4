import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { userError as failure } from "../test/support/errors.js";
import { buildCredentials, secretId } from "./build-credentials.js";
import type { EngineFeatures } from "./engine/types.js";
import { plan } from "./plan/plan.js";
import type { Plan } from "./plan/types.js";
import { analyze } from "./project/analyze.js";

const root = new URL("..", import.meta.url).pathname;
const U = "POETRY_HTTP_BASIC_PRIVATE_USERNAME";
const P = "POETRY_HTTP_BASIC_PRIVATE_PASSWORD";
const buildkit: EngineFeatures = {
  cacheMounts: true,
  secrets: true,
  cacheTo: false,
  builtinFrontendMounts: true,
  multiPlatform: false,
};
const legacy: EngineFeatures = {
  cacheMounts: false,
  secrets: false,
  cacheTo: false,
  builtinFrontendMounts: false,
  multiPlatform: false,
};
const none = { secrets: [], ssh: [] };
const privatePlan = async () => plan(await analyze(join(root, "test/fixtures/projects/private-index")));

describe("the secrets couplet build passes for a private index", () => {
  it("reads Poetry's variables from the environment and passes them by name, never by value", async () => {
    const p = await privatePlan();
    const found = buildCredentials(p, undefined, buildkit, none, { env: { [U]: "ci", [P]: "s3cret" } });
    expect(found).toEqual({ secrets: [`id=${U},env=${U}`, `id=${P},env=${P}`], ssh: [] });
    expect(JSON.stringify(found)).not.toContain("s3cret");
  });

  it("keeps the user's own --secret for an id, and takes a netrc file instead of the variables", async () => {
    const p = await privatePlan();
    const own = buildCredentials(
      p,
      undefined,
      buildkit,
      { secrets: [`id=${U},src=/tmp/u`], ssh: [] },
      { env: { [P]: "x" } },
    );
    expect(own.secrets).toEqual([`id=${U},src=/tmp/u`, `id=${P},env=${P}`]);
    const netrc = buildCredentials(
      p,
      undefined,
      buildkit,
      { secrets: ["id=netrc,src=/home/me/.netrc"], ssh: [] },
      { env: {} },
    );
    expect(netrc.secrets).toEqual(["id=netrc,src=/home/me/.netrc"]);
  });

  it("says which variable is missing, for which index, and what to do (exit 2)", async () => {
    const p = await privatePlan();
    const both = failure(() => buildCredentials(p, undefined, buildkit, none, { env: {} }));
    expect(both.exitCode).toBe(2);
    expect(both.message).toBe(
      `the private index private (http://127.0.0.1:38417/simple) needs credentials: ${U} and ${P} are not set`,
    );
    expect(both.hint).toMatch(/--secret id=netrc,src=FILE/);
    const one = failure(() => buildCredentials(p, undefined, buildkit, none, { env: { [U]: "ci" } }));
    expect(one.message).toMatch(new RegExp(`: ${P} is not set$`));
  });

  it("passes nothing for an index whose variables are set but empty (one that needs no credentials)", async () => {
    const p = await privatePlan();
    expect(buildCredentials(p, undefined, buildkit, none, { env: { [U]: "", [P]: "" } }).secrets).toEqual([]);
  });

  it("refuses docker's legacy builder in one line, before building", async () => {
    const p = await privatePlan();
    const error = failure(() =>
      buildCredentials(p, undefined, legacy, none, { env: { [U]: "a", [P]: "b" } }),
    );
    expect(error.message).toBe(
      "the private index private needs build secrets, and docker's legacy builder (no BuildKit) has none",
    );
  });

  it("asks nothing of a project without private sources", async () => {
    const p = plan(await analyze(join(root, "examples/flask-uwsgi")));
    expect(buildCredentials(p, undefined, legacy, none, { env: {} })).toEqual({ secrets: [], ssh: [] });
  });
});

describe("git over SSH", () => {
  const withGit = async (): Promise<Plan> => {
    const p = await privatePlan();
    return {
      ...p,
      install: {
        ...p.install,
        indexes: [],
        sshGit: [{ package: "lib", url: "git@git.example:o/lib.git", host: "git.example", production: true }],
      },
    };
  };

  it("forwards the running SSH agent and the user's known_hosts", async () => {
    const home = mkdtempSync(join(tmpdir(), "couplet-home-"));
    try {
      mkdirSync(join(home, ".ssh"));
      writeFileSync(join(home, ".ssh", "known_hosts"), "git.example ssh-ed25519 AAAA\n");
      const p = await withGit();
      const found = buildCredentials(p, undefined, buildkit, none, {
        env: { SSH_AUTH_SOCK: "/tmp/agent" },
        home,
      });
      expect(found).toEqual({
        secrets: [`id=known_hosts,src=${join(home, ".ssh", "known_hosts")}`],
        ssh: ["default"],
      });
      const missing = failure(() =>
        buildCredentials(p, undefined, buildkit, none, {
          env: { SSH_AUTH_SOCK: "/tmp/a" },
          home: join(home, "nowhere"),
        }),
      );
      expect(missing.message).toMatch(/its host key is not known/);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it("refuses without an agent", async () => {
    const p = await withGit();
    const error = failure(() => buildCredentials(p, undefined, buildkit, none, { env: {} }));
    expect(error.message).toBe(
      "lib comes from git over SSH (git.example), and no SSH agent is running (SSH_AUTH_SOCK is not set)",
    );
  });
});

describe("secretId", () => {
  it("reads the id of every spelling of --secret", () => {
    expect(secretId("id=a,env=B")).toBe("a");
    expect(secretId("type=file,src=/x,id=b")).toBe("b");
    expect(secretId("src=/x")).toBeUndefined();
  });
});
