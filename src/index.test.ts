import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { dockerArchive, makeTar, sha256 } from "../test/support/image-archive.js";
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

  it("compares two image archives: open, scan, compare", async () => {
    const dir = mkdtempSync(join(tmpdir(), "couplet-api-compare-"));
    try {
      const files = [join(dir, "a.tar"), join(dir, "b.tar")];
      for (const [i, file] of files.entries()) {
        const layer = await makeTar([{ name: "app/data", body: "x".repeat(100 * (i + 1)) }]);
        const config = JSON.stringify({ rootfs: { type: "layers", diff_ids: [`sha256:${sha256(layer)}`] } });
        writeFileSync(file, await dockerArchive([layer], config));
      }
      const [a, b] = await Promise.all(
        files.map(async (file) => couplet.scanForComparison(await couplet.openImageArchive(file))),
      );
      const comparison = couplet.compareImages(a as couplet.ComparedImage, b as couplet.ComparedImage);
      expect(comparison.delta).toBe(100);
      expect(comparison.files.items).toEqual([
        { path: "/app/data", status: "grew", bytesA: 100, bytesB: 200, delta: 100 },
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reports its own version, the one in package.json", () => {
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
    expect(couplet.VERSION).toBe(pkg.version);
  });
});
