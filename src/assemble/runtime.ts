// The layers couplet writes around the packages: the venv skeleton and user, and the project's own code.
import { lstat, readFile, readlink } from "node:fs/promises";
import path from "node:path";
import { listContext } from "../engine/context.js";
import { UserError } from "../errors.js";
import type { Plan } from "../plan/types.js";
import type { Project } from "../project/types.js";
import type { BaseImage } from "./base.js";
import { addBytecode, type BytecodeCompiler } from "./bytecode.js";
import { LayerTree } from "./layer.js";
import { addLaunchers, recordLine, type Venv } from "./wheel.js";

export function venvFor(plan: Plan, base: BaseImage): Venv {
  const pythonName = `python${base.python.major}.${base.python.minor}`;
  return {
    root: plan.layout.venv,
    sitePackages: `${plan.layout.venv}/lib/${pythonName}/site-packages`,
    pythonName,
  };
}

/** Add a line to /etc/passwd or /etc/group text unless the name or id is taken; UserError on a clash. */
function withAccount(text: string, file: string, name: string, id: number, line: string): string {
  for (const existing of text.split("\n")) {
    const [entryName, , entryId] = existing.split(":");
    if (entryName === name && Number(entryId) === id) return text;
    if (entryName === name || (entryId !== undefined && Number(entryId) === id))
      throw new UserError(
        `the base image's ${file} already has ${existing.split(":").slice(0, 3).join(":")}`,
        {
          hint: `it clashes with the runtime user ${name} (${id})`,
        },
      );
  }
  return `${text}${text && !text.endsWith("\n") ? "\n" : ""}${line}\n`;
}

/** The runtime user (as `useradd --create-home --user-group` makes it), the workdir and an empty venv. */
export function setupLayer(plan: Plan, base: BaseImage, venv: Venv): LayerTree {
  const tree = new LayerTree();
  const user = plan.layout.user;
  if (user) {
    tree.file(
      "/etc/passwd",
      withAccount(
        base.passwd,
        "/etc/passwd",
        user.name,
        user.uid,
        `${user.name}:x:${user.uid}:${user.uid}::/home/${user.name}:/bin/sh`,
      ),
    );
    tree.file(
      "/etc/group",
      withAccount(base.group, "/etc/group", user.name, user.uid, `${user.name}:x:${user.uid}:`),
    );
    tree.dir(`/home/${user.name}`, 0o700, user.uid);
  }
  tree.dir(plan.layout.workdir);
  // The folders the app may write, made as the Dockerfile's `install -d -o app` makes them (the code stays root's).
  if (user)
    for (const dir of plan.writable) tree.dir(path.posix.join(plan.layout.workdir, dir), 0o755, user.uid);
  const version = base.python.version;
  tree.file(
    `${venv.root}/pyvenv.cfg`,
    [
      `home = ${path.posix.dirname(base.python.executable)}`,
      "include-system-site-packages = false",
      `version = ${version}`,
      `executable = ${base.python.executable}`,
      `command = ${base.python.executable} -m venv ${venv.root}`,
      "",
    ].join("\n"),
  );
  tree.symlink(`${venv.root}/bin/python`, base.python.executable);
  tree.symlink(`${venv.root}/bin/python3`, "python");
  tree.symlink(`${venv.root}/bin/${venv.pythonName}`, "python");
  tree.dir(`${venv.root}/include`);
  tree.dir(venv.sitePackages);
  // As `python -m venv` does on 64-bit Linux.
  tree.symlink(`${venv.root}/lib64`, "lib");
  return tree;
}

/** METADATA for the root package's dist-info (what importlib.metadata needs to find its version and entry points). */
function metadata(project: Project): string {
  const lines = ["Metadata-Version: 2.1", `Name: ${project.name}`, `Version: ${project.version ?? "0"}`];
  if (project.description) lines.push(`Summary: ${project.description.replace(/\s*\n\s*/g, " ")}`);
  return `${lines.join("\n")}\n`;
}

function entryPointsText(project: Project): string {
  const groups: Record<string, Record<string, string>> = { ...project.plugins };
  const scripts = Object.entries(project.scripts);
  if (scripts.length > 0)
    groups.console_scripts = Object.fromEntries(scripts.map(([name, script]) => [name, script.target]));
  return Object.keys(groups)
    .sort()
    .map((group) => {
      const entries = Object.entries(groups[group] ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
      return `[${group}]\n${entries.map(([name, target]) => `${name} = ${target}`).join("\n")}\n`;
    })
    .join("\n");
}

/**
 * The project as `poetry install` leaves it in couplet's Dockerfile: its sources under the workdir, and (in
 * package mode) an editable install: a .pth naming their folder, a dist-info with entry_points.txt, launchers.
 */
export async function projectLayer(
  project: Project,
  plan: Plan,
  venv: Venv,
  ignoreText: string,
): Promise<LayerTree> {
  const tree = new LayerTree();
  const workdir = plan.layout.workdir;
  const kept = await listContext(project.dir, ignoreText);
  const wanted = plan.project.sourcePaths.map((source) => source.replace(/^\.\/?/, "").replace(/\/$/, ""));
  const inSources = (rel: string) =>
    wanted.some((source) => source === "" || rel === source || rel.startsWith(`${source}/`));
  // The venv lives under the workdir: a project-local .venv must never be copied over it.
  const venvRel = path.posix.relative(workdir, venv.root);
  for (const entry of kept) {
    if (!inSources(entry.path)) continue;
    if (!venvRel.startsWith("..") && (entry.path === venvRel || entry.path.startsWith(`${venvRel}/`)))
      continue;
    const from = path.join(project.dir, entry.path);
    const to = `${workdir}/${entry.path}`;
    if (entry.kind === "directory") tree.dir(to);
    else if (entry.kind === "symlink") tree.symlink(to, await readlink(from));
    else tree.file(to, await readFile(from), (await lstat(from)).mode & 0o111 ? 0o755 : 0o644);
  }
  // A writable folder the code ships too (a data/ of seed files) stays the app user's: this layer's entry for it
  // is the one the image keeps, and the Dockerfile's COPY into the folder install -d made leaves its owner.
  const user = plan.layout.user;
  if (user)
    for (const dir of plan.writable) {
      const folder = path.posix.join(workdir, dir);
      if (tree.has(folder)) tree.dir(folder, 0o755, user.uid);
    }
  for (const source of wanted)
    if (source && !tree.has(`${workdir}/${source}`))
      throw new UserError(`${path.join(project.dir, source)}: the package's sources are missing or ignored`, {
        hint: "check [tool.poetry] packages and .dockerignore",
      });
  if (!plan.project.packageMode) return tree;

  const roots = [
    ...new Set(wanted.map((source) => path.posix.join(workdir, path.posix.dirname(source)))),
  ].sort();
  const distName = project.name.replace(/[-_.]+/g, "_");
  const distInfo = `${venv.sitePackages}/${distName}-${project.version ?? "0"}.dist-info`;
  const installed = new Map<string, Buffer>();
  const put = (file: string, text: string, mode = 0o644) => {
    const data = Buffer.from(text);
    tree.file(file, data, mode);
    installed.set(file, data);
  };
  put(`${venv.sitePackages}/${distName}.pth`, `${roots.join("\n")}\n`);
  put(`${distInfo}/METADATA`, metadata(project));
  put(`${distInfo}/INSTALLER`, "couplet\n");
  const entryPoints = entryPointsText(project);
  if (entryPoints) {
    put(`${distInfo}/entry_points.txt`, entryPoints);
    for (const [file, data] of addLaunchers(tree, venv, entryPoints, project.pyprojectPath))
      installed.set(file, data);
  }
  const lines = [...installed]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([file, data]) => recordLine(venv, file, data));
  lines.push(recordLine(venv, `${distInfo}/RECORD`, undefined));
  tree.file(`${distInfo}/RECORD`, `${lines.join("\n")}\n`);
  return tree;
}

/**
 * The app's own modules, compiled as `couplet build` compiles them: checked-hash (a source mounted over the
 * code in development still wins over its .pyc), and strictly: a syntax error in the app is the user's bug,
 * and the build is the place to hear of it.
 */
export async function compileProject(
  tree: LayerTree,
  compiler: BytecodeCompiler,
  project: Project,
  plan: Plan,
  venv: Venv,
): Promise<void> {
  const workdir = plan.layout.workdir;
  const { failed } = await addBytecode(tree, compiler, (file) =>
    file.startsWith(`${workdir}/`) && !file.startsWith(`${venv.root}/`) ? { checked: true } : undefined,
  );
  const first = failed[0];
  if (first)
    throw new UserError(`the project's code does not compile: ${first.error}`, {
      location: {
        file: path.join(project.dir, path.posix.relative(workdir, first.path)),
        ...(first.line ? { line: first.line } : {}),
      },
      hint: "fix it (couplet build stops on it too), or leave the file out with .dockerignore",
    });
}
