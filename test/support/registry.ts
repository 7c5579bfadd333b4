// A private container registry on loopback (Debian's docker-registry) and private containers-storage
// roots that stand in for separate CI machines sharing it.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "./buildah.js";
import { removeMountedTree } from "./dockerd.js";

const exec = promisify(execFile);

export interface Registry {
  /** host:port, e.g. 127.0.0.1:40123 */
  address: string;
  /** A registries.conf that marks this plain-HTTP registry insecure (containers/image reads CONTAINERS_REGISTRIES_CONF) */
  registriesConf: string;
  /** Tags of a repository, as the registry lists them (anonymous: an open registry only) */
  tags(repository: string): Promise<string[]>;
  /** Requests the registry has served so far, from its access log */
  requests(): Promise<AccessEntry[]>;
  stop(): Promise<void>;
}

export interface AccessEntry {
  method: string;
  path: string;
  status: number;
}

/** How the registry checks clients: open, an htpasswd file (bcrypt), or tokens from a token service. */
export type RegistryAuth =
  | { htpasswd: string }
  | { token: { realm: string; service: string; issuer: string; rootCertBundle: string } };

function authConfig(auth: RegistryAuth | undefined): string[] {
  if (!auth) return [];
  if ("htpasswd" in auth)
    return ["auth:", "  htpasswd:", "    realm: couplet-test", `    path: ${auth.htpasswd}`];
  const { realm, service, issuer, rootCertBundle } = auth.token;
  return [
    "auth:",
    "  token:",
    `    realm: ${realm}`,
    `    service: ${service}`,
    `    issuer: ${issuer}`,
    `    rootcertbundle: ${rootCertBundle}`,
  ];
}

/** Lines of the combined log format the registry writes for each request: `… "GET /v2/ HTTP/1.1" 200 …`. */
export function parseAccessLog(text: string): AccessEntry[] {
  const entries: AccessEntry[] = [];
  for (const found of text.matchAll(/"([A-Z]+) (\S+) HTTP\/[\d.]+" (\d{3}) /g))
    entries.push({ method: found[1] as string, path: found[2] as string, status: Number(found[3]) });
  return entries;
}

/** Starts `docker-registry serve` on a free loopback port with its storage in a temporary folder. */
export async function startRegistry(auth?: RegistryAuth): Promise<Registry> {
  const root = await mkdtemp(join(tmpdir(), "couplet-registry-"));
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const config = join(root, "config.yml");
  await writeFile(
    config,
    [
      "version: 0.1",
      "log:",
      "  level: warn",
      "  accesslog:",
      "    disabled: false",
      "storage:",
      "  filesystem:",
      `    rootdirectory: ${join(root, "data")}`,
      "http:",
      `  addr: ${address}`,
      ...authConfig(auth),
      "",
    ].join("\n"),
  );
  const registriesConf = join(root, "registries.conf");
  await writeFile(registriesConf, `[[registry]]\nlocation = "${address}"\ninsecure = true\n`);
  const logFile = join(root, "registry.log");
  const log = createWriteStream(logFile);
  const child: ChildProcess = spawn("docker-registry", ["serve", config], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(killer);
    }
    await rm(root, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      const output = await readFile(logFile, "utf8").catch(() => "");
      await stop();
      throw new Error(`docker-registry exited with ${child.exitCode} before answering:\n${output}`);
    }
    // With auth on, an unauthenticated /v2/ answers 401: that is an answer too.
    const answered = await fetch(`http://${address}/v2/`, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.ok || r.status === 401,
      () => false,
    );
    if (answered) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error("docker-registry did not answer within 30 s");
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    address,
    registriesConf,
    async tags(repository: string) {
      const response = await fetch(`http://${address}/v2/${repository}/tags/list`);
      if (!response.ok) return [];
      return ((await response.json()) as { tags?: string[] | null }).tags ?? [];
    },
    async requests() {
      return parseAccessLog(await readFile(logFile, "utf8").catch(() => ""));
    },
    stop,
  };
}

export interface Machine {
  /** Environment that points buildah and podman at this machine's own storage */
  env: NodeJS.ProcessEnv;
  /** Runs buildah against this machine's storage */
  buildah(args: string[]): Promise<{ stdout: string; stderr: string }>;
  dispose(): Promise<void>;
}

/**
 * A fresh containers-storage root (overlay) holding only `images`, copied from the default storage:
 * to buildah and podman it is another machine, with an empty layer cache. CONTAINERS_STORAGE_CONF
 * selects it, which containers/storage honours (unlike STORAGE_DRIVER).
 */
export async function freshMachine(images: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<Machine> {
  const root = await mkdtemp(join(tmpdir(), "couplet-machine-"));
  const graphRoot = join(root, "storage");
  const runRoot = join(root, "run");
  const storageConf = join(root, "storage.conf");
  await writeFile(
    storageConf,
    `[storage]\ndriver = "overlay"\ngraphroot = "${graphRoot}"\nrunroot = "${runRoot}"\n`,
  );
  for (const image of images)
    await exec("buildah", [
      "--storage-driver",
      "overlay",
      "push",
      "--quiet",
      image,
      `containers-storage:[overlay@${graphRoot}+${runRoot}]${image}`,
    ]);
  const env = { ...process.env, ...extraEnv, CONTAINERS_STORAGE_CONF: storageConf };
  const buildah = (args: string[]) =>
    exec("buildah", ["--storage-driver", "overlay", ...args], { env, maxBuffer: 64 << 20 });
  return {
    env,
    buildah,
    async dispose() {
      await buildah(["rm", "--all"]).catch(() => undefined);
      await buildah(["rmi", "--all", "--force"]).catch(() => undefined);
      // overlay may leave its own mounts under the root.
      await removeMountedTree(root);
    },
  };
}
