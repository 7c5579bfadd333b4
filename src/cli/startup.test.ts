// What the built CLI loads before it works: `couplet inspect` only the image readers (and no ICU collator),
// `couplet --version` no command.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configFor, dockerArchive, makeTar } from "../../test/support/image-archive.js";

const root = new URL("../..", import.meta.url).pathname;
const cli = join(root, "dist/cli/main.js");

// A module-loading hook (node --import) that writes each ES module's URL, and at exit the built-in modules, to a file:
// the child is the real CLI, started as a user starts it.
const HOOKS = `
import { appendFileSync } from "node:fs";
export async function load(url, context, next) {
  appendFileSync(process.env.COUPLET_TEST_LOADED, url + "\\n");
  return next(url, context);
}
`;
const REGISTER = `
import { appendFileSync } from "node:fs";
import { register } from "node:module";
register(new URL("./hooks.mjs", import.meta.url));
// An ICU collator costs 3 MB when built: note it, to check inspect builds none for ASCII paths.
Intl.Collator = new Proxy(Intl.Collator, {
  construct(target, args) {
    appendFileSync(process.env.COUPLET_TEST_LOADED, "intl:Collator\\n");
    return Reflect.construct(target, args);
  },
});
process.on("exit", () => {
  const builtins = process.moduleLoadList.filter((m) => m.startsWith("NativeModule ")).map((m) => "builtin:" + m.slice(13));
  appendFileSync(process.env.COUPLET_TEST_LOADED, builtins.join("\\n") + "\\n");
});
`;

describe("modules the CLI loads", () => {
  let dir: string;
  let image: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "couplet-startup-"));
    writeFileSync(join(dir, "hooks.mjs"), HOOKS);
    writeFileSync(join(dir, "register.mjs"), REGISTER);
    image = join(dir, "image.tar");
    const layer = await makeTar([{ name: "etc/os-release", body: "VERSION_CODENAME=trixie\n" }]);
    writeFileSync(image, await dockerArchive([layer], configFor(1, [{ created_by: "RUN true" }])));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs the CLI with the hook; gives its exit code and what it loaded (paths under the repository made relative). */
  function loaded(...args: string[]): { code: number | null; stderr: string; modules: string[] } {
    const list = join(dir, `loaded-${args.join("-").replace(/\W/g, "_")}.txt`);
    writeFileSync(list, "");
    const result = spawnSync(
      process.execPath,
      ["--import", pathToFileURL(join(dir, "register.mjs")).href, cli, ...args],
      { encoding: "utf8", env: { ...process.env, COUPLET_TEST_LOADED: list } },
    );
    const prefix = pathToFileURL(root).href;
    const modules = readFileSync(list, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((url) => (url.startsWith(prefix) ? url.slice(prefix.length) : url));
    return { code: result.status, stderr: result.stderr, modules };
  }

  it("couplet inspect ARCHIVE loads the image readers and none of the other commands' code", () => {
    const { code, stderr, modules } = loaded("inspect", image, "--format", "json");
    expect(stderr).toBe("");
    expect(code).toBe(0);
    // The hook saw the work being done, so an empty list cannot pass for a lean one.
    expect(modules).toContain("dist/image/inspect.js");
    expect(modules).toContain("dist/cli/commands/inspect.js");
    const elsewhere = modules.filter(
      (m) =>
        /^dist\/(lint|generate|plan|assemble|bench|pipeline|files)\b/.test(m) ||
        (/^dist\/engine\//.test(m) && m !== "dist/engine/types.js") ||
        (/^dist\/project\//.test(m) && m !== "dist/project/names.js") ||
        /^dist\/cli\/commands\/(?!inspect\.js)/.test(m) ||
        /^dist\/cli\/options\.js/.test(m),
    );
    expect(elsewhere).toEqual([]);
    // One image, printed: not the comparison, the exporter, the HTML page or the file writer, nor what they use.
    const unused = modules.filter((m) =>
      /^dist\/image\/(compare|compare-format|compare-html|export|html)\.js$/.test(m),
    );
    expect(unused).toEqual([]);
    expect(modules).not.toContain("builtin:crypto");
    expect(modules).not.toContain("intl:Collator");
    const packages = modules
      .filter((m) => m.includes("/node_modules/") || m.startsWith("node_modules/"))
      .map((m) => m.replace(/^.*node_modules\/((@[^/]+\/)?[^/]+)\/.*$/, "$1"));
    expect([...new Set(packages)].sort()).toEqual(["commander", "fzstd", "valibot"]);
  });

  it("couplet --version loads no command", () => {
    const { code, modules } = loaded("--version");
    expect(code).toBe(0);
    expect(modules.filter((m) => m.startsWith("dist/")).sort()).toEqual([
      "dist/cli/main.js",
      "dist/cli/run.js",
      "dist/errors.js",
      "dist/version.js",
    ]);
  });
});
