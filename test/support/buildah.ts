// Small typed buildah helpers for end-to-end tests: build, run, serve, inspect layers, remove.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createServer } from "node:net";
import { promisify } from "node:util";
import { BuildTracker } from "../../src/engine/progress.js";

const execFileP = promisify(execFile);
// Every call names the storage driver: without it buildah may pick vfs and miss the images others made.
const BUILDAH = ["--storage-driver", "overlay"];

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run buildah and return its output; never throws for a non-zero exit (callers assert on `code`). */
export async function buildah(args: string[], timeoutMs = 20 * 60_000): Promise<Result> {
  try {
    const { stdout, stderr } = await execFileP("buildah", [...BUILDAH, ...args], {
      maxBuffer: 256 * 1024 * 1024,
      timeout: timeoutMs,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number | string; stdout?: string; stderr?: string; message: string };
    return {
      code: typeof e.code === "number" ? e.code : 1,
      stdout: e.stdout ?? "",
      stderr: e.stderr ?? e.message,
    };
  }
}

async function buildahOk(args: string[]): Promise<string> {
  const result = await buildah(args);
  if (result.code !== 0)
    throw new Error(`buildah ${args.join(" ")} failed (${result.code}):\n${result.stderr}`);
  return result.stdout.trim();
}

export interface BuildOptions {
  context: string;
  /** Defaults to <context>/Dockerfile */
  dockerfile?: string;
  tag: string;
  target?: string;
  buildArgs?: Record<string, string>;
  /** Reuse cached layers (`--layers`); default true */
  layers?: boolean;
}

export interface BuildStep {
  /** The instruction as buildah printed it, e.g. `RUN poetry install --no-root` */
  instruction: string;
  /** buildah reported `--> Using cache` for this step */
  cached: boolean;
}

export interface BuildResult extends Result {
  /** buildah's output (stdout and stderr), to attach to a failing assertion */
  log: string;
  steps: BuildStep[];
}

/** `buildah bud` as the product's users would run it on these machines (chroot isolation, no pulls). */
export async function build(options: BuildOptions): Promise<BuildResult> {
  const args = ["bud", "--isolation", "chroot", "--pull=never", `--layers=${options.layers ?? true}`];
  args.push("-f", options.dockerfile ?? `${options.context}/Dockerfile`, "-t", options.tag);
  if (options.target) args.push("--target", options.target);
  for (const [key, value] of Object.entries(options.buildArgs ?? {}))
    args.push("--build-arg", `${key}=${value}`);
  args.push(options.context);
  const result = await buildah(args);
  const log = `${result.stdout}\n${result.stderr}`;
  return { ...result, log, steps: parseSteps(log) };
}

/**
 * The steps of a `buildah bud` or `podman build` log and whether each came from the layer cache, as
 * couplet's own progress tracker reads them (unit-tested on captured logs in src/engine/progress.test.ts):
 * a stage built on demand prints its steps inside the step that waits for it, so results are matched
 * to steps by nesting, not by order.
 */
export function parseSteps(log: string): BuildStep[] {
  const tracker = new BuildTracker("buildah", () => 0);
  for (const line of log.split("\n")) tracker.feed(line);
  tracker.end();
  return tracker.steps.map((s) => ({ instruction: s.instruction, cached: s.cached }));
}

export interface RunOptions {
  /** Override the image's configured user (default: the image's USER, as a container runtime would) */
  user?: string;
  env?: Record<string, string>;
}

/** Run one command in a fresh container of `image` and remove the container afterwards. */
export async function runInImage(
  image: string,
  command: string[],
  options: RunOptions = {},
): Promise<Result> {
  const container = await buildahOk(["from", "--pull=never", image]);
  try {
    const args = ["run", "--isolation", "chroot"];
    if (options.user) args.push("--user", options.user);
    for (const [key, value] of Object.entries(options.env ?? {})) args.push("--env", `${key}=${value}`);
    return await buildah([...args, container, "--", ...command], 5 * 60_000);
  } finally {
    await buildah(["rm", container]);
  }
}

export interface ImageConfig {
  user: string;
  entrypoint: string[];
  cmd: string[];
  env: string[];
  workingDir: string;
  exposedPorts: string[];
  labels: Record<string, string>;
}

// buildah 1.28's --format has no `json` function: read the whole inspect document instead.
async function inspectImage(image: string): Promise<{ config?: unknown; [key: string]: unknown }> {
  const raw = await buildahOk(["inspect", "--type", "image", image]);
  return (JSON.parse(raw) as { OCIv1: { config?: unknown } }).OCIv1;
}

/** The OCI configuration of an image (what a runtime would start). */
export async function imageConfig(image: string): Promise<ImageConfig> {
  const c = (await inspectImage(image)).config as {
    User?: string;
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    Env?: string[] | null;
    WorkingDir?: string;
    ExposedPorts?: Record<string, unknown> | null;
    Labels?: Record<string, string> | null;
  };
  return {
    user: c.User ?? "",
    entrypoint: c.Entrypoint ?? [],
    cmd: c.Cmd ?? [],
    env: c.Env ?? [],
    workingDir: c.WorkingDir ?? "",
    exposedPorts: Object.keys(c.ExposedPorts ?? {}),
    labels: c.Labels ?? {},
  };
}

export interface Layer {
  /** Uncompressed layer digest (rootfs diff_id) */
  diffId: string;
  /** The instruction that made it, from the image history */
  createdBy: string;
}

/** An image's filesystem layers, oldest first, each with the history entry that made it. */
export async function imageLayers(image: string): Promise<Layer[]> {
  const oci = (await inspectImage(image)) as {
    rootfs: { diff_ids: string[] };
    history?: { created_by?: string; empty_layer?: boolean }[];
  };
  const producing = (oci.history ?? []).filter((h) => !h.empty_layer);
  return oci.rootfs.diff_ids.map((diffId, i) => ({ diffId, createdBy: producing[i]?.created_by ?? "" }));
}

export async function imageId(image: string): Promise<string> {
  return buildahOk(["inspect", "--type", "image", "--format", "{{.FromImageID}}", image]);
}

export async function removeImages(...images: string[]): Promise<void> {
  for (const image of images) await buildah(["rmi", "-f", image]);
}

/** A TCP port nothing listens on right now (the containers share the host's network). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

export interface Server {
  container: string;
  /** Output so far, for failure messages */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Start `command` (default: the image's entrypoint + cmd) in a container in the background. The
 * container shares the host's network, so what it listens on answers on 127.0.0.1.
 */
export async function startServer(
  image: string,
  command?: string[],
  env: Record<string, string> = {},
): Promise<Server> {
  let argv = command;
  if (!argv) {
    const config = await imageConfig(image);
    argv = [...config.entrypoint, ...config.cmd];
  }
  const container = await buildahOk(["from", "--pull=never", image]);
  let output = "";
  // Own process group: stop() signals buildah and everything it started, not just the buildah process.
  const child: ChildProcess = spawn(
    "buildah",
    [
      ...BUILDAH,
      "run",
      "--isolation",
      "chroot",
      ...Object.entries(env).flatMap(([key, value]) => ["--env", `${key}=${value}`]),
      container,
      "--",
      ...argv,
    ],
    {
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  child.stdout?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  return {
    container,
    output: () => output,
    async stop() {
      const group = child.pid;
      if (group !== undefined && child.exitCode === null) {
        // SIGINT, not SIGTERM: uWSGI takes SIGTERM as "reload" and keeps running.
        signalGroup(group, "SIGINT");
        const timer = setTimeout(() => signalGroup(group, "SIGKILL"), 5000);
        await exited;
        clearTimeout(timer);
        signalGroup(group, "SIGKILL"); // stragglers that ignored SIGTERM (e.g. worker processes)
      }
      await buildah(["rm", container]);
    },
  };
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // The group is already gone.
  }
}

/** GET http://127.0.0.1:<port><path>, retrying until the server answers or `timeoutMs` passes. */
export async function httpGet(
  port: number,
  path = "/",
  timeoutMs = 60_000,
): Promise<{ status: number; body: string }> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5000) });
      return { status: response.status, body: await response.text() };
    } catch (error) {
      lastError = error;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  throw new Error(`no HTTP answer on 127.0.0.1:${port}${path} within ${timeoutMs} ms: ${String(lastError)}`);
}
