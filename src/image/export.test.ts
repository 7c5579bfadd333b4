import { describe, expect, it } from "vitest";
import { engineCommands } from "./export.js";

describe("engineCommands", () => {
  it("names overlay storage for buildah and podman as root, like couplet build, so its images are found", () => {
    const buildah = engineCommands("buildah", "app:1", "/tmp/x/image.tar", 0);
    expect(buildah.save).toEqual([
      "buildah",
      "--storage-driver",
      "overlay",
      "push",
      "--quiet",
      "app:1",
      "docker-archive:/tmp/x/image.tar",
    ]);
    const podman = engineCommands("podman", "app:1", "/tmp/x/image.tar", 0);
    expect(podman.exists).toEqual(["podman", "--storage-driver", "overlay", "image", "exists", "app:1"]);
    expect(podman.save).toEqual([
      "podman",
      "--storage-driver",
      "overlay",
      "save",
      "--quiet",
      "-o",
      "/tmp/x/image.tar",
      "app:1",
    ]);
  });

  it("leaves a rootless user's storage configuration alone", () => {
    expect(engineCommands("podman", "app:1", "/f", 1000).exists).toEqual([
      "podman",
      "image",
      "exists",
      "app:1",
    ]);
    expect(engineCommands("buildah", "app:1", "/f", 1000).exists).toEqual([
      "buildah",
      "inspect",
      "--type",
      "image",
      "app:1",
    ]);
  });

  it("asks docker without storage flags", () => {
    expect(engineCommands("docker", "app:1", "/f", 0).save).toEqual(["docker", "save", "-o", "/f", "app:1"]);
  });
});
