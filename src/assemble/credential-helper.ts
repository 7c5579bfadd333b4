// Ask a Docker credential helper (docker-credential-<name> get) for a registry's credentials, as docker and podman do.
import { spawn } from "node:child_process";
import { InputFileError } from "../errors.js";
import type { Credentials } from "./credentials.js";

/** What every helper of docker-credential-helpers prints (exit 1) for a server it holds nothing for. */
const NOT_FOUND = "credentials not found in native keychain";
/** The user name a helper answers with when its secret is an identity (refresh) token, not a password. */
const TOKEN_USERNAME = "<token>";
const MAX_OUTPUT = 64 * 1024;

/** A helper's name becomes part of a program name looked up on PATH: a path or an option must not get in. */
export function validHelperName(name: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name);
}

/** Seconds a helper may take (COUPLET_CREDENTIAL_HELPER_TIMEOUT, default 60: long enough to unlock a keychain). */
function helperTimeout(env: NodeJS.ProcessEnv): number {
  const value = Number(env.COUPLET_CREDENTIAL_HELPER_TIMEOUT);
  return Number.isFinite(value) && value > 0 ? value : 60;
}

export interface HelperRequest {
  /** The name after docker-credential- */
  helper: string;
  /** What the helper is asked for: the registry's host[:port], or Docker Hub's https://index.docker.io/v1/ */
  serverUrl: string;
  /** The auth file and field that named the helper, for messages: `credsStore in ~/.docker/config.json` */
  namedBy: { file: string; field: "credHelpers" | "credsStore" };
}

/**
 * Runs `docker-credential-<helper> get` with the server URL on stdin and reads `{"ServerURL","Username","Secret"}`.
 * Nothing stored for the server (the helpers' "not found" message, or an empty secret as older helpers answer) is
 * no credentials, not an error; a missing program, a failure, a hang or an answer that is not that JSON is one line
 * naming the helper and the file that named it.
 */
export function askCredentialHelper(
  request: HelperRequest,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Credentials | undefined> {
  const program = `docker-credential-${request.helper}`;
  const { file, field } = request.namedBy;
  const source = `${program} (${field} in ${file})`;
  const fail = (what: string, hint: string) =>
    new InputFileError(`${field} names ${program}: ${what}`, { location: { file }, hint });
  return new Promise((resolve, reject) => {
    // Its own process group, so that a timeout ends the helper and anything it started (a shell script's children),
    // whose open stdout would otherwise keep couplet waiting.
    const child = spawn(program, ["get"], { env, stdio: ["pipe", "pipe", "pipe"], detached: true });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outcome();
    };
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_OUTPUT) into.push(chunk);
    };
    child.stdout.on("data", collect(stdout));
    child.stderr.on("data", collect(stderr));
    // A helper that exits without reading its input makes the write fail with EPIPE: its answer still counts.
    child.stdin.on("error", () => undefined);
    child.stdin.end(request.serverUrl);
    const seconds = helperTimeout(env);
    const timer = setTimeout(() => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
      finish(() =>
        reject(
          fail(
            `no answer within ${seconds} s`,
            "it may be waiting for a keychain to be unlocked; unlock it, or raise COUPLET_CREDENTIAL_HELPER_TIMEOUT (seconds)",
          ),
        ),
      );
    }, seconds * 1000);
    child.on("error", (error: NodeJS.ErrnoException) =>
      finish(() =>
        reject(
          error.code === "ENOENT"
            ? fail(
                "that program is not on PATH",
                `install it, or remove "${field}" from the file to use its "auths" entries`,
              )
            : fail(`cannot run it: ${error.message}`, "check that the helper is installed correctly"),
        ),
      ),
    );
    child.on("close", (code, signal) =>
      finish(() => {
        const out = Buffer.concat(stdout).toString("utf8").trim();
        if (code !== 0) {
          if (out === NOT_FOUND) return resolve(undefined);
          // Docker's helpers print why they failed on stdout, but a helper that printed its answer and then
          // failed would put the secret into the error line, and from there into CI logs: an answer-like line
          // is never repeated.
          const first = (text: string) => text.split("\n")[0] ?? "";
          const why = first(out);
          const said =
            why && !/^\s*[{[]|secret/i.test(why) ? why : first(Buffer.concat(stderr).toString("utf8").trim());
          return reject(
            fail(
              `"get" failed (${signal ? `signal ${signal}` : `exit ${code}`})${said ? `: ${said.slice(0, 200)}` : ""}`,
              "run the helper's own login again (docker login), or check the helper",
            ),
          );
        }
        try {
          resolve(parseAnswer(out, source));
        } catch {
          reject(
            fail(
              'its answer is not the JSON a credential helper prints ({"ServerURL", "Username", "Secret"})',
              "check that the program is a Docker credential helper",
            ),
          );
        }
      }),
    );
  });
}

/** The helper's JSON; it throws on anything else, and is never echoed in a message since it may hold the secret. */
function parseAnswer(out: string, source: string): Credentials | undefined {
  const answer = JSON.parse(out) as { Username?: unknown; Secret?: unknown } | null;
  if (typeof answer?.Username !== "string" || typeof answer.Secret !== "string")
    throw new Error("not a helper's answer");
  if (!answer.Secret) return undefined;
  if (answer.Username === TOKEN_USERNAME) return { identityToken: answer.Secret, source };
  return { username: answer.Username, password: answer.Secret, source };
}
