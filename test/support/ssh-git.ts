// A real SSH git server on loopback for end-to-end tests: OpenSSH's sshd with its own host key serving a bare
// repository to one fresh client key, and an ssh-agent holding that key.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { cp, mkdir, readFile, writeFile } from "node:fs/promises";
import { userInfo } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "./buildah.js";

const exec = promisify(execFile);
const SSHD = "/usr/sbin/sshd";

export interface SshGitServer {
  /** `ssh://USER@127.0.0.1:PORT/…/NAME.git` */
  url: string;
  port: number;
  /** The commit the repository's main branch points at */
  commit: string;
  /** A known_hosts file that holds this server's host key (and nothing else) */
  knownHosts: string;
  /** The client's private key (OpenSSH format), accepted by the server for git only */
  clientKey: string;
  /** What sshd has logged so far (LogLevel VERBOSE: every accepted key and forced command) */
  log(): string;
  stop(): Promise<void>;
}

export interface SshAgent {
  socket: string;
  stop(): Promise<void>;
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined)
    return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

/**
 * Serve `source` (a directory, committed as one commit) as a bare repository over SSH on 127.0.0.1. The user is
 * whoever runs the test (sshd started by root may log in as root; started by anyone else, only as that user).
 * The client key may run nothing but git-shell: `restrict` also turns off agent and port forwarding.
 */
export async function startSshGitServer(dir: string, source: string, name: string): Promise<SshGitServer> {
  const keys = join(dir, "keys");
  await mkdir(keys, { recursive: true });
  const hostKey = join(keys, "host_ed25519");
  const clientKey = join(keys, "client_ed25519");
  for (const [file, comment] of [
    [hostKey, "couplet-e2e-host"],
    [clientKey, "couplet-e2e-client"],
  ] as const)
    await exec("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", file]);

  // The repository: the fixture committed once, then cloned bare where sshd's git-shell serves it.
  const work = join(dir, "src");
  const bare = join(dir, "srv", `${name}.git`);
  await cp(source, work, { recursive: true });
  const git = (args: string[], cwd: string) =>
    exec("git", args, {
      cwd,
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: "couplet e2e",
        GIT_AUTHOR_EMAIL: "e2e@couplet.invalid",
        GIT_COMMITTER_NAME: "couplet e2e",
        GIT_COMMITTER_EMAIL: "e2e@couplet.invalid",
      },
    });
  await git(["init", "-q", "-b", "main"], work);
  await git(["add", "-A"], work);
  await git(["commit", "-q", "-m", "couplet e2e: the package served over SSH"], work);
  await git(["clone", "-q", "--bare", work, bare], dir);
  const commit = (await git(["rev-parse", "HEAD"], bare)).stdout.trim();

  const user = userInfo().username;
  const port = await freePort();
  const clientPub = (await readFile(`${clientKey}.pub`, "utf8")).trim();
  const authorized = join(keys, "authorized_keys");
  await writeFile(authorized, `restrict,command="git-shell -c \\"$SSH_ORIGINAL_COMMAND\\"" ${clientPub}\n`);
  const hostPub = (await readFile(`${hostKey}.pub`, "utf8")).trim().split(" ");
  // ssh looks a host on another port than 22 up as [host]:port.
  const knownHosts = join(keys, "known_hosts");
  await writeFile(knownHosts, `[127.0.0.1]:${port} ${hostPub[0]} ${hostPub[1]}\n`);
  const config = join(keys, "sshd_config");
  await writeFile(
    config,
    [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${hostKey}`,
      `PidFile ${join(dir, "sshd.pid")}`,
      `AuthorizedKeysFile ${authorized}`,
      "AuthenticationMethods publickey",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "PermitRootLogin prohibit-password",
      `AllowUsers ${user}`,
      // No PAM (no system account setup for a test server) and no ownership checks on the temporary folder.
      "UsePAM no",
      "StrictModes no",
      "LogLevel VERBOSE",
      "",
    ].join("\n"),
  );
  // sshd started as root refuses to run without its privilege separation directory (the service makes it).
  if (user === "root") await mkdir("/run/sshd", { recursive: true, mode: 0o755 });
  const sshd = spawn(SSHD, ["-D", "-e", "-f", config], { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  sshd.stdout?.on("data", (d: Buffer) => (log += d.toString()));
  sshd.stderr?.on("data", (d: Buffer) => (log += d.toString()));
  const server: SshGitServer = {
    url: `ssh://${user}@127.0.0.1:${port}${bare}`,
    port,
    commit,
    knownHosts,
    clientKey,
    log: () => log,
    stop: () => stopChild(sshd),
  };
  for (let tries = 0; !log.includes("Server listening on 127.0.0.1"); tries++) {
    if (sshd.exitCode !== null || tries > 100) {
      await server.stop();
      throw new Error(`sshd did not start on 127.0.0.1:${port}:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return server;
}

/** An ssh-agent of this test's own (foreground, so its pid is ours to stop) holding `key`. */
export async function startSshAgent(dir: string, key: string): Promise<SshAgent> {
  const socket = join(dir, "agent.sock");
  const agent = spawn("ssh-agent", ["-D", "-a", socket], { stdio: "ignore" });
  const stop = () => stopChild(agent);
  for (let tries = 0; ; tries++) {
    try {
      await exec("ssh-add", [key], { env: { ...process.env, SSH_AUTH_SOCK: socket } });
      return { socket, stop };
    } catch (error) {
      if (agent.exitCode !== null || tries > 50) {
        await stop();
        throw error;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
