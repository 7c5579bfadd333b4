// npm's `prepare`: compile the TypeScript into dist/, first installing the devDependencies when they are absent.
// They are absent when npm installs couplet globally from git, which is how pre-commit installs a
// `language: node` hook (`npm install -g git+file://...`): npm then runs `prepare` in the clone without
// installing its devDependencies (npm/cli#8440), so `tsc` is not there. They are installed here, into the
// clone only (not global: the parent npm's prefix and global settings are dropped), with scripts off.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const tsc = join(root, "node_modules/typescript/bin/tsc");

if (!existsSync(tsc)) {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !/^npm_config_(global|prefix|location)$/i.test(key)),
  );
  const npm = process.env.npm_execpath;
  const args = ["install", "--include=dev", "--ignore-scripts", "--no-save", "--no-audit", "--no-fund"];
  execFileSync(npm ? process.execPath : "npm", npm ? [npm, ...args] : args, { cwd: root, env, stdio: "inherit" });
}
execFileSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { cwd: root, stdio: "inherit" });
