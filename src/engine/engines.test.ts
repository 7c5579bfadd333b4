import { describe, expect, it } from "vitest";
import { UserError } from "../errors.js";
import { buildahDefaults, buildahEngine, imageSizeFromStorage } from "./buildah.js";
import { dockerEngine, registryCache } from "./docker.js";
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
    const cmd = dockerEngine({ buildx: true }).buildCommand(request);
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
    const engine = dockerEngine({ buildx: false });
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
    const engine = dockerEngine({ buildx: false });
    expect(() => engine.buildCommand(request)).toThrow(UserError);
    expect(() => engine.buildCommand({ ...request, secrets: [] })).toThrow(/--cache-to needs BuildKit/);
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
