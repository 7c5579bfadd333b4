// End to end: `couplet assemble` writes images with no engine; buildah loads and runs them as the non-root user.
// cli-tool and fastapi-app assemble onto the bookworm stand-in base (CPython 3.11; a docker-archive, and for cli-tool
// also an OCI archive and an OCI layout of it); flask-uwsgi must refuse, and so
// must odbc-client, whose pyodbc wheel needs libodbc.so.2 from a base that lacks it (with Debian's ssdeep program
// wanted too, the commands its refusal prints make the base it then assembles onto); the sdist-only fixture
// refuses, then assembles with --wheels from the wheel its refusal's command builds in the base.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { cp, mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AssembleReport } from "../../src/assemble/assemble.js";
import { ensureBaseImage } from "../support/base-image.js";
import {
  buildah,
  freePort,
  httpGet,
  imageConfig,
  imageId,
  imageLayers,
  removeImages,
  runInImage,
  startServer,
} from "../support/buildah.js";
import { type CliResult as Result, couplet as runCouplet } from "../support/cli.js";
import { startDockerd } from "../support/dockerd.js";
import { type Registry, startRegistry } from "../support/registry.js";

const run = promisify(execFile);
const repo = new URL("../..", import.meta.url).pathname;
const runId = `${process.pid}-${Date.now()}`;
const cliTag = `localhost/couplet-e2e-assemble/cli-tool:${runId}`;
const ociTag = `localhost/couplet-e2e-assemble/cli-tool-oci:${runId}`;
const webTag = `localhost/couplet-e2e-assemble/fastapi-app:${runId}`;
const editTag = `localhost/couplet-e2e-assemble/cli-tool-edited:${runId}`;
const odbcClient = join(repo, "test/fixtures/projects/odbc-client");
const odbcAllowedTag = `localhost/couplet-e2e-assemble/odbc-allowed:${runId}`;
const odbcTag = `localhost/couplet-e2e-assemble/odbc-client:${runId}`;
const sdistTag = `localhost/couplet-e2e-assemble/sdist-only:${runId}`;

// Downloads must work with the system trust store alone (this network's proxy CA is only there): no
// NODE_EXTRA_CA_CERTS, which would let Node's own fetch through and hide a missing CA setup in couplet.
function envWith(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

const couplet = (args: string[], env: NodeJS.ProcessEnv) => runCouplet(args, { env });
async function sha256(file: string): Promise<string> {
  return createHash("sha256")
    .update(await readFile(file))
    .digest("hex");
}

describe("couplet assemble", () => {
  let work: string;
  let base: string;
  let baseRef: string;
  let first: Result;
  let second: Result;
  let firstReport: AssembleReport;
  let registry: Registry | undefined;

  beforeAll(async () => {
    // Lower case only: buildah names an image pulled from an OCI layout after the layout's path.
    work = join(tmpdir(), `couplet-e2e-assemble-${runId}`);
    await mkdir(work);
    const ref = await ensureBaseImage({ debian: "bookworm", flavor: "slim" });
    baseRef = ref;
    base = join(work, "base.tar");
    const pushed = await buildah(["push", ref, `docker-archive:${base}`]);
    if (pushed.code !== 0) throw new Error(`buildah push failed: ${pushed.stderr}`);
    // The same project in two folders, each with an empty download cache: the digests must not differ.
    for (const name of ["a", "b"])
      await cp(join(repo, "examples/cli-tool"), join(work, name, "cli-tool"), { recursive: true });
    const assembleIn = (name: string) =>
      couplet(
        [
          "assemble",
          join(work, name, "cli-tool"),
          "--base",
          base,
          "--tag",
          cliTag,
          "--output",
          join(work, name, "image.tar"),
          "--oci-layout",
          join(work, name, "oci"),
          "--json",
        ],
        envWith({ COUPLET_CACHE: join(work, name, "cache"), SOURCE_DATE_EPOCH: "1700000000" }),
      );
    first = await assembleIn("a");
    second = await assembleIn("b");
    if (first.code !== 0) throw new Error(`couplet assemble failed:\n${first.stderr}`);
    firstReport = JSON.parse(first.stdout) as AssembleReport;
  }, 20 * 60_000);

  afterAll(async () => {
    // buildah 1.28 names an image pulled from an OCI layout `localhost<path>:latest`.
    await registry?.stop();
    if (registry)
      await removeImages(
        `${registry.address}/couplet-e2e/cli-tool:${runId}`,
        `${registry.address}/couplet-e2e/fastapi-app:${runId}`,
      );
    await removeImages(
      cliTag,
      ociTag,
      webTag,
      editTag,
      odbcAllowedTag,
      sdistTag,
      odbcTag,
      `localhost${join(work, "a", "oci")}:latest`,
    );
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("gives the same digests and byte-identical outputs from empty caches in two folders, bytecode included", async () => {
    expect(second.code).toBe(0);
    expect(firstReport.bytecode).toMatchObject({
      compiled: true,
      python: { version: expect.stringMatching(/^3\.11\./) },
    });
    const secondReport = JSON.parse(second.stdout) as AssembleReport;
    expect(secondReport.configDigest).toBe(firstReport.configDigest);
    expect(secondReport.manifestDigest).toBe(firstReport.manifestDigest);
    expect(firstReport.packages.every((pkg) => !pkg.cached)).toBe(true);
    expect(await sha256(join(work, "b", "image.tar"))).toBe(await sha256(join(work, "a", "image.tar")));
    expect(firstReport.created).toBe("2023-11-14T22:13:20.000Z");
    expect(first.stderr).toMatch(/^downloaded PyYAML-6\.0\.2-cp311-cp311-manylinux_2_17_x86_64/m);
  });

  it("after a source edit, with a --cmd, reuses the base's facts and every dependency layer, and the image runs that command as the user who may write /app/data", async () => {
    const edited = join(work, "c", "cli-tool");
    await cp(join(work, "a", "cli-tool"), edited, { recursive: true });
    const source = join(edited, "src/yamlstat/cli.py");
    await writeFile(
      source,
      (await readFile(source, "utf8")).replace('f"yamlstat: ', 'f"yamlstat (edited): '),
    );
    const output = join(work, "c", "image.tar");
    const result = await couplet(
      // The words form with an operator: run by sh, the last command exec'd, as init's Dockerfile runs it.
      [
        "assemble",
        edited,
        "--base",
        base,
        "--tag",
        editTag,
        "--output",
        output,
        "--json",
        "--cmd",
        "touch data/started && yamlstat",
      ],
      envWith({ COUPLET_CACHE: join(work, "a", "cache"), SOURCE_DATE_EPOCH: "1700000000" }),
    );
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as AssembleReport;
    expect(firstReport.base.cached).toBe(false);
    expect(firstReport.layers.every((layer) => !layer.reused)).toBe(true);
    expect(report.base.cached).toBe(true);
    expect(report.packages.every((pkg) => pkg.cached)).toBe(true);
    // Only the project's two modules were compiled: the dependency layers came with their bytecode.
    expect(report.bytecode).toMatchObject({ compiled: true, files: 2, skipped: 0 });
    const deps = (r: AssembleReport) => r.layers.slice(1, -1);
    expect(deps(report).map((layer) => [layer.digest, layer.reused])).toEqual(
      deps(firstReport).map((layer) => [layer.digest, true]),
    );
    // A command line gets the app user's writable /app/data (a console script's ENTRYPOINT has none), made in
    // the runtime user's layer: that layer and the project's are the new ones.
    expect(report.layers[0]?.digest).not.toBe(firstReport.layers[0]?.digest);
    expect(report.layers.at(-1)?.digest).not.toBe(firstReport.layers.at(-1)?.digest);
    const command = ["sh", "-c", "touch data/started && exec yamlstat"];
    expect(report.command).toEqual({ cmd: command, source: "--cmd" });
    expect(firstReport.command).toEqual({
      entrypoint: ["yamlstat"],
      source: "[tool.poetry.scripts] yamlstat",
    });
    const pulled = await buildah(["pull", `docker-archive:${output}`]);
    expect(pulled.code, pulled.stderr).toBe(0);
    const config = await imageConfig(editTag);
    expect([config.entrypoint, config.cmd]).toEqual([[], command]);
    // What a container runtime starts: the config's command, as the image's user (touch fails unless it may write).
    const ran = await runInImage(editTag, [...config.entrypoint, ...config.cmd]);
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toBe("yamlstat (edited): document 0 has 4 nodes (pyyaml 6.0.2, libyaml)\n");
  });

  it("loads into buildah with layers ordered base, venv, dependencies, project, and the plan's config", async () => {
    const pulled = await buildah(["pull", `docker-archive:${join(work, "a", "image.tar")}`]);
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(`sha256:${await imageId(cliTag)}`).toBe(firstReport.configDigest);
    const layers = await imageLayers(cliTag);
    const ours = layers.slice(-4).map((layer) => layer.createdBy);
    expect(ours).toEqual([
      "couplet assemble: runtime user and an empty venv at /app/.venv",
      "couplet assemble: pyyaml 6.0.2",
      "couplet assemble: click 8.1.8",
      "couplet assemble: the project yamlstat 0.1.0",
    ]);
    const config = await imageConfig(cliTag);
    expect(config.user).toBe("10001:10001");
    expect(config.entrypoint).toEqual(["yamlstat"]);
    expect(config.workingDir).toBe("/app");
    expect(config.env).toContain("VIRTUAL_ENV=/app/.venv");
    expect(config.env.find((line) => line.startsWith("PATH="))).toMatch(/^PATH=\/app\/\.venv\/bin:/);
    expect(config.labels["org.opencontainers.image.title"]).toBe("yamlstat");
  });

  it("writes the plain base layer gzipped, and podman and Docker load the archive as the same image", async () => {
    // buildah's export of the base stores its layer as a 259 MB plain tar; the archive carries it gzipped.
    const archive = join(work, "a", "image.tar");
    const listed = await run("tar", ["-xOf", archive, "manifest.json"]);
    const names = (JSON.parse(listed.stdout) as { Layers: string[] }[])[0]?.Layers ?? [];
    expect(names.every((name) => name.endsWith(".tar.gz"))).toBe(true);
    expect((await stat(archive)).size).toBeLessThan(150e6);
    const id = firstReport.configDigest;
    const podman = await run("podman", ["--storage-driver", "overlay", "load", "-i", archive]);
    expect(podman.stdout).toContain(cliTag);
    const podmanId = await run("podman", [
      "--storage-driver",
      "overlay",
      "image",
      "inspect",
      "--format",
      "{{.Id}}",
      cliTag,
    ]);
    expect(`sha256:${podmanId.stdout.trim()}`).toBe(id);
    const dockerd = await startDockerd();
    try {
      const loaded = await run("docker", ["load", "-i", archive], { env: dockerd.env, maxBuffer: 16 << 20 });
      expect(loaded.stdout).toContain(cliTag);
      const dockerId = await run("docker", ["image", "inspect", "--format", "{{.Id}}", cliTag], {
        env: dockerd.env,
      });
      expect(dockerId.stdout.trim()).toBe(id);
    } finally {
      await dockerd.stop();
    }
  });

  it("runs the CLI as the non-root user, with pyyaml's C extension loaded", async () => {
    const result = await runInImage(cliTag, ["sh", "-c", 'id -u; echo "a: [1, 2]" | yamlstat -']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe("10001\nyamlstat: document 0 has 3 nodes (pyyaml 6.0.2, libyaml)\n");
  });

  it("carries bytecode the CLI runs from: with writing allowed, as root, a run writes or rewrites no .pyc", async () => {
    // PYTHONDONTWRITEBYTECODE is unset and root may write everywhere: any module whose .pyc were missing,
    // of another magic number, or whose checked hash failed would be (re)written and change the listing.
    const listing = "find /app -name '*.pyc' -exec sha256sum {} + | sort -k2";
    const result = await runInImage(
      cliTag,
      [
        "sh",
        "-c",
        `${listing} >/tmp/before && echo "a: 1" | env -u PYTHONDONTWRITEBYTECODE yamlstat - >/dev/null && ${listing} >/tmp/after && cmp -s /tmp/before /tmp/after && cat /tmp/after`,
      ],
      { user: "0:0" },
    );
    expect(result.code, result.stderr).toBe(0);
    const files = result.stdout
      .trim()
      .split("\n")
      .map((line) => line.split(/\s+/)[1]);
    const site = "/app/.venv/lib/python3.11/site-packages";
    expect(files).toEqual(
      expect.arrayContaining([
        `${site}/click/__pycache__/core.cpython-311.pyc`,
        `${site}/yaml/__pycache__/__init__.cpython-311.pyc`,
        "/app/src/yamlstat/__pycache__/cli.cpython-311.pyc",
      ]),
    );
  });

  it("without bytecode (--no-bytecode, or no python3.11 on PATH) says so in one note line and --json", async () => {
    const env = envWith({ COUPLET_CACHE: join(work, "a", "cache"), SOURCE_DATE_EPOCH: "1700000000" });
    const plainRun = (extra: string[], runEnv: NodeJS.ProcessEnv) =>
      couplet(
        [
          "assemble",
          join(work, "a", "cli-tool"),
          "--base",
          base,
          "--oci-layout",
          join(work, `plain-${extra.length}`),
          "--json",
          ...extra,
        ],
        runEnv,
      );
    // Node is started by its path; an empty PATH leaves couplet no interpreter to find.
    for (const [extra, runEnv, reason] of [
      [["--no-bytecode"], env, /^note: --no-bytecode: the image has no \.pyc/],
      [[], { ...env, PATH: join(work, "empty-path") }, /^note: no python3\.11 on PATH /],
    ] as const) {
      const result = await plainRun([...extra], runEnv);
      expect(result.code, result.stderr).toBe(0);
      const notes = result.stderr.split("\n").filter((line) => line.startsWith("note:"));
      expect(notes).toHaveLength(1);
      expect(notes[0]).toMatch(reason);
      expect(notes[0]).toContain("time to the first answer");
      const report = JSON.parse(result.stdout) as AssembleReport;
      expect(report.bytecode.compiled).toBe(false);
      // Bytecode is in the dependency layers, so without it they are other layers, made anew.
      const deps = (r: AssembleReport) => r.layers.slice(1).map((layer) => layer.digest);
      for (const digest of deps(report)) expect(deps(firstReport)).not.toContain(digest);
    }
  });

  it("prints the plan's warnings about the image once, as init does, and lists them in --json", async () => {
    const result = await couplet(
      [
        "assemble",
        join(work, "a", "cli-tool"),
        "--base",
        base,
        "--oci-layout",
        join(work, "reload-oci"),
        "--json",
        "--cmd",
        "yamlstat --reload",
      ],
      envWith({ COUPLET_CACHE: join(work, "a", "cache"), SOURCE_DATE_EPOCH: "1700000000" }),
    );
    expect(result.code, result.stderr).toBe(0);
    const warning =
      "the command runs a development server (--reload watches files: a development setting); use a production server";
    expect(result.stderr.split("\n").filter((line) => line.startsWith("warning:"))).toEqual([
      `warning: ${warning}`,
    ]);
    expect((JSON.parse(result.stdout) as AssembleReport).warnings).toEqual([warning]);
    expect(firstReport.warnings).toEqual([]);
  });

  it("writes an OCI layout that loads as the same image", async () => {
    const pulled = await buildah(["pull", `oci:${join(work, "a", "oci")}:${runId}`]);
    expect(pulled.code, pulled.stderr).toBe(0);
    const tagged = await buildah(["tag", pulled.stdout.trim().split("\n").pop() as string, ociTag]);
    expect(tagged.code, tagged.stderr).toBe(0);
    expect(`sha256:${await imageId(ociTag)}`).toBe(firstReport.configDigest);
  });

  it("assembles onto the same base written as an OCI archive and as an OCI layout: the same image", async () => {
    const env = envWith({ COUPLET_CACHE: join(work, "a", "cache"), SOURCE_DATE_EPOCH: "1700000000" });
    const bases = { layout: join(work, "base-oci"), archive: join(work, "base-oci.tar") };
    const pushed = await buildah(["push", baseRef, `oci:${bases.layout}`]);
    expect(pushed.code, pushed.stderr).toBe(0);
    // An OCI archive is a tar of the layout (what buildah writes for oci-archive:, without compressing twice).
    await run("tar", ["-cf", bases.archive, "-C", bases.layout, "."]);
    for (const [kind, file] of Object.entries(bases)) {
      const result = await couplet(
        ["assemble", join(work, "a", "cli-tool"), "--base", file, "--oci-layout", `${file}-out`, "--json"],
        env,
      );
      expect(result.code, `${kind}: ${result.stderr}`).toBe(0);
      const report = JSON.parse(result.stdout) as AssembleReport;
      // Read from the OCI form (not the docker-archive's record), with the same facts.
      expect(report.base.cached, kind).toBe(false);
      expect(report.base).toMatchObject({
        python: firstReport.base.python,
        executable: firstReport.base.executable,
        glibc: firstReport.base.glibc,
      });
      // Our layers and the config (the image id) are the docker-archive base's: only how the base is stored differs.
      expect(report.layers.map((layer) => layer.digest)).toEqual(
        firstReport.layers.map((layer) => layer.digest),
      );
      expect(report.configDigest, kind).toBe(firstReport.configDigest);
    }
  });

  it("passes couplet inspect's missing-library check", async () => {
    const result = await couplet(
      ["inspect", join(work, "a", "image.tar"), "--format", "json", "--fail-on", "missing-libraries"],
      envWith({}),
    );
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { missingLibraries: unknown[] };
    expect(report.missingLibraries).toEqual([]);
  });

  it("assembles the FastAPI app, which answers HTTP on loopback", async () => {
    const output = join(work, "web.tar");
    const result = await couplet(
      ["assemble", join(repo, "examples/fastapi-app"), "--base", base, "--tag", webTag, "--output", output],
      envWith({ COUPLET_CACHE: join(work, "a", "cache") }),
    );
    expect(result.code, result.stderr).toBe(0);
    const pulled = await buildah(["pull", `docker-archive:${output}`]);
    expect(pulled.code, pulled.stderr).toBe(0);
    const config = await imageConfig(webTag);
    expect(config.cmd).toEqual(["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]);
    // package-mode = false: the code the command reaches is copied (app/), not its tests, lock or README; data/
    // is the app user's writable folder (a VOLUME), as in couplet build's image.
    const listed = await runInImage(webTag, ["sh", "-c", "id -u; ls -A /app; stat -c %u:%g /app/data"]);
    expect(listed.stdout).toBe("10001\n.venv\napp\ndata\n10001:10001\n");
    const inspected = await couplet(
      ["inspect", output, "--format", "json", "--fail-on", "missing-libraries"],
      envWith({}),
    );
    expect(inspected.code, inspected.stderr).toBe(0);
    const port = await freePort();
    const server = await startServer(webTag, [
      "uvicorn",
      "app.main:app",
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
    ]);
    try {
      const answer = await httpGet(port, "/");
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toMatchObject({ app: "fastapi-app", pydantic_core: "2.27.2" });
    } finally {
      await server.stop();
    }
  });

  it("pushes to a registry on loopback (a second push sends no blob), and buildah pulls and runs it", async () => {
    registry = await startRegistry();
    const reference = `${registry.address}/couplet-e2e/cli-tool:${runId}`;
    const env = envWith({ COUPLET_CACHE: join(work, "a", "cache"), SOURCE_DATE_EPOCH: "1700000000" });
    const push = () =>
      couplet(["assemble", join(work, "a", "cli-tool"), "--base", base, "--push", reference, "--json"], env);
    const pushed = await push();
    expect(pushed.code, pushed.stderr).toBe(0);
    const report = JSON.parse(pushed.stdout) as AssembleReport;
    expect(report.manifestDigest).toBe(firstReport.manifestDigest);
    expect(report.outputs.pushed).toMatchObject({
      digest: firstReport.manifestDigest,
      uploaded: 6,
      reused: 0,
    });
    expect(await registry.tags("couplet-e2e/cli-tool")).toEqual([runId]);
    const again = JSON.parse((await push()).stdout) as AssembleReport;
    expect(again.outputs.pushed).toMatchObject({ uploaded: 0, reused: 6 });
    await run("buildah", ["--storage-driver", "overlay", "pull", reference], {
      env: { ...process.env, CONTAINERS_REGISTRIES_CONF: registry.registriesConf },
    });
    expect(`sha256:${await imageId(reference)}`).toBe(firstReport.configDigest);
    const result = await runInImage(reference, ["sh", "-c", 'echo "a: 1" | yamlstat -']);
    expect(result.stdout).toBe("yamlstat: document 0 has 1 nodes (pyyaml 6.0.2, libyaml)\n");
  });

  it("pushes the FastAPI app to the same registry, and buildah pulls it back and it answers HTTP", async () => {
    registry ??= await startRegistry();
    const reference = `${registry.address}/couplet-e2e/fastapi-app:${runId}`;
    // The download cache the archive test above filled: the wheels are not fetched again.
    const pushed = await couplet(
      ["assemble", join(repo, "examples/fastapi-app"), "--base", base, "--push", reference, "--json"],
      envWith({ COUPLET_CACHE: join(work, "a", "cache") }),
    );
    expect(pushed.code, pushed.stderr).toBe(0);
    const report = JSON.parse(pushed.stdout) as AssembleReport;
    expect(report.outputs.pushed?.digest).toBe(report.manifestDigest);
    expect(await registry.tags("couplet-e2e/fastapi-app")).toEqual([runId]);
    await run("buildah", ["--storage-driver", "overlay", "pull", reference], {
      env: { ...process.env, CONTAINERS_REGISTRIES_CONF: registry.registriesConf },
    });
    expect(`sha256:${await imageId(reference)}`).toBe(report.configDigest);
    const port = await freePort();
    const server = await startServer(reference, [
      "uvicorn",
      "app.main:app",
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
    ]);
    try {
      const answer = await httpGet(port, "/");
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toMatchObject({ app: "fastapi-app", pydantic_core: "2.27.2" });
    } finally {
      await server.stop();
    }
  });

  it("refuses flask-uwsgi in one line naming the sdist-only package and `couplet build`, writing nothing", async () => {
    const output = join(work, "flask.tar");
    const result = await couplet(
      ["assemble", join(repo, "examples/flask-uwsgi"), "--base", base, "--output", output],
      envWith({ COUPLET_CACHE: join(work, "a", "cache") }),
    );
    expect(result.code).toBe(2);
    const errors = result.stderr.split("\n").filter((line) => line.startsWith("couplet:"));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain("uwsgi 2.0.28: only a source distribution is locked");
    expect(errors[0]).toContain("couplet build");
    await expect(stat(output)).rejects.toThrow();
  });

  it("an sdist-only package: the refusal's own command builds its wheel in the base, --wheels installs it, and it imports", async () => {
    const project = join(repo, "test/fixtures/projects/sdist-only");
    const output = join(work, "sdist-only.tar");
    const env = envWith({ COUPLET_CACHE: join(work, "a", "cache") });
    const refused = await couplet(["assemble", project, "--base", base, "--output", output], env);
    expect(refused.code).toBe(2);
    const errors = refused.stderr.split("\n").filter((line) => line.startsWith("couplet:"));
    expect(errors).toHaveLength(1);
    // Run the command it prints, as printed, in a fresh folder: it writes the wheel to ./wheels.
    const command = /`(mkdir -p wheels && c=\$\(buildah from [^`]+)`/.exec(errors[0] as string)?.[1];
    expect(command).toContain("pip wheel --no-deps pypydispatcher==2.1.2 -w /wheels");
    const folder = join(work, "sdist-wheels");
    await mkdir(folder, { recursive: true });
    await run("sh", ["-c", command as string], {
      cwd: folder,
      env: { ...process.env, STORAGE_DRIVER: "overlay", BUILDAH_ISOLATION: "chroot" },
    });
    const wheel = join(folder, "wheels", "PyPyDispatcher-2.1.2-py3-none-any.whl");
    const assembled = await couplet(
      [
        "assemble",
        project,
        "--base",
        base,
        "--wheels",
        join(folder, "wheels"),
        "--tag",
        sdistTag,
        "--output",
        output,
        "--json",
      ],
      env,
    );
    expect(assembled.code, assembled.stderr).toBe(0);
    const report = JSON.parse(assembled.stdout) as AssembleReport;
    expect(report.packages).toEqual([
      expect.objectContaining({ name: "pypydispatcher", sha256: await sha256(wheel), local: wheel }),
    ]);
    expect(assembled.stderr).toContain(`local ${wheel} sha256:${await sha256(wheel)}`);
    const pulled = await buildah(["pull", `docker-archive:${output}`]);
    expect(pulled.code, pulled.stderr).toBe(0);
    const history = (await imageLayers(sdistTag)).map((layer) => layer.createdBy);
    expect(history).toContain(
      `couplet assemble: pypydispatcher 2.1.2 (--wheels PyPyDispatcher-2.1.2-py3-none-any.whl sha256:${(await sha256(wheel)).slice(0, 12)})`,
    );
    const ran = await runInImage(sdistTag, [
      "python",
      "-c",
      "import pydispatch.dispatcher, os; print(os.getuid() != 0, pydispatch.dispatcher.__file__)",
    ]);
    expect(ran.stdout).toBe("True /app/.venv/lib/python3.11/site-packages/pydispatch/dispatcher.py\n");
  });

  it("refuses odbc-client before writing or pushing anything: pyodbc's module needs libodbc.so.2, which the base lacks", async () => {
    registry ??= await startRegistry();
    const output = join(work, "odbc.tar");
    const layout = join(work, "odbc-oci");
    const reference = `${registry.address}/couplet-e2e/odbc-client:${runId}`;
    const env = envWith({ COUPLET_CACHE: join(work, "a", "cache") });
    const result = await couplet(
      [
        "assemble",
        odbcClient,
        "--base",
        base,
        "--output",
        output,
        "--oci-layout",
        layout,
        "--push",
        reference,
      ],
      env,
    );
    expect(result.code).toBe(2);
    const errors = result.stderr.split("\n").filter((line) => line.startsWith("couplet:"));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(
      "pyodbc 5.5.0: pyodbc.cpython-311-x86_64-linux-gnu.so needs libodbc.so.2 (Debian package libodbc2), which the base lacks",
    );
    // libodbc2 is also one of the plan's runtime packages (couplet's table: pyodbc's wheels leave unixODBC out).
    expect(errors[0]).toContain(
      "the base lacks Debian packages the plan installs at run time: libodbc2 (for pyodbc 5.5.0: pyodbc wheels do not bundle unixODBC",
    );
    expect(errors[0]).toContain("apt-get install -y --no-install-recommends libodbc2 &&");
    expect(errors[0]).toContain("couplet build");
    await expect(stat(output)).rejects.toThrow();
    await expect(stat(layout)).rejects.toThrow();
    expect((await registry.requests()).filter((entry) => entry.path.includes("odbc-client"))).toEqual([]);
  });

  it("with --allow-missing-libraries writes it, warning of the same library couplet inspect then finds missing", async () => {
    const output = join(work, "odbc-allowed.tar");
    const result = await couplet(
      [
        "assemble",
        odbcClient,
        "--base",
        base,
        "--tag",
        odbcAllowedTag,
        "--output",
        output,
        "--allow-missing-libraries",
        "--json",
      ],
      envWith({ COUPLET_CACHE: join(work, "a", "cache") }),
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/^warning: --allow-missing-libraries: .*needs libodbc\.so\.2/m);
    const missing = [
      {
        file: "/app/.venv/lib/python3.11/site-packages/pyodbc.cpython-311-x86_64-linux-gnu.so",
        needed: "libodbc.so.2",
        debianPackage: "libodbc2",
      },
    ];
    const report = JSON.parse(result.stdout) as AssembleReport;
    expect(report.missingLibraries).toEqual(missing.map((item) => ({ package: "pyodbc 5.5.0", ...item })));
    expect(result.stderr).toMatch(
      /^warning: --allow-missing-libraries: the base lacks libodbc2 \(for pyodbc 5\.5\.0: .+\), which the plan installs at run time: the image is written without it$/m,
    );
    expect(report.runtimePackages).toEqual([expect.objectContaining({ name: "libodbc2", base: "missing" })]);
    const inspected = await couplet(
      ["inspect", output, "--format", "json", "--fail-on", "missing-libraries"],
      envWith({}),
    );
    expect(inspected.code).toBe(1);
    expect((JSON.parse(inspected.stdout) as { missingLibraries: unknown[] }).missingLibraries).toEqual(
      missing,
    );
    // And the refusal was right: the image it would have made fails at import.
    const pulled = await buildah(["pull", `docker-archive:${output}`]);
    expect(pulled.code, pulled.stderr).toBe(0);
    const ran = await runInImage(odbcAllowedTag, ["odbc-drivers"]);
    expect(ran.code).not.toBe(0);
    expect(ran.stderr).toContain("libodbc.so.2: cannot open shared object file");
  });

  it("refuses odbc-client wanting Debian's ssdeep program too; the refusal's own commands make a base with both, and onto it pyodbc imports and ssdeep runs", async () => {
    // A program run by subprocess is in no ELF file's DT_NEEDED: only the plan's runtime packages, checked
    // against the base's dpkg database, can tell the base lacks it (openrelik-worker-hasher's case).
    const project = join(work, "odbc-ssdeep");
    await cp(odbcClient, project, { recursive: true });
    const pyproject = join(project, "pyproject.toml");
    const lines = (await readFile(pyproject, "utf8")).trimEnd().split("\n");
    lines.push(
      "",
      "[tool.couplet.native.pyodbc]",
      'runtime = ["libodbc2", "ssdeep"]',
      "runtime-with-wheel = true",
    );
    await writeFile(pyproject, `${lines.join("\n")}\n`);
    const line = lines.length - 1;
    const env = envWith({ COUPLET_CACHE: join(work, "a", "cache") });
    const output = join(work, "odbc-ok.tar");
    const refused = await couplet(["assemble", project, "--base", base, "--output", output], env);
    expect(refused.code).toBe(2);
    const errors = refused.stderr.split("\n").filter((entry) => entry.startsWith("couplet:"));
    expect(errors).toHaveLength(1);
    const why = `pyodbc 5.5.0: [tool.couplet.native.pyodbc] runtime, pyproject.toml line ${line}`;
    expect(errors[0]).toContain(
      `couplet: cannot assemble: the base lacks Debian packages the plan installs at run time: libodbc2 (for ${why}), ssdeep (for ${why}); and an image that would fail at import: pyodbc 5.5.0: `,
    );
    await expect(stat(output)).rejects.toThrow();
    // Run the commands it prints, as printed, in a fresh folder: they write base-with-packages.tar there.
    const command = /`(c=\$\(buildah from [^`]+)`/.exec(errors[0] as string)?.[1];
    expect(command).toContain("apt-get install -y --no-install-recommends libodbc2 ssdeep");
    const again = /`couplet assemble --base ([^`\s]+)`/.exec(errors[0] as string)?.[1];
    expect(again).toBe("base-with-packages.tar");
    const folder = join(work, "derived-base");
    await mkdir(folder, { recursive: true });
    await run("sh", ["-c", command as string], {
      cwd: folder,
      env: { ...process.env, STORAGE_DRIVER: "overlay", BUILDAH_ISOLATION: "chroot" },
    });
    const result = await couplet(
      [
        "assemble",
        project,
        "--base",
        join(folder, again as string),
        "--tag",
        odbcTag,
        "--output",
        output,
        "--json",
      ],
      env,
    );
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as AssembleReport;
    expect(report.missingLibraries).toEqual([]);
    expect(report.runtimePackages).toEqual([
      { name: "libodbc2", wantedBy: [why], base: "installed" },
      { name: "ssdeep", wantedBy: [why], base: "installed" },
    ]);
    const pulled = await buildah(["pull", `docker-archive:${output}`]);
    expect(pulled.code, pulled.stderr).toBe(0);
    // unixODBC with no driver configured lists none: pyodbc imported and called into libodbc, as non-root; and
    // the program a subprocess would run hashes a file.
    const ran = await runInImage(odbcTag, [
      "sh",
      "-c",
      "id -u; odbc-drivers; ssdeep -s /etc/os-release | tail -n 1",
    ]);
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toMatch(/^10001\n\[\]\n\d+:[\w/+]+:[\w/+]+,"\/etc\/os-release"\n$/);
  });
});
