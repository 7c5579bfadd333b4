import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { copyFile, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { configFor, dockerArchive, makeTar, ociLayout } from "../../test/support/image-archive.js";
import { bookwormFacts } from "../../test/support/image-settings.js";
import { InputFileError, UserError } from "../errors.js";
import { openImageArchive } from "../image/archive.js";
import { readLayer } from "../image/layer.js";
import { analyze } from "../project/analyze.js";
import { AssembleCache } from "./cache.js";
import { dependencyLayers } from "./dependencies.js";
import { buildahReference, type LocalWheel, readWheelDir } from "./local-wheels.js";
import { chooseWheels, productionPackages, selectionFor } from "./packages.js";

// PyPyDispatcher 2.1.2 is locked as an sdist only; the fixture wheel is pip's build of that sdist in the base.
const project = new URL("../../test/fixtures/projects/sdist-only", import.meta.url).pathname;
const cliTool = new URL("../../examples/cli-tool", import.meta.url).pathname;
const built = new URL("../../test/fixtures/wheels/PyPyDispatcher-2.1.2-py3-none-any.whl", import.meta.url)
  .pathname;
const bookworm = bookwormFacts;

/** A --wheels folder holding the built wheel under each of these names. */
async function wheelDir(...names: string[]): Promise<{ dir: string; wheels: LocalWheel[] }> {
  const dir = await mkdtemp(path.join(tmpdir(), "couplet-wheels-"));
  for (const name of names) await copyFile(built, path.join(dir, name));
  return { dir, wheels: await readWheelDir(dir) };
}

async function choose(dir: string, local?: { dir: string; wheels: LocalWheel[] }) {
  const analyzed = await analyze(dir);
  const selection = selectionFor(analyzed, bookworm);
  return chooseWheels(productionPackages(analyzed, selection), selection, bookworm, {
    baseRef: "docker-archive:/tmp/base.tar",
    ...(local ? { local } : {}),
  });
}

describe("assemble --wheels", () => {
  it("without it, refuses the sdist-only package and prints the pip wheel command to run in the base", async () => {
    const error = await choose(project).then(
      () => undefined,
      (caught: unknown) => caught as UserError,
    );
    expect(error).toBeInstanceOf(UserError);
    expect(error?.message).toBe(
      "cannot assemble without compiling: pypydispatcher 2.1.2: only a source distribution is locked",
    );
    expect(error?.hint).toContain(
      '`mkdir -p wheels && c=$(buildah from docker-archive:/tmp/base.tar) && buildah run -v "$PWD/wheels:/wheels" "$c" -- pip wheel --no-deps pypydispatcher==2.1.2 -w /wheels; buildah rm "$c"`',
    );
    expect(error?.hint).toContain("--wheels wheels");
    expect(error?.hint).toContain("couplet build");
  });

  it("installs the built wheel: its files and a RECORD in the layer, the file's own sha256 in the request and the history", async () => {
    const local = await wheelDir("PyPyDispatcher-2.1.2-py3-none-any.whl");
    const wheels = await choose(project, local);
    expect(wheels).toHaveLength(1);
    const [request] = wheels;
    expect(request).toMatchObject({
      name: "pypydispatcher",
      version: "2.1.2",
      filename: "PyPyDispatcher-2.1.2-py3-none-any.whl",
      path: path.join(local.dir, "PyPyDispatcher-2.1.2-py3-none-any.whl"),
    });
    expect(request?.sha256).toBe(local.wheels[0]?.sha256);
    expect(request?.sha256).toMatch(/^[0-9a-f]{64}$/);
    const lines: string[] = [];
    const cacheDir = await mkdtemp(path.join(tmpdir(), "couplet-wheels-cache-"));
    const result = await dependencyLayers(wheels, {
      venv: {
        root: "/app/.venv",
        sitePackages: "/app/.venv/lib/python3.11/site-packages",
        pythonName: "python3.11",
      },
      python: { executable: "/usr/bin/python3.11", version: "3.11.2" },
      created: new Date(1_700_000_000_000),
      cacheDir,
      cache: new AssembleCache(cacheDir),
      progress: (line) => lines.push(line),
    });
    expect(lines).toContain(`local ${request?.path} sha256:${request?.sha256}`);
    expect(result.layers).toHaveLength(1);
    const layer = result.layers[0];
    expect(layer?.holds).toBe(
      `pypydispatcher 2.1.2 (--wheels PyPyDispatcher-2.1.2-py3-none-any.whl sha256:${request?.sha256.slice(0, 12)})`,
    );
    const paths: string[] = [];
    await readLayer(
      (async function* () {
        yield layer?.packed.gzip as Buffer;
      })(),
      (entry) => {
        paths.push(entry.path);
        return undefined;
      },
    );
    const site = "/app/.venv/lib/python3.11/site-packages";
    expect(paths).toContain(`${site}/pydispatch/dispatcher.py`);
    expect(paths).toContain(`${site}/PyPyDispatcher-2.1.2.dist-info/RECORD`);
    expect(paths).toContain(`${site}/PyPyDispatcher-2.1.2.dist-info/INSTALLER`);
  });

  it("refuses a wheel of another version, or one whose tags the base does not accept, in one line", async () => {
    const otherVersion = await wheelDir("PyPyDispatcher-2.1.3-py3-none-any.whl");
    const error = await choose(project, otherVersion).catch((caught: unknown) => caught as UserError);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toBe(
      "cannot assemble without compiling: pypydispatcher 2.1.2: only a source distribution is locked; --wheels has PyPyDispatcher-2.1.3-py3-none-any.whl, not version 2.1.2",
    );
    const otherTag = await wheelDir("pypydispatcher-2.1.2-cp312-cp312-manylinux_2_17_x86_64.whl");
    const tagged = await choose(project, otherTag).catch((caught: unknown) => caught as UserError);
    expect((tagged as UserError).message).toBe(
      "cannot assemble without compiling: pypydispatcher 2.1.2: only a source distribution is locked; pypydispatcher-2.1.2-cp312-cp312-manylinux_2_17_x86_64.whl in --wheels does not fit CPython 3.11 on x86_64 glibc 2.36",
    );
    expect((tagged as UserError).message).not.toContain("\n");
  });

  it("never takes a package that has a locked wheel from the folder", async () => {
    // A click wheel of the locked version sits in the folder; the lock's own wheel, with the lock's sha256, wins.
    const local = await wheelDir("click-8.1.8-py3-none-any.whl");
    const wheels = await choose(cliTool, local);
    const click = wheels.find((wheel) => wheel.name === "click");
    expect(click?.path).toBeUndefined();
    expect(click?.sha256).not.toBe(local.wheels[0]?.sha256);
    expect(click?.index).toBe("https://pypi.org/simple/");
  });

  it("names a --wheels folder that cannot be read", async () => {
    const missing = path.join(tmpdir(), "couplet-no-such-wheels-folder");
    await expect(readWheelDir(missing)).rejects.toThrow(/--wheels: cannot read the folder/);
  });

  it("names a wheel in the folder that cannot be read (a dangling link) in one typed line", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "couplet-wheels-"));
    symlinkSync(path.join(dir, "gone"), path.join(dir, "demo-1.0-py3-none-any.whl"));
    const error = await readWheelDir(dir).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InputFileError);
    expect((error as InputFileError).message).toMatch(/^--wheels: cannot read demo-1\.0-py3-none-any\.whl: /);
  });
});

describe("buildahReference: the base as the printed buildah commands name it", () => {
  it("names each kind of --base as buildah reads it: docker-archive, OCI archive, OCI layout, registry", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "couplet-buildah-ref-"));
    const layer = await makeTar([{ name: "etc/hostname", body: "base\n" }]);
    const config = configFor(1, [{ created_by: "test" }]);
    const docker = path.join(dir, "docker.tar");
    writeFileSync(docker, await dockerArchive([layer], config));
    const files = ociLayout([{ data: layer, mediaType: "application/vnd.oci.image.layer.v1.tar" }], config);
    const oci = path.join(dir, "oci.tar");
    writeFileSync(oci, await makeTar([...files].map(([name, body]) => ({ name, body }))));
    const layout = path.join(dir, "layout");
    for (const [name, body] of files) {
      mkdirSync(path.dirname(path.join(layout, name)), { recursive: true });
      writeFileSync(path.join(layout, name), body);
    }
    const named = async (source: string) => buildahReference(source, (await openImageArchive(source)).format);
    expect(await named(docker)).toBe(`docker-archive:${docker}`);
    // An OCI archive file has no manifest.json: `buildah from docker-archive:` of it fails.
    expect(await named(oci)).toBe(`oci-archive:${oci}`);
    expect(await named(layout)).toBe(`oci:${layout}`);
    expect(await buildahReference("registry.example/python:3.11-slim", "oci")).toBe(
      "registry.example/python:3.11-slim",
    );
  });
});
