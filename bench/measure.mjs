// What the benchmarks share: one command timed by GNU time, the median of runs, a project file to edit.
import { execFile } from "node:child_process";
import { readdir } from "node:fs/promises";
import { loadavg } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/**
 * Wall, CPU (user + system, children included), the 1-minute load average at the start, and the command's
 * output, from GNU time: the work of an engine or a compiling Python happens in child processes, which Node's
 * own counters do not see.
 */
export async function timed(command, args, env = process.env) {
  const load = loadavg()[0];
  const { stdout, stderr } = await run("/usr/bin/time", ["-f", "TIME %e %U %S", command, ...args], {
    env,
    maxBuffer: 256 << 20,
  });
  const [wall, user, sys] = (/TIME (\S+) (\S+) (\S+)\s*$/.exec(stderr) ?? []).slice(1).map(Number);
  return { wall, cpu: Math.round((user + sys) * 100) / 100, load: Math.round(load * 10) / 10, stdout };
}

/** The middle value; for an even count, the mean of the two middle ones. */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** A Python file of the project (not its tests): the edit a developer makes most. */
export async function firstSource(dir) {
  for (const candidate of ["src", "app"]) {
    const stack = [join(dir, candidate)];
    while (stack.length) {
      const at = stack.pop();
      for (const entry of await readdir(at, { withFileTypes: true }).catch(() => [])) {
        if (entry.isDirectory()) stack.push(join(at, entry.name));
        else if (entry.name.endsWith(".py")) return join(at, entry.name);
      }
    }
  }
  throw new Error(`no Python source in ${dir}`);
}
