import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { analyze } from "../project/analyze.js";
import { credentialLines, credentialsFor } from "./credentials.js";
import { explainPlan } from "./explain.js";
import { plan } from "./plan.js";
import type { Plan } from "./types.js";

const root = new URL("../..", import.meta.url).pathname;
const privatePlan = async () => plan(await analyze(join(root, "test/fixtures/projects/private-index")));
const U = "POETRY_HTTP_BASIC_PRIVATE_USERNAME";
const P = "POETRY_HTTP_BASIC_PRIVATE_PASSWORD";

describe("the secret lines couplet plan prints", () => {
  it("names the index, its variables, and the exact flags for couplet, docker and buildah", async () => {
    expect(credentialLines(await privatePlan())).toEqual([
      `index private (http://127.0.0.1:38417/simple): set ${U} and ${P} (a token: the username __token__ and the token as password), or give a netrc file as the secret netrc`,
      `couplet build reads them from the environment; explicitly: couplet build --secret id=${U},env=${U} --secret id=${P},env=${P}`,
      `docker (20.10+ with DOCKER_BUILDKIT=1, or buildx): docker build --secret id=${U},env=${U} --secret id=${P},env=${P} .`,
      `buildah / podman: buildah bud --secret id=${U},env=${U} --secret id=${P},env=${P} .`,
      "or a netrc file instead of the variables: --secret id=netrc,src=$HOME/.netrc",
    ]);
  });

  it("shows them in `couplet plan`, and nothing for a project without private sources", async () => {
    expect(explainPlan(await privatePlan())).toMatch(/^Secrets {6}index private \(/m);
    const pypiOnly = plan(await analyze(join(root, "examples/flask-uwsgi")));
    expect(credentialLines(pypiOnly)).toEqual([]);
    expect(explainPlan(pypiOnly)).not.toMatch(/^Secrets/m);
  });

  it("asks production builds only for the indexes production packages come from; development for all", async () => {
    const p = await privatePlan();
    expect(p.install.indexes.map((i) => [i.name, i.production])).toEqual([["private", true]]);
    const devOnly: Plan = {
      ...p,
      install: {
        ...p.install,
        indexes: [
          ...p.install.indexes,
          {
            name: "tools",
            url: "https://tools.example/simple",
            usernameEnv: "POETRY_HTTP_BASIC_TOOLS_USERNAME",
            passwordEnv: "POETRY_HTTP_BASIC_TOOLS_PASSWORD",
            production: false,
          },
        ],
      },
    };
    expect(credentialsFor(devOnly).indexes.map((i) => i.name)).toEqual(["private"]);
    expect(credentialsFor(devOnly, "development").indexes.map((i) => i.name)).toEqual(["private", "tools"]);
    expect(credentialLines(devOnly)[1]).toMatch(
      /^index tools \(https:\/\/tools\.example\/simple\), development target only: /,
    );
  });

  it("prints the SSH agent and known_hosts flags for git over SSH", async () => {
    const p = await privatePlan();
    const withGit: Plan = {
      ...p,
      install: {
        ...p.install,
        indexes: [],
        sshGit: [{ package: "lib", url: "git@git.example:o/lib.git", host: "git.example", production: true }],
      },
    };
    const lines = credentialLines(withGit);
    expect(lines[0]).toMatch(/^git over SSH: lib from git\.example: an SSH agent/);
    expect(lines[1]).toBe(
      "couplet build reads them from the environment; explicitly: couplet build --ssh default --secret id=known_hosts,src=$HOME/.ssh/known_hosts",
    );
  });
});
