// Time from `buildah run` to a container's first HTTP answer on loopback, or to its command's exit: the
// measurement bench/startup.mjs and bench/assemble-bytecode.mjs share.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const BUILDAH = ["--storage-driver", "overlay"];

export const buildah = (args, options = {}) =>
  execFileSync("buildah", [...BUILDAH, ...args], { encoding: "utf8", maxBuffer: 1 << 28, ...options }).trim();

export function freePort() {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function answered(port, deadline) {
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1000) });
      await response.text();
      return true;
    } catch {
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  return false;
}

/** Milliseconds from `buildah run` to the first HTTP answer (web), or to the command's exit. */
export async function startOnce(tag, web, argv) {
  return (await startTimed(tag, web, argv)).ms;
}

/**
 * startOnce's milliseconds, and the CPU seconds (user + system) of `buildah run` and the container's processes
 * until they ended (GNU time counts every descendant waited for): on a machine shared with other jobs the wall
 * time carries their load, the CPU time much less. The container gets a free port in $PORT, and a `{port}`
 * word of argv becomes it: runs on a shared machine never collide.
 */
export async function startTimed(tag, web, argv) {
  const container = buildah(["from", "--pull=never", tag]);
  const port = await freePort();
  const scratch = mkdtempSync(join(tmpdir(), "couplet-start-"));
  const timeFile = join(scratch, "time");
  const start = performance.now();
  // GNU time ignores SIGINT while it waits, so stopping the group stops the server and time still reports.
  const child = spawn(
    "/usr/bin/time",
    [
      "-f",
      "%U %S",
      "-o",
      timeFile,
      "buildah",
      ...BUILDAH,
      "run",
      "--isolation",
      "chroot",
      "--env",
      `PORT=${port}`,
      container,
      "--",
      ...argv.map((word) => word.replaceAll("{port}", String(port))),
    ],
    { detached: true, stdio: "ignore" },
  );
  const exited = new Promise((resolve) => child.on("exit", resolve));
  let ms;
  if (web) {
    const ok = await answered(port, Date.now() + 60_000);
    ms = performance.now() - start;
    if (!ok) throw new Error(`${tag} never answered`);
    process.kill(-child.pid, "SIGINT");
    const timer = setTimeout(() => process.kill(-child.pid, "SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  } else {
    const code = await exited;
    ms = performance.now() - start;
    if (code !== 0) throw new Error(`${tag} exited ${code}`);
  }
  buildah(["rm", container]);
  const [user, system] = readFileSync(timeFile, "utf8").trim().split("\n").pop().split(" ").map(Number);
  rmSync(scratch, { recursive: true, force: true });
  return { ms, cpu: user + system };
}

export { median } from "./measure.mjs";
