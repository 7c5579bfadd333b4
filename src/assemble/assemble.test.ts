import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { bookwormFacts } from "../../test/support/image-settings.js";
import { formatUserError, UserError } from "../errors.js";
import type { ImageConfig } from "../image/archive.js";
import { installedPackages, parseDpkgStatus, providedPackages } from "../image/dpkg.js";
import { analyze } from "../project/analyze.js";
import {
  assemble,
  baseLacksError,
  baseVerdict,
  commandOf,
  parseBaseArgument,
  planFor,
  settingsFor,
} from "./assemble.js";
import type { BaseImage } from "./base.js";
import { buildImage } from "./image.js";
import { type RuntimePackage, runtimePackagesIn } from "./runtime-packages.js";

const cliTool = new URL("../../examples/cli-tool", import.meta.url).pathname;
const fixtures = new URL("../../test/fixtures/projects/", import.meta.url).pathname;

describe("parseBaseArgument", () => {
  it("reads PLATFORM=REF, and anything else (a path, a reference with a digest) as a plain base", () => {
    expect(parseBaseArgument("linux/arm64=127.0.0.1:5000/python:3.11")).toEqual({
      platform: { os: "linux", architecture: "arm64" },
      ref: "127.0.0.1:5000/python:3.11",
    });
    expect(parseBaseArgument("linux/arm64/v8=base-arm.tar").platform).toEqual({
      os: "linux",
      architecture: "arm64",
      variant: "v8",
    });
    expect(parseBaseArgument(`r.example/python@sha256:${"a".repeat(64)}`)).toEqual({
      ref: `r.example/python@sha256:${"a".repeat(64)}`,
    });
    expect(parseBaseArgument("./dir=with=equals.tar")).toEqual({ ref: "./dir=with=equals.tar" });
  });
});

describe("assemble's platform and base choice", () => {
  const output = () => path.join(mkdtempSync(path.join(tmpdir(), "couplet-asm-")), "image.tar");
  // Each is refused before any base is read (the bases named here do not exist).
  it.each([
    [{ base: ["a.tar", "b.tar"] }, /--base given 2 times without a platform/],
    [{ base: "a.tar", platform: "linux/amd64,linux/amd64" }, /linux\/amd64 is named twice/],
    [{ base: "a.tar", platform: "linux/amd64,windows/amd64" }, /expected linux\/<architecture>/],
    [{ base: ["linux/arm64=a.tar"], platform: "linux/amd64" }, /linux\/amd64: no --base for this platform/],
  ])("refuses %j in one line", async (options, message) => {
    const failed = await assemble(cliTool, { ...options, output: output() }).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(UserError);
    expect((failed as UserError).message).toMatch(message);
  });
});

describe("baseLacksError", () => {
  const lacks = (file: string, needed: string, debianPackage?: string) => ({
    label: "pkg 1.0",
    missing: [{ file, needed, ...(debianPackage ? { debianPackage } : {}) }],
  });
  it("names each platform when there are several, the buildah commands that make each base, and the packages no table knows", () => {
    const error = baseLacksError([
      {
        platform: "linux/amd64",
        problems: [lacks("/v/site-packages/a.so", "libGL.so.1", "libgl1")],
        baseRef: "docker-archive:/b/amd64.tar",
      },
      {
        platform: "linux/arm64",
        problems: [lacks("/v/site-packages/a.so", "libGL.so.1", "libgl1"), lacks("/opt/b", "libzz.so.9")],
        baseRef: "r.example/python:3.11",
      },
    ]);
    expect(error.message).toBe(
      "cannot assemble an image that would fail at import: linux/amd64: pkg 1.0: a.so needs libGL.so.1 (Debian package libgl1), which the base lacks; linux/arm64: pkg 1.0: a.so needs libGL.so.1 (Debian package libgl1), which the base lacks; linux/arm64: pkg 1.0: /opt/b needs libzz.so.9, which the base lacks",
    );
    expect(error.hint).toBe(
      "make a base that has them: " +
        '`c=$(buildah from --arch amd64 docker-archive:/b/amd64.tar) && buildah run "$c" -- sh -c \'apt-get update && apt-get install -y --no-install-recommends libgl1 && rm -rf /var/lib/apt/lists/*\' && rm -f base-with-packages-amd64.tar.part && buildah commit "$c" docker-archive:base-with-packages-amd64.tar.part && mv base-with-packages-amd64.tar.part base-with-packages-amd64.tar; buildah rm "$c"` and ' +
        '`c=$(buildah from --arch arm64 r.example/python:3.11) && buildah run "$c" -- sh -c \'apt-get update && apt-get install -y --no-install-recommends libgl1 && rm -rf /var/lib/apt/lists/*\' && rm -f base-with-packages-arm64.tar.part && buildah commit "$c" docker-archive:base-with-packages-arm64.tar.part && mv base-with-packages-arm64.tar.part base-with-packages-arm64.tar; buildah rm "$c"`, ' +
        "then assemble onto it: `couplet assemble --base linux/amd64=base-with-packages-amd64.tar --base linux/arm64=base-with-packages-arm64.tar` with your other options; " +
        "or use `couplet build`, whose runtime stage installs the packages couplet knows a package needs; no Debian package is known for libzz.so.9; --allow-missing-libraries writes the image anyway",
    );
    expect(error.exitCode).toBe(2);
  });

  it("is the exact refusal line for a runtime package the base lacks, with why it is wanted and the way through", () => {
    const ssdeep: RuntimePackage = {
      name: "ssdeep",
      wantedBy: [
        "openrelik-worker-common 0.5.0: [tool.couplet.native.openrelik-worker-common] runtime, pyproject.toml line 31",
      ],
      base: "missing",
    };
    const libpq: RuntimePackage = {
      name: "libpq5",
      wantedBy: ["psycopg 3.3.9: psycopg 3 is pure Python and loads the system libpq at run time"],
      base: "missing",
    };
    const error = baseLacksError([
      {
        platform: "linux/amd64",
        problems: [],
        runtime: [libpq, ssdeep],
        baseRef: "docker-archive:/work/my base.tar",
        aptGet: true,
      },
    ]);
    expect(formatUserError(error)).toBe(
      "cannot assemble: the base lacks Debian packages the plan installs at run time: " +
        "libpq5 (for psycopg 3.3.9: psycopg 3 is pure Python and loads the system libpq at run time), " +
        "ssdeep (for openrelik-worker-common 0.5.0: [tool.couplet.native.openrelik-worker-common] runtime, pyproject.toml line 31) " +
        '(make a base that has them: `c=$(buildah from \'docker-archive:/work/my base.tar\') && buildah run "$c" -- sh -c \'apt-get update && apt-get install -y --no-install-recommends libpq5 ssdeep && rm -rf /var/lib/apt/lists/*\' && rm -f base-with-packages.tar.part && buildah commit "$c" docker-archive:base-with-packages.tar.part && mv base-with-packages.tar.part base-with-packages.tar; buildah rm "$c"`, ' +
        "then assemble onto it: `couplet assemble --base base-with-packages.tar` with your other options; " +
        "or use `couplet build`, whose runtime stage installs the packages couplet knows a package needs; --allow-missing-libraries writes the image anyway)",
    );
  });

  it("installs a library the runtime list and an ELF file both want once, and says when the base has no apt-get", () => {
    const libodbc: RuntimePackage = { name: "libodbc2", wantedBy: ["pyodbc 5.5.0: x"], base: "missing" };
    const problems = [lacks("/v/site-packages/pyodbc.so", "libodbc.so.2", "libodbc2")];
    const both = baseLacksError([
      { platform: "linux/amd64", problems, runtime: [libodbc], baseRef: "b", aptGet: true },
    ]);
    expect(both.message).toBe(
      "cannot assemble: the base lacks Debian packages the plan installs at run time: libodbc2 (for pyodbc 5.5.0: x); and an image that would fail at import: pkg 1.0: pyodbc.so needs libodbc.so.2 (Debian package libodbc2), which the base lacks",
    );
    expect(both.hint).toContain("apt-get install -y --no-install-recommends libodbc2 && rm");
    const distroless = baseLacksError([
      { platform: "linux/amd64", problems: [], runtime: [libodbc], baseRef: "b", aptGet: false },
    ]);
    expect(distroless.hint).toMatch(
      /^the base has no apt-get to install them with: assemble onto a base that has them; or use `couplet build`/,
    );
  });
});

describe("baseVerdict", () => {
  const item = (name: string, base: RuntimePackage["base"]): RuntimePackage => ({
    name,
    wantedBy: [`pkg 1.0: [tool.couplet.native.pkg] runtime, pyproject.toml line 9`],
    base,
  });
  const entry = (runtime: RuntimePackage[]) => ({
    platform: "linux/amd64",
    source: "base.tar",
    problems: [],
    runtime,
    baseRef: "docker-archive:/b/base.tar",
    aptGet: true,
  });
  it("passes a base that has every runtime package, silently", () => {
    expect(baseVerdict([entry([item("ssdeep", "installed")])], false)).toEqual({ warnings: [] });
  });
  it("refuses a base that lacks one, naming only the missing ones; --allow-missing-libraries warns per package instead", () => {
    const bases = [
      entry([item("libpq5", "installed"), item("ssdeep", "missing"), item("libmagic1", "missing")]),
    ];
    const refused = baseVerdict(bases, false);
    expect(refused.warnings).toEqual([]);
    expect(refused.error?.message).toBe(
      "cannot assemble: the base lacks Debian packages the plan installs at run time: ssdeep (for pkg 1.0: [tool.couplet.native.pkg] runtime, pyproject.toml line 9), libmagic1 (for pkg 1.0: [tool.couplet.native.pkg] runtime, pyproject.toml line 9)",
    );
    expect(refused.error?.hint).toContain("apt-get install -y --no-install-recommends libmagic1 ssdeep &&");
    expect(baseVerdict(bases, true)).toEqual({
      warnings: ["ssdeep", "libmagic1"].map(
        (name) =>
          `warning: --allow-missing-libraries: the base lacks ${name} (for pkg 1.0: [tool.couplet.native.pkg] runtime, pyproject.toml line 9), which the plan installs at run time: the image is written without it`,
      ),
    });
  });
  it("warns, and does not refuse, when the base has no package database to check", () => {
    expect(baseVerdict([entry([item("ssdeep", "unchecked")])], false)).toEqual({
      warnings: [
        "warning: the base base.tar has no Debian package database (/var/lib/dpkg/status or status.d), so couplet cannot check that it has ssdeep (for pkg 1.0: [tool.couplet.native.pkg] runtime, pyproject.toml line 9), which the plan installs at run time",
      ],
    });
  });
});

describe("runtimePackagesIn", () => {
  it("marks each of the plan's runtime packages installed, missing, or unchecked without a package database", async () => {
    const project = await analyze(path.join(fixtures, "odbc-client"));
    project.couplet.native.pyodbc = {
      build: [],
      runtime: ["libodbc2", "ssdeep", "tzdata"],
      runtimeWithWheel: true,
      declaredAt: 12,
    };
    const base = { ...bookwormFacts } as unknown as BaseImage;
    const { plan } = planFor(project, base, undefined);
    const why = ["pyodbc 5.5.0: [tool.couplet.native.pyodbc] runtime, pyproject.toml line 12"];
    // As dpkg lists them, name:arch (`all` for architecture-independent ones); a foreign copy does not count.
    const dpkg = {
      installed: ["libodbc2:i386", "ssdeep:amd64", "tzdata:all"],
      provided: [],
      database: ["/var/lib/dpkg/status"],
      aptGet: true,
    };
    expect(runtimePackagesIn(plan, dpkg, "amd64")).toEqual([
      { name: "libodbc2", wantedBy: why, base: "missing" },
      { name: "ssdeep", wantedBy: why, base: "installed" },
      { name: "tzdata", wantedBy: why, base: "installed" },
    ]);
    expect(runtimePackagesIn(plan, null, "amd64").map(({ base }) => base)).toEqual([
      "unchecked",
      "unchecked",
      "unchecked",
    ]);
  });

  it("names the runtime packages as the base's Debian release does, not as the Python version's default one", async () => {
    // uwsgi is an sdist only: compiled, it wants PCRE at run time, libpcre3 on bookworm, libpcre2-8-0 on trixie.
    const project = await analyze(new URL("../../examples/flask-uwsgi", import.meta.url).pathname);
    const on = (release: string | undefined) =>
      planFor(project, { ...bookwormFacts, libraries: { release } } as unknown as BaseImage, undefined).plan
        .native.runtimePackages;
    expect(on("bookworm")).toEqual(["libpcre3", "libpq5"]);
    // CPython 3.11 on trixie (a python:3.11-slim-trixie base): trixie has no libpcre3 for apt to install.
    expect(on("trixie")).toEqual(["libpcre2-8-0", "libpq5"]);
    // Not Debian, or a release couplet has no table for: the Python version's default, as before.
    expect(on(undefined)).toEqual(["libpcre3", "libpq5"]);
  });

  it("takes a name an installed package provides as installed: trixie's libmagic1t64 for libmagic1", async () => {
    const project = await analyze(path.join(fixtures, "odbc-client"));
    project.couplet.native.pyodbc = { build: [], runtime: ["libmagic1", "libssl3"], runtimeWithWheel: true };
    const { plan } = planFor(project, { ...bookwormFacts } as unknown as BaseImage, undefined);
    // dpkg's real status of the trixie stand-in after `apt-get install libmagic1` (test/fixtures/dpkg/README.md).
    const stanzas = parseDpkgStatus(
      readFileSync(new URL("../../test/fixtures/dpkg/status-trixie", import.meta.url), "utf8"),
    );
    const dpkg = {
      installed: installedPackages(stanzas),
      provided: providedPackages(stanzas),
      database: ["/var/lib/dpkg/status"],
      aptGet: true,
    };
    expect(runtimePackagesIn(plan, dpkg, "amd64").map(({ name, base }) => [name, base])).toEqual([
      ["libmagic1", "installed"],
      ["libssl3", "installed"],
    ]);
    expect(runtimePackagesIn(plan, dpkg, "arm64").map(({ base }) => base)).toEqual(["missing", "missing"]);
  });
});

describe("the container command in the assembled image's config", () => {
  // The bookworm stand-in's facts, with the config a base image may carry.
  const baseWith = (config: ImageConfig["config"]) =>
    ({
      ...bookwormFacts,
      opened: { config: { architecture: "amd64", os: "linux", config, history: [] } },
    }) as unknown as BaseImage;
  async function configOf(dir: string, cmd: string[] | undefined, base = baseWith({})) {
    const { plan } = planFor(await analyze(dir), base, cmd);
    const image = buildImage(base, [], [], settingsFor(plan, new Date(0)));
    const { config } = JSON.parse(image.config.toString("utf8")) as {
      config: { Entrypoint?: string[]; Cmd?: string[]; Volumes?: Record<string, object> };
    };
    return { config, command: commandOf(image, plan) };
  }

  it("is the console script's ENTRYPOINT without --cmd, and --cmd's words as the Cmd with it", async () => {
    const chosen = await configOf(cliTool, undefined);
    expect(chosen.config).toMatchObject({ Entrypoint: ["yamlstat"] });
    expect(chosen.config.Cmd).toBeUndefined();
    expect(chosen.command).toEqual({ entrypoint: ["yamlstat"], source: "[tool.poetry.scripts] yamlstat" });
    expect(chosen.config).not.toHaveProperty("Volumes");
    const given = await configOf(cliTool, ["yamlstat", "-"]);
    // A command line gets the app user's writable /app/data, a VOLUME, as init's Dockerfile gives it.
    expect(given.config).toMatchObject({ Volumes: { "/app/data": {} } });
    expect(given.config.Entrypoint).toBeUndefined();
    expect(given.config.Cmd).toEqual(["yamlstat", "-"]);
    expect(given.command).toEqual({ cmd: ["yamlstat", "-"], source: "--cmd" });
  });

  it("runs a command line with operators through sh, with exec, as init's Dockerfile does", async () => {
    const { command } = await configOf(cliTool, ["migrate", "&&", "serve", "$PORT"]);
    expect(command.cmd).toEqual(["sh", "-c", "migrate && exec serve $PORT"]);
  });

  it("--cmd wins over [tool.couplet] cmd", async () => {
    const dir = path.join(fixtures, "package-mode-false");
    expect((await configOf(dir, undefined)).command).toEqual({
      cmd: ["uvicorn", "main:app", "--host", "0.0.0.0", "--port", "8000"],
      source: "[tool.couplet] cmd",
    });
    expect((await configOf(dir, ["python", "main.py"])).command.cmd).toEqual(["python", "main.py"]);
  });

  it("keeps the base's ENTRYPOINT under a --cmd (as a Dockerfile's CMD does), and the report shows both", async () => {
    const base = baseWith({ Entrypoint: ["tini", "--"], Cmd: ["python3"] });
    expect((await configOf(cliTool, ["yamlstat"], base)).command).toEqual({
      entrypoint: ["tini", "--"],
      cmd: ["yamlstat"],
      source: "--cmd",
    });
  });

  it.each([
    [["a", "|", "b"], /^--cmd pipes or backgrounds commands/],
    [["serve &"], /^--cmd pipes or backgrounds commands/],
    [[], /^--cmd is empty/],
  ])("refuses %j before reading the base, as init does", async (cmd, message) => {
    const output = path.join(mkdtempSync(path.join(tmpdir(), "couplet-asm-")), "image.tar");
    const failed = await assemble(cliTool, { base: "no-such-base.tar", output, cmd }).catch(
      (e: unknown) => e,
    );
    expect(failed).toBeInstanceOf(UserError);
    expect((failed as UserError).message).toMatch(message);
  });
});
