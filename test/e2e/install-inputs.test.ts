// End to end: the root install finds every file its metadata names (readme in a folder, license file),
// the class of failure seen on commitizen ("license file '/app/LICENSE' not found", readme copied flat).
import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBaseImage } from "../support/base-image.js";
import { build, removeImages, runInImage } from "../support/buildah.js";

const run = promisify(execFile);
const repo = fileURLToPath(new URL("../../", import.meta.url));
const cli = join(repo, "dist/cli/main.js");
const tag = `localhost/couplet-e2e-install-inputs:${process.pid}`;

describe("the root install gets the files its metadata names", () => {
  let work: string;

  beforeAll(async () => {
    await run("npm", ["run", "build"], { cwd: repo });
    work = await mkdtemp(join(tmpdir(), "couplet-install-inputs-"));
    await cp(join(repo, "examples/cli-tool"), work, { recursive: true });
    // readme in a folder and the license as a file: neither is in the lock's content-hash, so the lock stays fresh.
    await mkdir(join(work, "docs"));
    await rename(join(work, "README.md"), join(work, "docs/README.md"));
    await writeFile(join(work, "LICENSE"), "MIT License\n\nCopyright (c) couplet examples\n");
    const pyproject = await readFile(join(work, "pyproject.toml"), "utf8");
    await writeFile(
      join(work, "pyproject.toml"),
      pyproject
        .replace('license = "MIT"', 'license = { file = "LICENSE" }')
        .replace('readme = "README.md"', 'readme = "docs/README.md"'),
    );
  }, 10 * 60_000);

  afterAll(async () => {
    await removeImages(tag);
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("copies docs/README.md to its own path and LICENSE, builds, and the console script runs", async () => {
    const init = await run("node", [cli, "init", work]);
    expect(init.stderr).not.toMatch(/error/i);
    const dockerfile = await readFile(join(work, "Dockerfile"), "utf8");
    expect(dockerfile).toContain("COPY docs/README.md ./docs/README.md");
    expect(dockerfile).toContain("COPY LICENSE ./LICENSE");

    const base = await ensureBaseImage({ debian: "trixie", flavor: "slim" });
    const result = await build({ context: work, tag, buildArgs: { PYTHON_IMAGE: base } });
    expect(result.code, result.log).toBe(0);

    const sample = "a: 1\n";
    const out = await runInImage(tag, [
      "sh",
      "-c",
      `printf '${sample}' > /tmp/s.yaml && yamlstat /tmp/s.yaml`,
    ]);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/document 0 has \d+ nodes/);
    // The installed metadata carries the license text poetry-core read from the copied file.
    const meta = await runInImage(tag, [
      "sh",
      "-c",
      "cat /app/.venv/lib/python3*/site-packages/yamlstat-*.dist-info/METADATA",
    ]);
    expect(meta.stdout).toContain("Copyright (c) couplet examples");
  });
});
