// Runs the built couplet CLI as a user would (a child process, its exit code and both streams), for e2e tests.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const repo = fileURLToPath(new URL("../..", import.meta.url));
export const cli = join(repo, "dist/cli/main.js");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Runs `couplet ARGS`; a non-zero exit is a result to assert on, not a thrown error. */
export function couplet(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [cli, ...args],
      { env: options.env ?? process.env, cwd: options.cwd, maxBuffer: 256 << 20 },
      (error, stdout, stderr) => {
        if (!error) return resolve({ code: 0, stdout, stderr });
        // A child that could not be started or outgrew the buffer is the test's failure, not couplet's exit.
        if (typeof error.code !== "number") return reject(error);
        resolve({ code: error.code, stdout, stderr });
      },
    );
  });
}

/** Runs `couplet ARGS` and gives its standard output; any other exit than 0 fails with couplet's own message. */
export async function coupletOutput(args: string[], options: CliOptions = {}): Promise<string> {
  const result = await couplet(args, options);
  if (result.code !== 0)
    throw new Error(
      `couplet ${args.join(" ")} exited with ${result.code}:\n${result.stderr}${result.stdout}`,
    );
  return result.stdout;
}

/** `couplet build DIR` on buildah over the host network, FROM the given base, tagged: the e2e files' usual build. */
export function buildOnBuildah(
  dir: string,
  base: string,
  tag: string,
  extra: string[] = [],
  options: CliOptions = {},
): Promise<CliResult> {
  return couplet(
    [
      "build",
      dir,
      "--engine",
      "buildah",
      "--network",
      "host",
      "--build-arg",
      `PYTHON_IMAGE=${base}`,
      "--tag",
      tag,
      ...extra,
    ],
    options,
  );
}
