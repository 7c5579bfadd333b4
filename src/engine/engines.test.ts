import { describe, expect, it } from "vitest";
import { UserError } from "../errors.js";
import { buildahDefaults, buildahEngine, imageSizeFromStorage } from "./buildah.js";
import { chooseDockerBuilder, dockerEngine, legacyWarning, registryCache } from "./docker.js";
import { podmanEngine } from "./podman.js";
import type { BuildRequest } from "./types.js";

const request: BuildRequest = {
  context: "/src/app",
  dockerfile: "/tmp/b/Dockerfile",
  tag: "couplet/app:latest",
  buildArgs: { PYTHON_IMAGE: "python:3.12-slim", A: "1" },
  secrets: ["id=pypi,src=/run/token"],
  platform: "linux/arm64",
  target: "production",
  cacheFrom: ["127.0.0.1:5000/app-cache"],
  cacheTo: ["127.0.0.1:5000/app-cache"],
  network: "host",
  noCache: true,
  iidFile: "/tmp/b/iid",
};
const shared = [
  "--file", "/tmp/b/Dockerfile", "--tag", "couplet/app:latest",
  "--build-arg", "A=1", "--build-arg", "PYTHON_IMAGE=python:3.12-slim",
  "--secret", "id=pypi,src=/run/token", "--platform", "linux/arm64", "--target", "production",
  "--network", "host", "--no-cache", "--iidfile", "/tmp/b/iid",
]; // biome-ignore format: one flag per pair reads better

describe("docker", () => {
  it("uses buildx with registry caches and loads the result when buildx is present", () => {
    const cmd = dockerEngine({ builder: "buildx", server: "27.3.1" }).buildCommand(request);
    expect(cmd).toEqual({
      program: "docker",
      args: [
        "buildx",
        "build",
        "--load",
        "--progress",
        "plain",
        ...shared,
        "--cache-from",
        "type=registry,ref=127.0.0.1:5000/app-cache",
        "--cache-to",
        "type=registry,ref=127.0.0.1:5000/app-cache,mode=max",
        "/src/app",
      ],
    });
  });

  it("falls back to the legacy builder, says why, and turns off cache mounts", () => {
    const engine = dockerEngine({ builder: "legacy" });
    expect(engine.features.cacheMounts).toBe(false);
    expect(engine.warnings.join(" ")).toMatch(/cache mounts/);
    const { secrets: _s, cacheTo: _c, ...plain } = request;
    const cmd = engine.buildCommand(plain);
    expect(cmd.env).toEqual({ DOCKER_BUILDKIT: "0" });
    expect(cmd.args.slice(0, 1)).toEqual(["build"]);
    expect(cmd.args).toContain("--cache-from");
    expect(cmd.args.at(-1)).toBe("/src/app");
  });

  it("refuses what the legacy builder cannot do, as a user error", () => {
    const engine = dockerEngine({ builder: "legacy" });
    expect(() => engine.buildCommand(request)).toThrow(UserError);
    expect(() => engine.buildCommand({ ...request, secrets: [] })).toThrow(/--cache-to needs BuildKit/);
  });

  it("drives the daemon's own BuildKit with DOCKER_BUILDKIT=1 and plain progress, refusing only --cache-to", () => {
    const engine = dockerEngine({
      builder: "buildkit",
      program: "/usr/bin/docker",
      server: "20.10.24+dfsg1",
    });
    expect(engine.features).toEqual({
      cacheMounts: true,
      secrets: true,
      cacheTo: false,
      builtinFrontendMounts: true,
      multiPlatform: false,
    });
    expect(engine.warnings).toEqual([]);
    const { cacheTo: _c, ...rest } = request;
    expect(engine.buildCommand(rest)).toEqual({
      program: "/usr/bin/docker",
      args: [
        "build",
        "--progress",
        "plain",
        ...shared,
        "--cache-from",
        "127.0.0.1:5000/app-cache",
        "/src/app",
      ],
      env: { DOCKER_BUILDKIT: "1" },
    });
    expect(() => engine.buildCommand(request)).toThrow(/--cache-to needs buildx/);
  });

  it("reads RUN --mount without `# syntax=` only where the daemon's frontend is 20.10 or newer", () => {
    expect(dockerEngine({ builder: "buildkit", server: "19.03.15" }).features.builtinFrontendMounts).toBe(
      false,
    );
    expect(dockerEngine({ builder: "buildx", server: "28.2.2" }).features.builtinFrontendMounts).toBe(true);
    expect(dockerEngine({ builder: "legacy", server: "28.2.2" }).features.builtinFrontendMounts).toBe(false);
  });

  it("chooses buildx, else BuildKit through a client older than 23.0, else the legacy builder", () => {
    const cases: [string, string, boolean, string][] = [
      ["28.2.2", "20.10.24+dfsg1", true, "buildx"],
      ["20.10.24+dfsg1", "20.10.24+dfsg1", false, "buildkit"],
      ["22.06.0-beta.0", "23.0.1", false, "buildkit"],
      ["18.09.1", "18.09.1", false, "buildkit"],
      // From 23.0 the classic client refuses DOCKER_BUILDKIT=1 without the buildx component.
      ["28.2.2", "20.10.24+dfsg1", false, "legacy"],
      ["23.0.0", "23.0.0", false, "legacy"],
      // A daemon before 18.09 has no BuildKit; an unreadable client version is not trusted.
      ["18.06.3-ce", "18.06.3-ce", false, "legacy"],
      ["unknown", "20.10.24", false, "legacy"],
    ];
    for (const [client, server, buildx, builder] of cases)
      expect(chooseDockerBuilder({ client, server, buildx }), `${client}/${server}/${buildx}`).toBe(builder);
  });

  it("says why the legacy builder was chosen and names an older client that would give BuildKit", () => {
    const warning = legacyWarning({ client: "28.2.2", server: "20.10.24+dfsg1", buildx: false }, [
      "/usr/bin/docker",
    ]);
    expect(warning).toMatch(/^docker has no buildx plugin: using the legacy builder/);
    expect(warning).toMatch(/28\.2\.2\) is 23\.0 or newer/);
    expect(warning).toMatch(/--docker \/usr\/bin\/docker \(or COUPLET_DOCKER=\/usr\/bin\/docker\)/);
  });

  it("builds several platforms into one image index with buildx, and refuses them on the classic docker build", () => {
    const both = { ...request, platform: "linux/amd64,linux/arm64" };
    const args = dockerEngine({ builder: "buildx", server: "27.3.1" }).buildCommand(both).args;
    expect(args.slice(args.indexOf("--platform"), args.indexOf("--platform") + 2)).toEqual([
      "--platform",
      "linux/amd64,linux/arm64",
    ]);
    expect(args).toContain("--tag");
    const { secrets: _s, cacheTo: _c, ...plain } = both;
    for (const builder of ["buildkit", "legacy"] as const)
      expect(() => dockerEngine({ builder, server: "20.10.24" }).buildCommand(plain)).toThrow(
        /cannot build several platforms at once/,
      );
  });

  it("passes a full cache spec through unchanged", () => {
    expect(registryCache("type=local,dest=/c")).toBe("type=local,dest=/c");
    expect(registryCache("r/app:cache")).toBe("type=registry,ref=r/app:cache");
  });
});

describe("buildah", () => {
  it("builds with layers, the storage driver first and chroot isolation as root", () => {
    const cmd = buildahEngine(buildahDefaults(0)).buildCommand(request);
    expect(cmd).toEqual({
      program: "buildah",
      args: [
        "--storage-driver",
        "overlay",
        "bud",
        "--layers",
        "--isolation",
        "chroot",
        ...shared,
        "--cache-from",
        "127.0.0.1:5000/app-cache",
        "--cache-to",
        "127.0.0.1:5000/app-cache",
        "/src/app",
      ],
    });
  });

  it("leaves storage and isolation to the user's configuration when rootless", () => {
    const cmd = buildahEngine(buildahDefaults(1000)).buildCommand({
      context: ".",
      dockerfile: "D",
      tag: "t",
    });
    expect(cmd.args).toEqual(["bud", "--layers", "--file", "D", "--tag", "t", "."]);
    expect(buildahEngine(buildahDefaults(0)).removeImagesCommand(["a", "b"]).args).toEqual([
      "--storage-driver",
      "overlay",
      "rmi",
      "--force",
      "a",
      "b",
    ]);
  });

  it("sums the layer chain of an image for its size", () => {
    const layers = [
      { id: "l1", "diff-size": 100 },
      { id: "l2", parent: "l1", "diff-size": 20 },
      { id: "l3", parent: "l2", "diff-size": 3 },
      { id: "other", parent: "l1", "diff-size": 1000 },
    ];
    expect(imageSizeFromStorage("img", [{ id: "img", layer: "l3" }], layers)).toBe(123);
    expect(() => imageSizeFromStorage("nope", [], layers)).toThrow(/not in the storage/);
  });
});

describe("several platforms on buildah and podman", () => {
  const both = { ...request, platform: "linux/amd64,linux/arm64" };
  for (const engine of [buildahEngine(buildahDefaults(0)), podmanEngine(buildahDefaults(0))]) {
    it(`${engine.name} gathers them in the manifest list the tag names, with no iidfile (it holds one id)`, () => {
      const { args } = engine.buildCommand(both);
      expect(args.slice(args.indexOf("--file"), args.indexOf("--file") + 4)).toEqual([
        "--file",
        "/tmp/b/Dockerfile",
        "--manifest",
        "couplet/app:latest",
      ]);
      expect(args).not.toContain("--tag");
      expect(args).not.toContain("--iidfile");
      expect(args).toContain("linux/amd64,linux/arm64");
      // The previous list itself is removed once a rebuild succeeds: `rmi` of its name would remove one of its images.
      expect(engine.removeManifestCommand?.("couplet/app:latest").args).toEqual([
        "--storage-driver",
        "overlay",
        "manifest",
        "rm",
        "couplet/app:latest",
      ]);
      // One platform stays one tagged image.
      expect(engine.buildCommand(request).args).toEqual(expect.arrayContaining(["--tag", "--iidfile"]));
    });
  }
});

describe("podman", () => {
  it("uses podman build with the shared flags", () => {
    const cmd = podmanEngine({ storageDriver: "overlay" }).buildCommand(request);
    expect(cmd.args.slice(0, 4)).toEqual(["--storage-driver", "overlay", "build", "--layers"]);
    expect(cmd.args.slice(4, 4 + shared.length)).toEqual(shared);
  });

  it("takes buildah's root defaults: overlay storage and chroot isolation", () => {
    const cmd = podmanEngine({ ...buildahDefaults(0), program: "/usr/bin/podman" }).buildCommand(request);
    expect(cmd.program).toBe("/usr/bin/podman");
    expect(cmd.args.slice(0, 6)).toEqual([
      "--storage-driver",
      "overlay",
      "build",
      "--layers",
      "--isolation",
      "chroot",
    ]);
    expect(cmd.args.slice(6, 6 + shared.length)).toEqual(shared);
  });

  it("passes registry caches as repositories, like buildah", () => {
    const cmd = podmanEngine().buildCommand({
      ...request,
      cacheFrom: ["127.0.0.1:5000/cache"],
      cacheTo: ["127.0.0.1:5000/cache"],
    });
    expect(cmd.args.join(" ")).toContain("--cache-from 127.0.0.1:5000/cache --cache-to 127.0.0.1:5000/cache");
    expect(cmd.args[cmd.args.length - 1]).toBe(request.context);
  });
});
