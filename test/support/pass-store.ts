// A password store for docker-credential-pass in a temporary folder: a fresh GnuPG key without a passphrase, `pass init`.
import { execFile } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const exec = promisify(execFile);

export interface PassStore {
  /** GNUPGHOME and PASSWORD_STORE_DIR for this store, on top of the process's environment */
  env: NodeJS.ProcessEnv;
  /** Stores credentials for a server through the helper itself, as `docker login` does with credsStore "pass" */
  store(serverUrl: string, username: string, secret: string): Promise<void>;
  /** Ends the gpg-agent that decrypting started for this GNUPGHOME */
  stop(): Promise<void>;
}

export async function startPassStore(dir: string): Promise<PassStore> {
  const gnupg = join(dir, "gnupg");
  await mkdir(gnupg, { recursive: true, mode: 0o700 });
  const env = { ...process.env, GNUPGHOME: gnupg, PASSWORD_STORE_DIR: join(dir, "password-store") };
  await exec(
    "gpg",
    [
      "--batch",
      "--passphrase",
      "",
      "--quick-gen-key",
      "couplet test <test@couplet.invalid>",
      "default",
      "default",
      "never",
    ],
    { env },
  );
  const { stdout } = await exec("gpg", ["--batch", "--list-keys", "--with-colons"], { env });
  const fingerprint = /^fpr:+([0-9A-F]{40}):/m.exec(stdout)?.[1];
  if (!fingerprint) throw new Error(`no key after gpg --quick-gen-key:\n${stdout}`);
  await exec("pass", ["init", fingerprint], { env });
  return {
    env,
    store: (serverUrl, username, secret) =>
      new Promise((resolve, reject) => {
        const child = execFile("docker-credential-pass", ["store"], { env }, (error, _out, stderr) =>
          error ? reject(new Error(`docker-credential-pass store: ${stderr || error.message}`)) : resolve(),
        );
        child.stdin?.end(JSON.stringify({ ServerURL: serverUrl, Username: username, Secret: secret }));
      }),
    stop: async () => {
      await exec("gpgconf", ["--kill", "gpg-agent"], { env }).catch(() => undefined);
    },
  };
}
