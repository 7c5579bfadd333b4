import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { formatUserError, UserError } from "../errors.js";
import { buildahDefaults, buildahEngine } from "./buildah.js";
import {
  type BuildxBuilder,
  buildxExportArgs,
  dockerEngine,
  parseBuildxDriver,
  usesContainerdStore,
} from "./docker.js";
import { podmanEngine } from "./podman.js";
import type { BuildRequest } from "./types.js";

// What the two commands print, in their own formats: see test/fixtures/docker-builders/README.md for where each
// comes from (the classic store's DriverStatus was captured from dockerd 20.10 here; the buildx inspect texts
// follow buildx's commands/inspect.go layout, since no buildx plugin runs on this machine).
const fixture = (name: string) =>
  readFileSync(new URL(`../../test/fixtures/docker-builders/${name}`, import.meta.url), "utf8");
const inspectDefault = fixture("buildx-inspect-default.txt");
const inspectContainer = fixture("buildx-inspect-docker-container.txt");
const infoClassic = fixture("docker-info-driverstatus-overlay2.json");
const infoContainerd = fixture("docker-info-driverstatus-containerd.json");
/** The docker-container builder's text with another driver on its `Driver:` line (same layout, same alignment). */
const inspectWithDriver = (driver: string) =>
  inspectContainer.replace(/^Driver:( +)docker-container$/m, `Driver:$1${driver}`);

function builderFrom(inspect: string, info: string): BuildxBuilder {
  const driver = parseBuildxDriver(inspect);
  if (!driver) throw new Error("no driver in the fixture");
  return { driver, containerdStore: usesContainerdStore(info) };
}

const request: BuildRequest = {
  context: "/src/app",
  dockerfile: "/tmp/b/Dockerfile",
  tag: "registry.example.com/team/app:1.0",
  network: "host",
  iidFile: "/tmp/b/iid",
};
const both = { ...request, platform: "linux/amd64,linux/arm64" };

/** The one line a user gets for a refusal (message and hint), or undefined when the call does not throw. */
function refusal(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    return formatUserError(error);
  }
  return undefined;
}

const buildx = (builder: BuildxBuilder | undefined) =>
  dockerEngine({ builder: "buildx", server: "27.3.1", ...(builder ? { buildx: builder } : {}) });

describe("reading the builder", () => {
  it("takes the driver from the builder's Driver line, not from the node's Driver Options", () => {
    expect(parseBuildxDriver(inspectDefault)).toBe("docker");
    expect(parseBuildxDriver(inspectContainer)).toBe("docker-container");
    expect(parseBuildxDriver(inspectWithDriver("kubernetes"))).toBe("kubernetes");
    expect(parseBuildxDriver(inspectWithDriver("remote"))).toBe("remote");
    // Only the node section left: no builder Driver line to read.
    expect(parseBuildxDriver(inspectContainer.slice(inspectContainer.indexOf("Nodes:")))).toBeUndefined();
  });

  it("sees the containerd image store in DriverStatus, and the classic overlay2 store as not it", () => {
    expect(usesContainerdStore(infoContainerd)).toBe(true);
    expect(usesContainerdStore(infoClassic)).toBe(false);
    expect(usesContainerdStore("not json")).toBe(false);
  });
});

describe("where buildx puts the result", () => {
  const dockerClassic = builderFrom(inspectDefault, infoClassic);
  const dockerContainerd = builderFrom(inspectDefault, infoContainerd);
  const containerClassic = builderFrom(inspectContainer, infoClassic);
  const containerContainerd = builderFrom(inspectContainer, infoContainerd);

  it("loads one platform into the daemon on every builder, with the same arguments as before", () => {
    const expected = [
      "buildx",
      "build",
      "--load",
      "--progress",
      "plain",
      "--file",
      "/tmp/b/Dockerfile",
      "--tag",
      "registry.example.com/team/app:1.0",
      "--platform",
      "linux/arm64",
      "--network",
      "host",
      "--iidfile",
      "/tmp/b/iid",
      "/src/app",
    ];
    for (const builder of [undefined, dockerClassic, dockerContainerd, containerClassic, containerContainerd])
      expect(buildx(builder).buildCommand({ ...request, platform: "linux/arm64" }).args).toEqual(expected);
  });

  it("loads several platforms where the daemon keeps images in the containerd store, whatever the driver", () => {
    for (const builder of [dockerContainerd, containerContainerd]) {
      const { args } = buildx(builder).buildCommand(both);
      expect(args.slice(0, 3)).toEqual(["buildx", "build", "--load"]);
      expect(args).toContain("linux/amd64,linux/arm64");
    }
  });

  it("refuses several platforms on the docker driver with the classic store before building, in one line naming every way through", () => {
    const engine = buildx(dockerClassic);
    const line = refusal(() => engine.checkDestination(both));
    expect(line).toBe(refusal(() => engine.buildCommand(both)));
    expect(line).toBe(
      "buildx's builder uses the docker driver, which cannot build several platforms (linux/amd64, linux/arm64) on a daemon with the classic image store " +
        '(enable the containerd image store ("features": {"containerd-snapshotter": true} in /etc/docker/daemon.json, then restart dockerd) to build and load them here; ' +
        "or create a docker-container builder (docker buildx create --use) and push to a registry (--push REF) or write an OCI archive (--output FILE); " +
        "or build one platform per run (--platform linux/amd64))",
    );
    expect(line).not.toContain("\n");
  });

  it("refuses to load several platforms from a docker-container, kubernetes or remote builder into the classic store, naming --push, --output and the containerd store", () => {
    for (const driver of ["docker-container", "kubernetes", "remote"]) {
      const builder = builderFrom(inspectWithDriver(driver), infoClassic);
      const line = refusal(() => buildx(builder).checkDestination(both));
      expect(line).toBe(
        `buildx's ${driver} builder cannot load several platforms (linux/amd64, linux/arm64) into this daemon's classic image store, which holds no image index ` +
          '(push them to a registry (--push REF), write an OCI archive (--output FILE), or enable the containerd image store ("features": {"containerd-snapshotter": true} in /etc/docker/daemon.json, then restart dockerd) so they load)',
      );
    }
  });

  it("pushes instead of loading when asked, from any builder that can build the platforms", () => {
    const pushed = { ...both, destination: { push: true as const } };
    for (const builder of [containerClassic, containerContainerd, dockerContainerd]) {
      const { args } = buildx(builder).buildCommand(pushed);
      expect(args.slice(0, 3)).toEqual(["buildx", "build", "--push"]);
      expect(args).not.toContain("--load");
      expect(args.slice(args.indexOf("--tag"), args.indexOf("--tag") + 2)).toEqual([
        "--tag",
        "registry.example.com/team/app:1.0",
      ]);
    }
    // The docker driver pushes one platform from the classic store (its moby exporter pushes), but cannot build two.
    const one = { ...request, destination: { push: true as const } };
    expect(buildx(dockerClassic).buildCommand(one).args.slice(0, 3)).toEqual(["buildx", "build", "--push"]);
    expect(refusal(() => buildx(dockerClassic).checkDestination(pushed))).toMatch(
      /^buildx's builder uses the docker driver, which cannot build several platforms .*\(create a docker-container builder \(docker buildx create --use\), or enable the containerd image store/,
    );
  });

  it("writes an OCI archive for several platforms and a docker-archive for one, where the builder has those exporters", () => {
    const archived = { ...both, destination: { archive: "/out/app.tar" } };
    for (const builder of [containerClassic, containerContainerd, dockerContainerd]) {
      const { args } = buildx(builder).buildCommand(archived);
      expect(args.slice(0, 4)).toEqual(["buildx", "build", "--output", "type=oci,dest=/out/app.tar"]);
      expect(args).not.toContain("--load");
    }
    const one = { ...request, destination: { archive: "/out/app.tar" } };
    expect(buildx(containerClassic).buildCommand(one).args.slice(2, 4)).toEqual([
      "--output",
      "type=docker,dest=/out/app.tar",
    ]);
    // buildx's docker driver has neither exporter without containerd's snapshotter, even for one platform.
    for (const r of [one, archived])
      expect(refusal(() => buildx(dockerClassic).checkDestination(r))).toMatch(
        /^buildx's builder uses the docker driver, which writes no archive \(--output\) on a daemon with the classic image store \(create a docker-container builder \(docker buildx create --use\), .*push to a registry instead \(--push REF\)\)$/,
      );
  });

  it("leaves the choice to buildx when the builder could not be inspected", () => {
    expect(buildxExportArgs(both, undefined)).toEqual(["--load"]);
    expect(buildxExportArgs({ ...both, destination: { archive: "/o.tar" } }, undefined)).toEqual([
      "--output",
      "type=oci,dest=/o.tar",
    ]);
  });

  it("refuses --push and --output where the build cannot write them: the classic docker build, buildah, podman", () => {
    const pushed = { ...request, destination: { push: true as const } };
    for (const builder of ["buildkit", "legacy"] as const)
      expect(refusal(() => dockerEngine({ builder, server: "20.10.24" }).checkDestination(pushed))).toMatch(
        /^--push and --output need docker buildx, .*\(install docker-buildx, or build without them and then `docker push` or `docker save` the image\)$/,
      );
    const buildah = buildahEngine(buildahDefaults(0));
    expect(refusal(() => buildah.buildCommand({ ...both, destination: { archive: "/o.tar" } }))).toBe(
      "--push and --output need docker buildx; buildah keeps the image in its own storage (build without them, then `buildah manifest push --all TAG docker://REF` (or oci-archive:FILE))",
    );
    expect(refusal(() => podmanEngine().checkDestination(pushed))).toMatch(
      /`podman push TAG docker:\/\/REF`/,
    );
    // Without a destination, nothing changes for them.
    expect(refusal(() => buildah.checkDestination(both))).toBeUndefined();
  });
});
