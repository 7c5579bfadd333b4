import { describe, expect, it } from "vitest";
import { manifestListSteps, repositoryOf } from "./build.js";
import { buildahDefaults, buildahEngine } from "./buildah.js";
import { dockerEngine } from "./docker.js";
import { podmanEngine } from "./podman.js";

describe("a multi-platform build on buildah and podman never loses the previous list", () => {
  it("takes the repository of a reference, with a registry port, a tag or a digest", () => {
    expect(repositoryOf("couplet/app:latest")).toBe("couplet/app");
    expect(repositoryOf("localhost:5000/team/app:1.0")).toBe("localhost:5000/team/app");
    expect(repositoryOf("localhost:5000/team/app")).toBe("localhost:5000/team/app");
    expect(repositoryOf("app@sha256:0123")).toBe("app");
  });

  for (const engine of [buildahEngine(buildahDefaults(0)), podmanEngine(buildahDefaults(0))]) {
    it(`${engine.name}: builds into a list of its own name; on success frees the tag, moves it, drops the temporary name; on failure removes only the partial list`, () => {
      const steps = manifestListSteps(engine, "localhost:5000/team/app:1.0", "42-abcd");
      const tmp = "localhost:5000/team/app:couplet-partial-42-abcd";
      const g = ["--storage-driver", "overlay"];
      expect(steps).toEqual({
        buildInto: tmp,
        removePrevious: {
          program: engine.name,
          args: [...g, "manifest", "rm", "localhost:5000/team/app:1.0"],
        },
        take: { program: engine.name, args: [...g, "tag", tmp, "localhost:5000/team/app:1.0"] },
        untagTemporary: { program: engine.name, args: [...g, "manifest", "rm", tmp] },
        discard: { program: engine.name, args: [...g, "manifest", "rm", tmp] },
      });
      // The build fills the temporary list; the tag itself is never named to the engine before success.
      const { args } = engine.buildCommand({
        context: "/c",
        dockerfile: "/c/Dockerfile",
        tag: steps.buildInto,
        platform: "linux/amd64,linux/arm64",
      });
      expect(args).toContain(tmp);
      expect(args.join(" ")).not.toContain("app:1.0");
    });
  }

  it("is not used for docker, which has no manifest list in its store to keep", () => {
    expect(() => manifestListSteps(dockerEngine({ builder: "buildx" }), "a:1", "n")).toThrow(/cannot build/);
  });
});
