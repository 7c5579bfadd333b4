// End to end: `couplet assemble --base REGISTRY/…` pulls its base from docker-registry on loopback (open, htpasswd,
// token auth with a real token service) and pushes onto the same registry without sending the base layers again.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AssembleReport } from "../../src/assemble/assemble.js";
import { ensureBaseImage } from "../support/base-image.js";
import { buildah, imageId, removeImages, runInImage } from "../support/buildah.js";
import { couplet as runCouplet } from "../support/cli.js";
import { type PassStore, startPassStore } from "../support/pass-store.js";
import { type AccessEntry, type Registry, startRegistry } from "../support/registry.js";
import { startTokenServer, type TokenServer } from "../support/token-server.js";

const run = promisify(execFile);
const repo = new URL("../..", import.meta.url).pathname;
const runId = `${process.pid}-${Date.now()}`;
const USER = "ci";
const PASSWORD = "s3cret-for-tests";

const couplet = (args: string[], env: NodeJS.ProcessEnv) => runCouplet(args, { env });
/** Blob uploads the registry accepted: the PUT that completes an upload names the blob's digest. */
function uploadedDigests(entries: AccessEntry[]): string[] {
  return entries
    .filter(
      (entry) => entry.method === "PUT" && entry.path.includes("/blobs/uploads/") && entry.status === 201,
    )
    .map((entry) => decodeURIComponent(/[?&]digest=([^&]+)/.exec(entry.path)?.[1] ?? ""));
}

function errorLines(stderr: string): string[] {
  return stderr.split("\n").filter((line) => line.startsWith("couplet:"));
}

describe("couplet assemble with a registry base", () => {
  let work: string;
  let baseRef: string;
  let env: NodeJS.ProcessEnv;
  const registries: Registry[] = [];
  let tokens: TokenServer | undefined;
  let passStore: PassStore | undefined;
  const pulled: string[] = [];

  /** The test base image into `registry` as python:bookworm-slim, pushed by buildah (with credentials if given). */
  async function seed(registry: Registry, creds?: string): Promise<void> {
    const pushed = await buildah([
      "push",
      "--tls-verify=false",
      ...(creds ? ["--creds", creds] : []),
      baseRef,
      `docker://${registry.address}/python:bookworm-slim`,
    ]);
    if (pushed.code !== 0) throw new Error(`buildah push failed: ${pushed.stderr}`);
  }

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "couplet-e2e-asmreg-"));
    baseRef = await ensureBaseImage({ debian: "bookworm", flavor: "slim" });
    // No credentials from this machine's logins: only what each test gives.
    const dockerConfig = join(work, "docker-config");
    await mkdir(dockerConfig);
    env = {
      ...process.env,
      DOCKER_CONFIG: dockerConfig,
      COUPLET_CACHE: join(work, "cache"),
      SOURCE_DATE_EPOCH: "1700000000",
    };
    for (const name of [
      "XDG_RUNTIME_DIR",
      "REGISTRY_AUTH_FILE",
      "COUPLET_REGISTRY",
      "COUPLET_REGISTRY_USERNAME",
      "COUPLET_REGISTRY_PASSWORD",
    ])
      delete env[name];
  }, 20 * 60_000);

  afterAll(async () => {
    for (const registry of registries) await registry.stop();
    await tokens?.stop();
    await passStore?.stop();
    await removeImages(...pulled);
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("anonymous: pulls the base once into the cache, mounts its layer on push, and buildah runs the result", async () => {
    const registry = await startRegistry();
    registries.push(registry);
    await seed(registry);
    const before = (await registry.requests()).length;
    const target = `${registry.address}/couplet-e2e/cli-tool:${runId}`;
    const first = await couplet(
      [
        "assemble",
        join(repo, "examples/cli-tool"),
        "--base",
        `${registry.address}/python:bookworm-slim`,
        "--push",
        target,
        "--output",
        join(work, "a.tar"),
        "--json",
      ],
      env,
    );
    expect(first.code, first.stderr).toBe(0);
    const report = JSON.parse(first.stdout) as AssembleReport;
    expect(report.base.cached).toBe(false);
    const blobs = report.outputs.pushed?.blobs ?? [];
    const baseBlobs = blobs.filter((blob) => blob.what === "base layer");
    expect(baseBlobs.length).toBeGreaterThan(0);
    expect(baseBlobs.every((blob) => blob.how === "mounted")).toBe(true);
    expect(blobs.filter((blob) => blob.how === "sent")).toHaveLength(blobs.length - baseBlobs.length);
    expect(first.stderr).toMatch(/^pulled [0-9a-f]{12} [\d.]+ MiB: base layer of /m);
    // Progress while each base layer downloads (a log gets its quarters), on stderr: stdout parsed as JSON above.
    for (const quarter of ["25%", "50%", "75%"])
      expect(first.stderr).toMatch(
        new RegExp(`^\\[[█░]+\\] [\\d.]+/[\\d.]+ MiB \\(${quarter}\\): base layer [0-9a-f]{12} of `, "m"),
      );

    // The registry's own log: our layers and config uploaded, no base layer; each base layer mounted (201).
    const served = (await registry.requests()).slice(before);
    const uploaded = uploadedDigests(served);
    for (const blob of baseBlobs) {
      expect(uploaded).not.toContain(blob.digest);
      expect(
        served.some(
          (entry) =>
            entry.method === "POST" &&
            entry.status === 201 &&
            entry.path.includes(`mount=${encodeURIComponent(blob.digest)}`) &&
            entry.path.includes("from=python"),
        ),
      ).toBe(true);
    }
    expect(uploaded.sort()).toEqual(
      blobs
        .filter((blob) => blob.how === "sent")
        .map((blob) => blob.digest)
        .sort(),
    );

    // A second assembly writes an archive from the cache: the base's blobs are not fetched again, nor its
    // layers read for its facts (kept under the manifest's digest).
    const second = await couplet(
      [
        "assemble",
        join(repo, "examples/cli-tool"),
        "--base",
        `${registry.address}/python:bookworm-slim`,
        "--output",
        join(work, "b.tar"),
        "--json",
      ],
      env,
    );
    expect(second.code, second.stderr).toBe(0);
    const again = JSON.parse(second.stdout) as AssembleReport;
    expect([again.manifestDigest, again.base.cached]).toEqual([report.manifestDigest, true]);
    expect(second.stderr).toMatch(/^cached [0-9a-f]{12} .*base layer of /m);
    const layerGets = (await registry.requests()).filter(
      (entry) =>
        entry.method === "GET" &&
        baseBlobs.some((blob) => entry.path.endsWith(`/python/blobs/${blob.digest}`)),
    );
    expect(layerGets).toHaveLength(baseBlobs.length);

    const fetched = await run("buildah", ["--storage-driver", "overlay", "pull", target], {
      env: { ...process.env, CONTAINERS_REGISTRIES_CONF: registry.registriesConf },
    });
    expect(fetched.stderr).not.toMatch(/error/i);
    pulled.push(target);
    expect(`sha256:${await imageId(target)}`).toBe(report.configDigest);
    const result = await runInImage(target, ["sh", "-c", 'id -u; echo "a: [1, 2]" | yamlstat -']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe("10001\nyamlstat: document 0 has 3 nodes (pyyaml 6.0.2, libyaml)\n");
  });

  it("basic auth (htpasswd): a wrong password is one line and exit 2; the auth file's entry works, and docker-credential-pass as credsStore", async () => {
    const htpasswd = join(work, "htpasswd");
    const { stdout } = await run("htpasswd", ["-Bbn", USER, PASSWORD]);
    await writeFile(htpasswd, stdout);
    const registry = await startRegistry({ htpasswd });
    registries.push(registry);
    await seed(registry, `${USER}:${PASSWORD}`);
    const args = [
      "assemble",
      join(repo, "examples/cli-tool"),
      "--base",
      `${registry.address}/python:bookworm-slim`,
      "--push",
      `${registry.address}/couplet-e2e/cli-tool:${runId}`,
      "--json",
    ];

    const anonymous = await couplet(args, env);
    expect(anonymous.code).toBe(2);
    expect(errorLines(anonymous.stderr)).toHaveLength(1);
    expect(errorLines(anonymous.stderr)[0]).toContain("the registry wants credentials");

    const wrong = await couplet(args, {
      ...env,
      COUPLET_REGISTRY: registry.address,
      COUPLET_REGISTRY_USERNAME: USER,
      COUPLET_REGISTRY_PASSWORD: "wrong",
    });
    expect(wrong.code).toBe(2);
    expect(errorLines(wrong.stderr)).toEqual([
      expect.stringContaining(
        `${registry.address}: GET /v2/python/manifests/bookworm-slim: the registry refused the credentials from COUPLET_REGISTRY_USERNAME/COUPLET_REGISTRY_PASSWORD`,
      ),
    ]);
    expect(wrong.stderr).not.toMatch(/\n\s+at /);

    // As `podman login` writes it; the wrong environment credentials stay set: the file's entry for the host wins.
    const authFile = join(work, "auth.json");
    await writeFile(
      authFile,
      JSON.stringify({
        auths: { [registry.address]: { auth: Buffer.from(`${USER}:${PASSWORD}`).toString("base64") } },
      }),
    );
    const right = await couplet(args, {
      ...env,
      REGISTRY_AUTH_FILE: authFile,
      COUPLET_REGISTRY: registry.address,
      COUPLET_REGISTRY_USERNAME: USER,
      COUPLET_REGISTRY_PASSWORD: "wrong",
    });
    expect(right.code, right.stderr).toBe(0);
    const pushed = (JSON.parse(right.stdout) as AssembleReport).outputs.pushed;
    expect(pushed?.blobs.filter((blob) => blob.what === "base layer").map((blob) => blob.how)).toEqual([
      "mounted",
    ]);
    expect(await registry.requests()).toContainEqual(expect.objectContaining({ method: "PUT", status: 201 }));

    // Credentials only from Debian's docker-credential-pass, named by credsStore in a Docker config whose auths
    // entry is empty, as `docker login` leaves it: the same pull and push, no auth file, nothing in the environment.
    passStore = await startPassStore(join(work, "pass"));
    await passStore.store(registry.address, USER, PASSWORD);
    const helperConfig = join(work, "helper-docker-config");
    await mkdir(helperConfig);
    await writeFile(
      join(helperConfig, "config.json"),
      JSON.stringify({ auths: { [registry.address]: {} }, credsStore: "pass" }),
    );
    const helperTag = `${registry.address}/couplet-e2e/cli-tool:helper-${runId}`;
    const viaHelper = await couplet(
      [
        "assemble",
        join(repo, "examples/cli-tool"),
        "--base",
        `${registry.address}/python:bookworm-slim`,
        "--push",
        helperTag,
      ],
      { ...env, ...passStore.env, DOCKER_CONFIG: helperConfig },
    );
    expect(viaHelper.code, viaHelper.stderr).toBe(0);
    expect(await registry.requests()).toContainEqual({
      method: "PUT",
      path: `/v2/couplet-e2e/cli-tool/manifests/helper-${runId}`,
      status: 201,
    });
    // The same helper with nothing stored for this registry: no credentials, so the registry's refusal line.
    const otherStore = await startPassStore(join(work, "pass-empty"));
    try {
      const nothing = await couplet(
        [
          "assemble",
          join(repo, "examples/cli-tool"),
          "--base",
          `${registry.address}/python:bookworm-slim`,
          "--push",
          helperTag,
        ],
        { ...env, ...otherStore.env, DOCKER_CONFIG: helperConfig },
      );
      expect(nothing.code).toBe(2);
      expect(errorLines(nothing.stderr)).toEqual([expect.stringContaining("the registry wants credentials")]);
    } finally {
      await otherStore.stop();
    }
  });

  it("token auth: challenge, token from the token service, retry; refused without the right password", async () => {
    tokens = await startTokenServer(work, USER, PASSWORD);
    const registry = await startRegistry({ token: tokens });
    registries.push(registry);
    await seed(registry, `${USER}:${PASSWORD}`);
    const target = `${registry.address}/couplet-e2e/cli-tool:${runId}`;
    const args = [
      "assemble",
      join(repo, "examples/cli-tool"),
      "--base",
      `${registry.address}/python:bookworm-slim`,
      "--push",
      target,
      "--json",
    ];
    const wrong = await couplet(args, {
      ...env,
      COUPLET_REGISTRY: registry.address,
      COUPLET_REGISTRY_USERNAME: USER,
      COUPLET_REGISTRY_PASSWORD: "nope",
    });
    expect(wrong.code).toBe(2);
    expect(errorLines(wrong.stderr)).toEqual([
      expect.stringContaining("the token service: the registry refused the credentials"),
    ]);

    const askedBefore = tokens.issued.length;
    const right = await couplet(args, {
      ...env,
      COUPLET_REGISTRY: registry.address,
      COUPLET_REGISTRY_USERNAME: USER,
      COUPLET_REGISTRY_PASSWORD: PASSWORD,
    });
    expect(right.code, right.stderr).toBe(0);
    const report = JSON.parse(right.stdout) as AssembleReport;
    expect(
      report.outputs.pushed?.blobs.filter((blob) => blob.what === "base layer").map((blob) => blob.how),
    ).toEqual(["mounted"]);
    // One token to pull the base, one to push (with pull on the base's repository, for the mount).
    const asked = tokens.issued.slice(askedBefore);
    expect(asked.every((request) => request.granted && request.user === USER)).toBe(true);
    expect(asked.map((request) => request.scopes)).toEqual(
      expect.arrayContaining([
        expect.arrayContaining(["repository:python:pull"]),
        expect.arrayContaining(["repository:couplet-e2e/cli-tool:pull,push", "repository:python:pull"]),
      ]),
    );
    // The registry answered 401 before each token was used: the challenge came from the real registry.
    const served = await registry.requests();
    expect(served.some((entry) => entry.status === 401)).toBe(true);

    const fetched = await buildah(["pull", "--tls-verify=false", "--creds", `${USER}:${PASSWORD}`, target]);
    expect(fetched.code, fetched.stderr).toBe(0);
    pulled.push(target);
    expect(`sha256:${await imageId(target)}`).toBe(report.configDigest);
    const ran = await runInImage(target, ["sh", "-c", 'echo "a: 1" | yamlstat -']);
    expect(ran.stdout).toBe("yamlstat: document 0 has 1 nodes (pyyaml 6.0.2, libyaml)\n");
  });
});
