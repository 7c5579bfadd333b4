// `couplet build` for a project with private sources: the secrets and SSH agent a build needs, found before it starts.
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { EngineFeatures } from "./engine/types.js";
import { UserError } from "./errors.js";
import { credentialsFor, KNOWN_HOSTS_SECRET, NETRC_SECRET } from "./plan/credentials.js";
import type { Plan } from "./plan/types.js";
import { printableUrl } from "./project/sources.js";

export interface CredentialSources {
  /** Where Poetry's variables are read (the user's environment) */
  env: Record<string, string | undefined>;
  /** The user's home, for ~/.ssh/known_hosts */
  home?: string;
}

export interface BuildCredentials {
  /** Every `--secret` spec: the user's, then the ones found in the environment */
  secrets: string[];
  /** `--ssh` specs */
  ssh: string[];
}

/** The `id=` of a `--secret` spec (`id=X,env=Y`, `id=X,src=F`, `type=file,id=X,...`). */
export function secretId(spec: string): string | undefined {
  for (const field of spec.split(",")) {
    const [key, ...value] = field.split("=");
    if (key?.trim().toLowerCase() === "id") return value.join("=");
  }
  return undefined;
}

/**
 * The secrets a build of `target` needs, from the flags the user gave and else from the environment: each
 * index's POETRY_HTTP_BASIC_<NAME>_USERNAME and _PASSWORD passed as `id=VAR,env=VAR` (the value never touches
 * a file or a command line), or the user's `--secret id=netrc,...`. A missing credential is one line naming
 * the index, the variables and what to do (exit 2), before anything is built. Both variables set but empty
 * say the index needs no credentials (a public mirror declared as a source): nothing is passed for it.
 */
export function buildCredentials(
  plan: Plan,
  target: string | undefined,
  engine: EngineFeatures,
  given: { secrets: string[]; ssh: string[] },
  sources: CredentialSources,
): BuildCredentials {
  const needs = credentialsFor(plan, target);
  const secrets = [...given.secrets];
  const ssh = [...given.ssh];
  if (needs.indexes.length === 0 && needs.sshGit.length === 0) return { secrets, ssh };
  const first = needs.indexes[0] ?? needs.sshGit[0];
  if (!engine.secrets)
    throw new UserError(
      `${first && "usernameEnv" in first ? `the private index ${first.name}` : `git over SSH (${first?.package})`} needs build secrets, and docker's legacy builder (no BuildKit) has none`,
      {
        hint: "install docker-buildx, build with a docker client older than 23.0 (--docker), or build with buildah or podman",
      },
    );
  const ids = new Set(secrets.map(secretId));
  for (const index of needs.indexes) {
    const vars = [index.usernameEnv, index.passwordEnv];
    const found = vars.filter((v) => ids.has(v) || sources.env[v] !== undefined);
    if (found.length === 0 && ids.has(NETRC_SECRET)) continue;
    if (found.length < 2) {
      const missing = vars.filter((v) => !found.includes(v));
      throw new UserError(
        `the private index ${index.name} (${printableUrl(index.url)}) needs credentials: ${missing.join(" and ")} ${missing.length === 2 ? "are" : "is"} not set`,
        {
          hint: `export ${vars.join(" and ")} (a token: the username __token__), or pass --secret id=${NETRC_SECRET},src=FILE with a netrc file; \`couplet plan\` prints the flags`,
        },
      );
    }
    for (const v of vars)
      if (!ids.has(v) && sources.env[v]) {
        secrets.push(`id=${v},env=${v}`);
        ids.add(v);
      }
  }
  if (needs.sshGit.length) {
    const git = needs.sshGit[0];
    if (ssh.length === 0) {
      if (!sources.env.SSH_AUTH_SOCK)
        throw new UserError(
          `${git?.package} comes from git over SSH (${git?.host}), and no SSH agent is running (SSH_AUTH_SOCK is not set)`,
          {
            hint: "start one with the key loaded (eval $(ssh-agent) && ssh-add), or pass --ssh default=KEYFILE",
          },
        );
      ssh.push("default");
    }
    if (!ids.has(KNOWN_HOSTS_SECRET)) {
      const known = sources.home ? join(sources.home, ".ssh", "known_hosts") : undefined;
      if (!known || !existsSync(known))
        throw new UserError(
          `${git?.package} comes from git over SSH (${git?.host}), and its host key is not known: ~/.ssh/known_hosts is missing`,
          {
            hint: `pass --secret id=${KNOWN_HOSTS_SECRET},src=FILE with the host's key (ssh-keyscan ${git?.host}, checked against the key its owner publishes)`,
          },
        );
      secrets.push(`id=${KNOWN_HOSTS_SECRET},src=${known}`);
    }
  }
  return { secrets, ssh };
}
