// What in the final filesystem should not ship in a production image: caches, toolchains, dev dependencies, tests, bytecode.
import type { FsNode, FsTree } from "./fs-tree.js";
import { type InstalledPackage, installedPackages } from "./packages.js";
import type { ProductionPackages } from "./production.js";

export type FindingKind =
  | "waste"
  | "deleted-folder"
  | "cache"
  | "toolchain"
  | "dev-dependency"
  | "build-tool"
  | "pycache"
  | "tests";

export interface Finding {
  kind: FindingKind;
  path: string;
  bytes: number;
  /** Index of the (last) layer that wrote it */
  layer?: number;
  message: string;
  /** The lint rule that finds the cause in a Dockerfile, where one does (`couplet explain` it) */
  rule?: string;
}

export interface FindingContext {
  tree: FsTree;
  /** RECORD path -> the files it lists, for each dist-info in the final filesystem */
  records: Map<string, string[]>;
  env: Record<string, string>;
  /** From the project the image was built from, when there is one (see productionPackagesFor) */
  production: ProductionPackages | undefined;
  /** How many test folders to name */
  top: number;
}

interface Summary {
  bytes: number;
  files: number;
  layer: number;
}

function summarize(
  tree: FsTree,
  node: FsNode,
  filter: (path: string, node: FsNode) => boolean = () => true,
): Summary {
  const summary: Summary = { bytes: 0, files: 0, layer: node.layer };
  tree.walk(node, (child, at) => {
    if (!filter(at, child)) return false;
    if (child.kind === "file") {
      summary.bytes += child.size;
      summary.files += 1;
      if (child.layer > summary.layer) summary.layer = child.layer;
    }
    return true;
  });
  return summary;
}

const MB = 1_000_000;
export function formatBytes(bytes: number): string {
  if (bytes >= 1_000_000_000) return `${(bytes / 1_000_000_000).toFixed(2)} GB`;
  if (bytes >= MB) return `${(bytes / MB).toFixed(1)} MB`;
  if (bytes >= 1000) return `${(bytes / 1000).toFixed(1)} kB`;
  return `${bytes} B`;
}

function homes(tree: FsTree, env: Record<string, string>): string[] {
  const out = ["/root"];
  const home = tree.get("/home");
  if (home?.children) for (const user of home.children.keys()) out.push(`/home/${user}`);
  if (env.HOME) out.push(env.HOME);
  return [...new Set(out)];
}

function caches(context: FindingContext): Finding[] {
  const { tree, env } = context;
  const findings: Finding[] = [];
  const candidates = new Map<string, string>();
  for (const home of homes(tree, env)) {
    candidates.set(`${home}/.cache/pip`, "pip's download/wheel cache");
    candidates.set(
      `${home}/.cache/pypoetry`,
      "Poetry's cache (downloaded artifacts and its own virtualenvs)",
    );
  }
  if (env.XDG_CACHE_HOME) {
    candidates.set(`${env.XDG_CACHE_HOME}/pip`, "pip's download/wheel cache");
    candidates.set(`${env.XDG_CACHE_HOME}/pypoetry`, "Poetry's cache");
  }
  if (env.PIP_CACHE_DIR) candidates.set(env.PIP_CACHE_DIR, "pip's download/wheel cache (PIP_CACHE_DIR)");
  if (env.POETRY_CACHE_DIR) candidates.set(env.POETRY_CACHE_DIR, "Poetry's cache (POETRY_CACHE_DIR)");
  for (const [at, what] of candidates) {
    const node = tree.get(at);
    if (!node) continue;
    const summary = summarize(tree, node);
    if (summary.bytes > 0)
      findings.push({
        kind: "cache",
        path: at,
        bytes: summary.bytes,
        layer: summary.layer,
        message: `${what}: ${formatBytes(summary.bytes)} in ${summary.files} files (use a cache mount or remove it in the same RUN)`,
        rule: "CPL008",
      });
  }
  const archives = tree.get("/var/cache/apt/archives");
  if (archives) {
    const summary = summarize(tree, archives, (at, node) => node.kind !== "file" || at.endsWith(".deb"));
    if (summary.bytes > 0)
      findings.push({
        kind: "cache",
        path: "/var/cache/apt/archives",
        bytes: summary.bytes,
        layer: summary.layer,
        message: `${summary.files} downloaded .deb files (apt-get clean, or a cache mount)`,
      });
  }
  const lists = tree.get("/var/lib/apt/lists");
  if (lists) {
    const summary = summarize(tree, lists, (at) => !at.endsWith("/lock") && !at.includes("/partial"));
    if (summary.bytes > 0)
      findings.push({
        kind: "cache",
        path: "/var/lib/apt/lists",
        bytes: summary.bytes,
        layer: summary.layer,
        message: "apt package lists (rm -rf /var/lib/apt/lists/* in the same RUN, or a cache mount)",
        rule: "CPL017",
      });
  }
  const aptBin = tree.get("/var/cache/apt");
  if (aptBin?.children) {
    let bytes = 0;
    let layer = 0;
    for (const child of aptBin.children.values())
      if (child.kind === "file" && child.name.endsWith(".bin")) {
        bytes += child.size;
        layer = Math.max(layer, child.layer);
      }
    if (bytes > 0)
      findings.push({
        kind: "cache",
        path: "/var/cache/apt/*.bin",
        bytes,
        layer,
        message: "apt's package cache files",
      });
  }
  return findings;
}

function toolchain(context: FindingContext): Finding[] {
  const { tree } = context;
  const findings: Finding[] = [];
  for (const root of ["/usr/lib/gcc", "/usr/libexec/gcc"]) {
    const node = tree.get(root);
    if (!node) continue;
    tree.walk(node, (child, at) => {
      if (
        child.kind === "directory" &&
        child.children &&
        (child.children.has("cc1") || child.children.has("cc1plus"))
      ) {
        const summary = summarize(tree, child);
        findings.push({
          kind: "toolchain",
          path: at,
          bytes: summary.bytes,
          layer: summary.layer,
          message: `C compiler (cc1${child.children.has("cc1plus") ? ", cc1plus" : ""}): build in a builder stage and copy only the results`,
          rule: "CPL012",
        });
        return false;
      }
      return true;
    });
  }
  for (const root of ["/usr/include", "/usr/local/include"]) {
    const node = tree.get(root);
    if (!node) continue;
    // Python's own headers are expected (and part of the official images); everything else is a -dev package.
    const summary = summarize(tree, node, (at) => !/^\/usr(\/local)?\/include\/python\d/.test(at));
    if (summary.bytes > 0)
      findings.push({
        kind: "toolchain",
        path: root,
        bytes: summary.bytes,
        layer: summary.layer,
        message: `C headers beyond Python's (${summary.files} files from -dev packages)`,
        rule: "CPL012",
      });
  }
  return findings;
}

function venvRoot(tree: FsTree, sitePackages: string): string | undefined {
  const match = /^(.*)\/lib\/python[^/]+\/site-packages$/.exec(sitePackages);
  if (!match) return undefined;
  return tree.get(`${match[1]}/pyvenv.cfg`) ? (match[1] as string) || "/" : undefined;
}

function packages(context: FindingContext, dists: InstalledPackage[]): Finding[] {
  const findings: Finding[] = [];
  const mainPackages = context.production?.main ?? new Set<string>();
  const devOnly = context.production?.developmentOnly ?? new Set<string>();
  for (const dist of dists) {
    if (devOnly.has(dist.name))
      findings.push({
        kind: "dev-dependency",
        path: dist.dir,
        bytes: dist.bytes,
        layer: dist.layer,
        message: `${dist.name} is only in non-production dependency groups of the lock (install with --only main)`,
        rule: "CPL006",
      });
    if (["pip", "setuptools", "wheel"].includes(dist.name) && !mainPackages.has(dist.name)) {
      const venv = venvRoot(context.tree, dist.sitePackages);
      if (venv)
        findings.push({
          kind: "build-tool",
          path: dist.dir,
          bytes: dist.bytes,
          layer: dist.layer,
          message: `${dist.name} left in the app virtualenv ${venv} (create it with --without-pip, or uninstall it)`,
        });
    }
  }
  return findings;
}

/**
 * site-packages folders the application installs into: virtualenvs and /usr/local (the official images' Python).
 * Debian's own /usr/lib/python3/dist-packages belongs to the OS packages and is left alone.
 */
function appSitePackages(tree: FsTree): string[] {
  const out: string[] = [];
  tree.walk(tree.root, (node, at) => {
    if (node.kind !== "directory") return false;
    if (/\/(site|dist)-packages$/.test(at)) {
      if (venvRoot(tree, at) || at.startsWith("/usr/local/")) out.push(at);
      return false;
    }
    return true;
  });
  return out;
}

function testsAndBytecode(context: FindingContext): Finding[] {
  const { tree } = context;
  const findings: Finding[] = [];
  const tests: Finding[] = [];
  for (const site of appSitePackages(tree)) {
    const node = tree.get(site);
    if (!node) continue;
    const version = /python(\d)\.(\d+)/.exec(site);
    const tag = version ? `cpython-${version[1]}${version[2]}` : undefined;
    let pycBytes = 0;
    let pycFiles = 0;
    let staleBytes = 0;
    let staleFiles = 0;
    let sources = 0;
    let layer = 0;
    tree.walk(node, (child, at) => {
      if (child.kind === "directory" && (child.name === "tests" || child.name === "test") && at !== site) {
        const summary = summarize(tree, child);
        if (summary.bytes > 0)
          tests.push({
            kind: "tests",
            path: at,
            bytes: summary.bytes,
            layer: summary.layer,
            message: `test suite shipped inside an installed package (${summary.files} files)`,
          });
        return false;
      }
      if (child.kind === "file" && child.name.endsWith(".py")) sources += 1;
      if (child.kind === "file" && child.name.endsWith(".pyc") && at.includes("/__pycache__/")) {
        if (tag && !child.name.includes(tag)) {
          staleBytes += child.size;
          staleFiles += 1;
        } else {
          pycBytes += child.size;
          pycFiles += 1;
        }
        layer = Math.max(layer, child.layer);
      }
      return true;
    });
    if (staleFiles > 0)
      findings.push({
        kind: "pycache",
        path: site,
        bytes: staleBytes,
        layer,
        message: `${staleFiles} .pyc files compiled for another Python than ${tag} (never used)`,
      });
    if (sources > 0)
      findings.push({
        kind: "pycache",
        path: site,
        bytes: pycBytes,
        layer,
        message:
          pycFiles > 0
            ? `${pycFiles} .pyc files in __pycache__ (${formatBytes(pycBytes)}): compiled ahead, faster start; drop them (PYTHONDONTWRITEBYTECODE=1, no compile step) for a smaller image`
            : "no bytecode: every container start compiles what it imports (compile at build time for faster starts)",
      });
  }
  tests.sort((a, b) => b.bytes - a.bytes);
  const named = tests.slice(0, context.top);
  const rest = tests.slice(context.top);
  const last = named.at(-1);
  if (last && rest.length > 0) {
    const bytes = rest.reduce((sum, t) => sum + t.bytes, 0);
    last.message += `; ${rest.length} smaller test folders hold ${formatBytes(bytes)} more`;
  }
  return [...findings, ...named];
}

export function findingsFor(context: FindingContext): Finding[] {
  const dists = installedPackages(context.tree, context.records);
  return [
    ...caches(context),
    ...toolchain(context),
    ...packages(context, dists),
    ...testsAndBytecode(context),
  ];
}
