// A private Docker daemon for tests: its own data root and socket, started by hand, stopped (and cleaned) after.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { dockerImportChanges } from "./base-image.js";

const exec = promisify(execFile);

export interface PrivateDockerd {
  /** DOCKER_HOST value for clients */
  host: string;
  /** Environment for child processes that should talk to this daemon */
  env: NodeJS.ProcessEnv;
  logFile: string;
  stop(): Promise<void>;
}

/**
 * Starts dockerd the way these machines allow: overlay2 storage (far faster than vfs, which copies every
 * layer), no iptables and no bridge (builds and containers use `--network host`). Start one per test file
 * and stop it in afterAll. Throws when dockerd is not installed.
 */
export async function startDockerd(): Promise<PrivateDockerd> {
  const root = await mkdtemp(join(tmpdir(), "couplet-dockerd-"));
  const socket = join(root, "docker.sock");
  const host = `unix://${socket}`;
  const logFile = join(root, "dockerd.log");
  const log = createWriteStream(logFile);
  const child: ChildProcess = spawn(
    "dockerd",
    [
      "--storage-driver=overlay2",
      "--iptables=false",
      "--ip6tables=false",
      "--bridge=none",
      `--data-root=${join(root, "data")}`,
      `--exec-root=${join(root, "exec")}`,
      `--pidfile=${join(root, "dockerd.pid")}`,
      "-H",
      host,
    ],
    { stdio: ["ignore", "pipe", "pipe"], detached: true },
  );
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  const env = { ...process.env, DOCKER_HOST: host };
  const stop = async () => {
    if (child.exitCode === null && child.pid !== undefined) {
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        // already gone
      }
      const killer = setTimeout(() => child.pid !== undefined && process.kill(-child.pid, "SIGKILL"), 15_000);
      await exited;
      clearTimeout(killer);
    }
    // dockerd leaves its network namespace and overlay2 layers mounted under its roots: unmount, then remove.
    await removeMountedTree(root);
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`dockerd exited with ${child.exitCode} before answering (log was ${logFile})`);
    }
    try {
      await exec("docker", ["version", "--format", "{{.Server.Version}}"], { env });
      break;
    } catch {
      if (Date.now() > deadline) {
        await stop();
        throw new Error("dockerd did not answer within 60 s");
      }
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  return { host, env, logFile, stop };
}

/** Imports a root filesystem tarball as an image configured like the buildah base image. */
export async function importImage(d: PrivateDockerd, tarball: string, ref: string): Promise<string> {
  await exec("docker", ["import", ...dockerImportChanges(), tarball, ref], {
    env: d.env,
    maxBuffer: 16 * 1024 * 1024,
  });
  return ref;
}

/** Unmounts whatever is mounted under `root` (innermost first), then removes the folder. */
export async function removeMountedTree(root: string): Promise<void> {
  const mounts = (await readFile("/proc/self/mounts", "utf8"))
    .split("\n")
    .map((line) => line.split(" ")[1] ?? "")
    .filter((path) => path.startsWith(root))
    .reverse();
  for (const path of mounts) await exec("umount", ["-l", path]).catch(() => undefined);
  await rm(root, { recursive: true, force: true });
}
