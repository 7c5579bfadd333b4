import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as couplet from "./index.js";

const root = new URL("..", import.meta.url).pathname;

describe("the library API", () => {
  it("goes from a project folder to a Dockerfile in three calls", async () => {
    const project = await couplet.analyze(join(root, "examples/cli-tool"));
    const plan = couplet.plan(project, { strategy: "optimal" });
    const { dockerfile, dockerignore } = couplet.render(plan);
    expect(dockerfile).toContain('ENTRYPOINT ["yamlstat"]');
    expect(dockerignore).toContain(".git");
    const dockerignoreFile = { path: ".dockerignore", text: dockerignore };
    expect(couplet.lintText(dockerfile, "Dockerfile", { dockerignore: dockerignoreFile })).toEqual([]);
  });

  it("reports its own version, the one in package.json", () => {
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
    expect(couplet.VERSION).toBe(pkg.version);
  });
});
