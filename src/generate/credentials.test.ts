import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { plan } from "../plan/plan.js";
import type { Plan } from "../plan/types.js";
import { analyze } from "../project/analyze.js";
import { render } from "./render.js";

const root = new URL("../..", import.meta.url).pathname;
const fixture = join(root, "test/fixtures/projects/private-index");
const USER = "POETRY_HTTP_BASIC_PRIVATE_USERNAME";
const PASS = "POETRY_HTTP_BASIC_PRIVATE_PASSWORD";

async function privatePlan(options: Parameters<typeof plan>[1] = {}): Promise<Plan> {
  return plan(await analyze(fixture), options);
}

/** The RUN instructions of a Dockerfile, continuation lines joined. */
function runs(dockerfile: string): string[] {
  return dockerfile
    .replace(/ \\\n\s*/g, " ")
    .split("\n")
    .filter((line) => line.startsWith("RUN "));
}

describe("a lock that takes a package from a private index", () => {
  it("mounts the index's credentials as secrets in the dependency and development installs only", async () => {
    const text = render(await privatePlan()).dockerfile;
    const withSecrets = runs(text).filter((line) => line.includes("type=secret"));
    expect(withSecrets).toHaveLength(2);
    expect(withSecrets[0]).toMatch(/poetry install --only main --no-root$/);
    expect(withSecrets[1]).toMatch(/poetry install$/);
    for (const line of withSecrets) {
      expect(line).toContain(
        `--mount=type=secret,id=${USER} --mount=type=secret,id=${PASS} --mount=type=secret,id=netrc`,
      );
      expect(line).toContain("--mount=type=cache,target=/root/.cache/pypoetry");
    }
    // The root install after the code resolves nothing (everything is installed): no secret reaches it.
    expect(runs(text).find((line) => /poetry install --only main$/.test(line))).not.toContain("secret");
    // Never an ARG or ENV that could keep a credential in the image's history.
    expect(text).not.toMatch(/^(ARG|ENV)\b[^\n]*POETRY_HTTP_BASIC/m);
    expect(text).not.toMatch(/echo[^\n]*\/run\/secrets/);
  });

  it("mounts the secrets in a strategy without cache mounts, and keeps the frontend RUN --mount needs", async () => {
    const text = render(await privatePlan({ strategy: "multistage" })).dockerfile;
    expect(text).not.toContain("type=cache");
    expect(runs(text).filter((line) => line.includes(`id=${PASS}`))).toHaveLength(2);
    expect(text.split("\n")[0]).toBe("# syntax=docker/dockerfile:1");
    const builtin = render(await privatePlan({ strategy: "multistage", builtinFrontend: true })).dockerfile;
    expect(builtin).toContain("# No `# syntax=` line, on purpose");
  });

  it("reads each secret that was given into Poetry's variable, and skips the ones that were not (shell run for real)", async () => {
    const text = render(await privatePlan()).dockerfile;
    const install = runs(text)[runs(text).findIndex((line) => line.includes("--no-root"))] ?? "";
    const script = install.slice(install.indexOf("for id in")).replace(/ && poetry install.*$/, "");
    const dir = mkdtempSync(join(tmpdir(), "couplet-secrets-"));
    try {
      const sh = (files: Record<string, string>) => {
        for (const [name, value] of Object.entries(files))
          writeFileSync(join(dir, name), value, { mode: 0o600 });
        const out = spawnSync("sh", ["-c", `${script.replaceAll("/run/secrets", dir)} && env`], {
          encoding: "utf8",
          env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
        });
        expect(out.status, out.stderr).toBe(0);
        return Object.fromEntries(
          out.stdout.split("\n").map((l) => [l.split("=")[0], l.slice(l.indexOf("=") + 1)]),
        );
      };
      // A value with spaces, quotes and a trailing newline (echo's) arrives as it was, without the newline.
      const env = sh({ [USER]: "ci user\n", [PASS]: `pa$$ 'w"rd` });
      expect(env[USER]).toBe("ci user");
      expect(env[PASS]).toBe(`pa$$ 'w"rd`);
      expect(env.NETRC).toBeUndefined();
      rmSync(join(dir, USER));
      rmSync(join(dir, PASS));
      const netrc = sh({ netrc: "machine 127.0.0.1 login u password p\n" });
      expect(netrc[USER]).toBeUndefined();
      expect(netrc.NETRC).toBe(join(dir, "netrc"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("mounts the SSH agent and the known_hosts secret where a git dependency comes over SSH", async () => {
    const p = await privatePlan();
    const withGit: Plan = {
      ...p,
      install: {
        ...p.install,
        indexes: [],
        sshGit: [
          {
            package: "internal-lib",
            url: "ssh://git@git.example/org/lib.git",
            host: "git.example",
            production: true,
          },
        ],
      },
    };
    const text = render(withGit).dockerfile;
    const install = runs(text).find((line) => line.includes("--no-root")) ?? "";
    // The host keys go where ssh reads them whoever runs it: Poetry 2.5's dulwich (1.2.1 and later) ignores
    // GIT_SSH_COMMAND, so pointing ssh at /run/secrets/known_hosts through it failed host key checking.
    expect(install).toMatch(
      /^RUN --mount=type=ssh --mount=type=secret,id=known_hosts,target=\/etc\/ssh\/ssh_known_hosts /,
    );
    expect(install).not.toContain("GIT_SSH_COMMAND");
    // Host keys are checked against the given file; nothing turns checking off.
    expect(text).not.toMatch(/StrictHostKeyChecking|UserKnownHostsFile|ssh-keyscan/);
  });
});
