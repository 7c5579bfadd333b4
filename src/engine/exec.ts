// The one place that spawns engine processes: line-by-line output, a full log file, clean stop on abort.
import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import type { CommandSpec } from "./types.js";

export interface RunOptions {
  /** Called for each line of stdout and stderr, in arrival order */
  onLine?: (line: string) => void;
  /** Every byte the child prints is appended here */
  logFile?: string;
  /** Aborting stops the child's whole process group (engines fork helpers that must stop too) */
  signal?: AbortSignal;
  cwd?: string;
}

export interface RunResult {
  code: number | null;
  /** Set when the child ended by a signal, including our own stop on abort */
  signal: NodeJS.Signals | null;
  aborted: boolean;
}

/** How long a stopped engine gets to clean up after SIGTERM before SIGKILL. */
const KILL_GRACE_MS = 5_000;

export function run(command: CommandSpec, options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      resolve({ code: null, signal: null, aborted: true });
      return;
    }
    const log = options.logFile ? createWriteStream(options.logFile, { flags: "a" }) : undefined;
    log?.write(`$ ${[command.program, ...command.args].join(" ")}\n`);
    const child = spawn(command.program, command.args, {
      cwd: options.cwd,
      env: { ...process.env, ...command.env },
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group, so a stop reaches every helper the engine started and the
      // terminal's Ctrl-C goes to us first (we decide how to stop the engine).
      detached: true,
    });
    let aborted = false;
    let killTimer: NodeJS.Timeout | undefined;
    const stop = () => {
      aborted = true;
      signalGroup(child.pid, "SIGTERM");
      killTimer = setTimeout(() => signalGroup(child.pid, "SIGKILL"), KILL_GRACE_MS);
      killTimer.unref();
    };
    options.signal?.addEventListener("abort", stop, { once: true });
    const splitters = [child.stdout, child.stderr].map((stream) => {
      let pending = "";
      stream.setEncoding("utf8");
      stream.on("data", (chunk: string) => {
        log?.write(chunk);
        pending += chunk;
        const lines = pending.split(/\r?\n|\r/);
        pending = lines.pop() ?? "";
        for (const line of lines) options.onLine?.(line);
      });
      return () => {
        if (pending) options.onLine?.(pending);
        pending = "";
      };
    });
    child.on("error", (error) => {
      options.signal?.removeEventListener("abort", stop);
      log?.end();
      reject(error);
    });
    child.on("close", (code, signal) => {
      for (const flush of splitters) flush();
      clearTimeout(killTimer);
      options.signal?.removeEventListener("abort", stop);
      const done = () => resolve({ code, signal, aborted });
      if (log) log.end(done);
      else done();
    });
  });
}

function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

/** Runs a short command and returns its stdout; a failure throws with the command's stderr. */
export async function capture(command: CommandSpec, options: { signal?: AbortSignal } = {}): Promise<string> {
  let out = "";
  const lines: string[] = [];
  const child = spawn(command.program, command.args, {
    env: { ...process.env, ...command.env },
    stdio: ["ignore", "pipe", "pipe"],
    signal: options.signal,
  });
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    out += chunk;
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    lines.push(chunk);
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", resolve);
  });
  if (code !== 0)
    throw new Error(
      `${command.program} ${command.args.join(" ")} failed (exit ${code}): ${lines.join("").trim()}`,
    );
  return out;
}
