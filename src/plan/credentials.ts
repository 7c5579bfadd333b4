// Which build secrets a plan's installs read, and the command lines that hand them to each engine.

import { printableUrl } from "../project/sources.js";
import type { Plan } from "./types.js";

export type Index = Plan["install"]["indexes"][number];
export type SshGit = Plan["install"]["sshGit"][number];

/** The id of the optional netrc secret (any index), read through requests' NETRC */
export const NETRC_SECRET = "netrc";
/** The id of the known_hosts secret that SSH git dependencies are checked against */
export const KNOWN_HOSTS_SECRET = "known_hosts";

/** What a build of `target` reaches: production's indexes, or every one for the development target. */
export function credentialsFor(plan: Plan, target?: string): { indexes: Index[]; sshGit: SshGit[] } {
  const all = target === "development";
  return {
    indexes: plan.install.indexes.filter((index) => all || index.production),
    sshGit: plan.install.sshGit.filter((git) => all || git.production),
  };
}

/** `id=X,env=X` for each credential variable: the secret's id is Poetry's variable name. */
function envSecrets(indexes: Index[]): string[] {
  return indexes.flatMap((index) => [index.usernameEnv, index.passwordEnv]).map((v) => `id=${v},env=${v}`);
}

/**
 * What `couplet plan` prints for a project with private sources: the variables to set and the exact flags
 * for couplet, docker and buildah/podman. All three read a secret from a variable (`env=`): Docker's classic
 * client from 20.10 on (checked with Debian's 20.10.24 and DOCKER_BUILDKIT=1), buildah 1.28, buildx.
 */
export function credentialLines(plan: Plan): string[] {
  const { indexes, sshGit } = credentialsFor(plan, "development");
  if (indexes.length === 0 && sshGit.length === 0) return [];
  const lines: string[] = [];
  for (const index of indexes)
    lines.push(
      `index ${index.name} (${printableUrl(index.url)})${index.production ? "" : ", development target only"}: set ${index.usernameEnv} and ${index.passwordEnv} (a token: the username __token__ and the token as password), or give a netrc file as the secret ${NETRC_SECRET}`,
    );
  for (const git of sshGit)
    lines.push(
      `git over SSH: ${git.package} from ${git.host}${git.production ? "" : ", development target only"}: an SSH agent holding its key (SSH_AUTH_SOCK) and the host's key in the secret ${KNOWN_HOSTS_SECRET}`,
    );
  const env = envSecrets(indexes).map((spec) => `--secret ${spec}`);
  const ssh = sshGit.length
    ? ["--ssh default", `--secret id=${KNOWN_HOSTS_SECRET},src=$HOME/.ssh/known_hosts`]
    : [];
  const flags = (list: string[]) => [...list, ...ssh].join(" ");
  lines.push(
    `couplet build reads them from the environment; explicitly: couplet build ${flags(env)}`,
    `docker (20.10+ with DOCKER_BUILDKIT=1, or buildx): docker build ${flags(env)} .`,
    `buildah / podman: buildah bud ${flags(env)} .`,
  );
  if (indexes.length)
    lines.push(`or a netrc file instead of the variables: --secret id=${NETRC_SECRET},src=$HOME/.netrc`);
  return lines;
}
