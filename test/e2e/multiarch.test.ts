// End to end: `couplet build --platform linux/amd64,linux/arm64` on buildah (cli-tool example: pyyaml's compiled
// extension, with wheels for both machines) into a manifest list; the arm64 image's files are arm64 and it runs
// under qemu emulation. The base is a manifest list over the amd64 and arm64 stand-ins (scripts/make-base-image).
import { execFile } from "node:child_process";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openImageArchive } from "../../src/image/archive.js";
import { readElf } from "../../src/image/elf.js";
import { readLayer } from "../../src/image/layer.js";
import { ensureBaseImage } from "../support/base-image.js";
import { buildah, parseSteps } from "../support/buildah.js";
import { couplet, type CliResult as Result } from "../support/cli.js";

const run = promisify(execFile);
const repo = new URL("../..", import.meta.url).pathname;
const tag = `localhost/couplet-e2e-multiarch/cli-tool:${process.pid}-${Date.now()}`;
// ELF e_machine values
const X86_64 = 62;
const AARCH64 = 183;

async function ok(args: string[]): Promise<string> {
  const result = await buildah(args);
  if (result.code !== 0) throw new Error(`buildah ${args.join(" ")}: ${result.stderr}`);
  return result.stdout.trim();
}

/** The ELF machine of every shared object of the venv's yaml package, read from the image's exported layers. */
async function yamlExtensionMachines(archive: string): Promise<Map<string, number>> {
  const image = await openImageArchive(archive);
  const found = new Map<string, number>();
  for (const layer of image.layers) {
    await readLayer(image.source.chunks(layer.blob), (entry) => {
      if (
        entry.kind !== "file" ||
        !/^\/app\/\.venv\/lib\/python3\.\d+\/site-packages\/yaml\/.*\.so$/.test(entry.path)
      )
        return undefined;
      const chunks: Buffer[] = [];
      return {
        data: (chunk) => chunks.push(Buffer.from(chunk)),
        end: () => {
          const elf = readElf(Buffer.concat(chunks));
          if (elf) found.set(entry.path, elf.machine);
        },
      };
    });
  }
  return found;
}

describe("couplet build for linux/amd64 and linux/arm64 on buildah (cli-tool)", () => {
  const buildArgs = (base: string) => [
    "build",
    work,
    "--engine",
    "buildah",
    "--platform",
    "linux/amd64,linux/arm64",
    // bookworm's CPython, the release both stand-ins carry
    "--python",
    "3.11",
    "--network",
    "host",
    "--build-arg",
    `PYTHON_IMAGE=${base}`,
    "--tag",
    tag,
  ];
  let parent: string;
  let baseList: string | undefined;
  let work: string;
  let built: Result & { log: string };
  let instances: { digest: string; platform: { os: string; architecture: string } }[] = [];

  beforeAll(async () => {
    await run("npm", ["run", "build"], { cwd: repo });
    // Both stand-ins (arm64 debootstrapped under qemu, cached) and a manifest list over them, as python:3.11-slim is.
    const base = await ensureBaseImage({ debian: "bookworm", flavor: "slim", arch: "amd64,arm64" });
    baseList = base;
    parent = await mkdtemp(join(tmpdir(), "couplet-e2e-multiarch-"));
    work = join(parent, "cli-tool");
    await cp(join(repo, "examples/cli-tool"), work, {
      recursive: true,
      filter: (src) => !src.includes(".venv"),
    });
    const logFile = join(parent, "build.log");
    const result = await couplet([...buildArgs(base), "--log", logFile]);
    built = { ...result, log: await readFile(logFile, "utf8").catch(() => "") };
    if (built.code === 0)
      instances = JSON.parse(await ok(["manifest", "inspect", tag])).manifests as typeof instances;
  });

  afterAll(async () => {
    // `manifest rm`: an `rmi` of the list's name would remove one of its images and leave the list.
    await buildah(["manifest", "rm", tag]);
    for (const instance of instances) await buildah(["rmi", "--force", instance.digest]);
    // The base list is remade by every make-base-image call; left behind, a list whose instance another run
    // replaced makes every later `buildah images` fail, so it goes with this test.
    if (baseList) await buildah(["manifest", "rm", baseList]).catch(() => undefined);
    if (parent) await rm(parent, { recursive: true, force: true });
  });

  it("builds one image per platform into the manifest list the tag names, and says so", () => {
    expect(built.code, `${built.stderr}\n${built.log.slice(-3000)}`).toBe(0);
    expect(built.stdout).toMatch(new RegExp(`^${tag} manifest list of linux/amd64, linux/arm64, built in `));
    expect(instances.map((i) => `${i.platform.os}/${i.platform.architecture}`).sort()).toEqual([
      "linux/amd64",
      "linux/arm64",
    ]);
    // Each platform's steps ran (buildah prefixes them with the platform); the live display read them.
    const steps = parseSteps(built.log);
    expect(steps.length).toBeGreaterThan(10);
    expect(built.log).toMatch(/^\[linux\/arm64\] (\[\d+\/\d+\] )?STEP \d+\/\d+: FROM /m);
    expect(built.log).toMatch(/^\[linux\/amd64\] (\[\d+\/\d+\] )?STEP \d+\/\d+: FROM /m);
  });

  it("the arm64 image is arm64: its config, and the ELF machine of pyyaml's extension in the venv", async () => {
    const archives: Record<string, string> = {};
    for (const instance of instances) {
      const arch = instance.platform.architecture;
      archives[arch] = join(parent, `${arch}.tar`);
      await ok(["push", `${tag}@${instance.digest}`, `docker-archive:${archives[arch]}`]);
    }
    const arm = await openImageArchive(archives.arm64 as string);
    expect(arm.config.architecture).toBe("arm64");
    const armMachines = [...(await yamlExtensionMachines(archives.arm64 as string)).values()];
    expect(armMachines.length).toBeGreaterThan(0);
    expect(new Set(armMachines)).toEqual(new Set([AARCH64]));
    const amdMachines = [...(await yamlExtensionMachines(archives.amd64 as string)).values()];
    expect(new Set(amdMachines)).toEqual(new Set([X86_64]));
    // couplet inspect checks the arm64 image's libraries against its own (arm64) folders: none missing.
    const inspect = await couplet([
      "inspect",
      archives.arm64 as string,
      "--format",
      "json",
      "--fail-on",
      "missing-libraries",
    ]);
    expect(inspect.code, inspect.stderr).toBe(0);
    expect((JSON.parse(inspect.stdout) as { missingLibraries: unknown[] }).missingLibraries).toEqual([]);
  });

  it("the arm64 image runs under emulation: an aarch64 interpreter, and the app prints its output", async () => {
    const arm = instances.find((i) => i.platform.architecture === "arm64");
    const ctr = await ok(["from", "--pull=never", "--arch", "arm64", `${tag}@${arm?.digest}`]);
    try {
      const machine = await ok([
        "run",
        "--isolation",
        "chroot",
        ctr,
        "--",
        "python",
        "-c",
        "import platform, yaml; print(platform.machine(), yaml.__with_libyaml__)",
      ]);
      expect(machine).toBe("aarch64 True");
      // With no file the console script reads its sample through libyaml, the compiled extension.
      const output = await ok(["run", "--isolation", "chroot", ctr, "--", "yamlstat"]);
      expect(output).toBe("yamlstat: document 0 has 4 nodes (pyyaml 6.0.2, libyaml)");
    } finally {
      await buildah(["rm", ctr]);
    }
  });

  it("a rebuild replaces the list only when it succeeds: a failed one leaves it as it was, neither leaves a partial list", async () => {
    // Read from containers-storage's own record: `buildah images` fails outright while any other list in the
    // shared storage has lost an instance manifest.
    const records = async () => {
      const [root = "", driver = ""] = (
        await ok(["info", "--format", "{{.store.GraphRoot}} {{.store.GraphDriverName}}"])
      ).split(" ");
      return JSON.parse(await readFile(join(root, `${driver}-images`, "images.json"), "utf8")) as {
        id: string;
        names?: string[];
      }[];
    };
    const repository = tag.replace(/:[^:/]+$/, "");
    const partials = async () =>
      (await records())
        .flatMap((image) => image.names ?? [])
        .filter((name) => name.startsWith(`${repository}:couplet-partial-`));
    const before = await ok(["manifest", "inspect", tag]);
    const previous = (await records()).find((image) => image.names?.includes(tag))?.id;
    expect(previous).toBeDefined();
    // A base reference buildah rejects at FROM, with no pull and no RUN.
    const failed = await couplet(buildArgs("Not-A-Reference"));
    expect(failed.code).toBe(1);
    expect(await ok(["manifest", "inspect", tag])).toBe(before);
    expect(await partials()).toEqual([]);
    // A build that succeeds without emulation (FROM scratch, no RUN): the tag moves to its list, and the
    // previous list is removed rather than left without a name.
    const tiny = join(parent, "Dockerfile.scratch");
    await writeFile(tiny, "FROM scratch\nCOPY pyproject.toml /\n");
    const rebuilt = await couplet([
      "build",
      work,
      "--dockerfile",
      tiny,
      "--engine",
      "buildah",
      "--platform",
      "linux/amd64,linux/arm64",
      "--no-cache",
      "--tag",
      tag,
    ]);
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    const after = JSON.parse(await ok(["manifest", "inspect", tag])).manifests as typeof instances;
    instances.push(...after);
    expect(after.map((i) => i.platform.architecture).sort()).toEqual(["amd64", "arm64"]);
    expect((await records()).map((image) => image.id)).not.toContain(previous);
    expect(await partials()).toEqual([]);
  });
});
