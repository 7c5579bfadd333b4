// Install a wheel into a venv as the wheel specification says, producing layer entries instead of touching disk.
import { createHash } from "node:crypto";
import path from "node:path";
import yauzl from "yauzl";
import { UserError } from "../errors.js";
import { addBytecode, type BytecodeCompiler } from "./bytecode.js";
import { LayerTree } from "./layer.js";

export interface Venv {
  /** e.g. /app/.venv */
  root: string;
  /** e.g. /app/.venv/lib/python3.11/site-packages */
  sitePackages: string;
  /** "python3.11", for include/site */
  pythonName: string;
}

export interface ZipFile {
  name: string;
  data: Buffer;
  /** Unix mode bits from the zip's external attributes (0 when the archiver recorded none) */
  mode: number;
}

/** Every file of a zip, read with yauzl (which validates names and sizes against the central directory). */
export function readZip(buffer: Buffer, label: string): Promise<ZipFile[]> {
  return new Promise((resolve, reject) => {
    const fail = (error: Error) => reject(new UserError(`${label}: not a valid wheel (${error.message})`));
    yauzl.fromBuffer(
      buffer,
      { lazyEntries: true, decodeStrings: true, validateEntrySizes: true },
      (error, zip) => {
        if (error || !zip) return fail(error ?? new Error("unreadable"));
        const files: ZipFile[] = [];
        zip.on("error", fail);
        zip.on("end", () => resolve(files));
        zip.on("entry", (entry: yauzl.Entry) => {
          if (entry.fileName.endsWith("/")) return zip.readEntry();
          zip.openReadStream(entry, (streamError, stream) => {
            if (streamError || !stream) return fail(streamError ?? new Error("unreadable entry"));
            const chunks: Buffer[] = [];
            stream.on("data", (chunk: Buffer) => chunks.push(chunk));
            stream.on("error", fail);
            stream.on("end", () => {
              files.push({
                name: entry.fileName,
                data: Buffer.concat(chunks),
                mode: (entry.externalFileAttributes >>> 16) & 0o7777,
              });
              zip.readEntry();
            });
          });
        });
        zip.readEntry();
      },
    );
  });
}

export function recordHash(data: Buffer): string {
  return `sha256=${createHash("sha256").update(data).digest("base64url")}`;
}

/** `[section]` → name → value of an entry_points.txt (INI, as importlib.metadata reads it). */
export function parseEntryPoints(text: string): Record<string, Record<string, string>> {
  const sections: Record<string, Record<string, string>> = {};
  let current: Record<string, string> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = sections[(header[1] as string).trim()] ??= {};
      continue;
    }
    const at = line.indexOf("=");
    if (current && at > 0) current[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return sections;
}

/** The launcher pip writes for a console script: import the object, call it, exit with its result. */
export function launcher(interpreter: string, target: string): string | undefined {
  const spec = target.replace(/\[.*\]\s*$/, "").trim();
  const [module, attribute] = spec.split(":").map((part) => part.trim());
  if (!module || !attribute || !/^[\w.]+$/.test(module) || !/^[\w.]+$/.test(attribute)) return undefined;
  const [head] = attribute.split(".");
  return [
    `#!${interpreter}`,
    "# -*- coding: utf-8 -*-",
    "import re",
    "import sys",
    `from ${module} import ${head}`,
    'if __name__ == "__main__":',
    '    sys.argv[0] = re.sub(r"(-script\\.pyw|\\.exe)?$", "", sys.argv[0])',
    `    sys.exit(${attribute}())`,
    "",
  ].join("\n");
}

/** RECORD lines for files installed under the venv, with paths relative to site-packages as pip writes them. */
function recordLine(venv: Venv, file: string, data: Buffer | undefined): string {
  const relative = path.posix.relative(venv.sitePackages, file);
  const quoted = /[",\n]/.test(relative) ? `"${relative.replace(/"/g, '""')}"` : relative;
  return data ? `${quoted},${recordHash(data)},${data.length}` : `${quoted},,`;
}

/** Add the console-script and gui-script launchers of an entry_points.txt to the layer; returns their paths. */
export function addLaunchers(
  tree: LayerTree,
  venv: Venv,
  entryPoints: string,
  label: string,
): Map<string, Buffer> {
  const written = new Map<string, Buffer>();
  const sections = parseEntryPoints(entryPoints);
  for (const group of ["console_scripts", "gui_scripts"]) {
    for (const [name, target] of Object.entries(sections[group] ?? {})) {
      const script = launcher(`${venv.root}/bin/python`, target);
      if (!script) throw new UserError(`${label}: entry point ${name} = ${target} is not module:object`);
      if (name.includes("/") || name.startsWith("."))
        throw new UserError(`${label}: bad script name ${name}`);
      const file = `${venv.root}/bin/${name}`;
      const data = Buffer.from(script);
      tree.file(file, data, 0o755);
      written.set(file, data);
    }
  }
  return written;
}

/**
 * Unpack one wheel into the venv: site-packages, `.data` folders, scripts, launchers, INSTALLER and a new RECORD.
 * With a compiler, also the bytecode of its modules, as pip installs them (see compileInstalled).
 */
export async function installWheel(
  buffer: Buffer,
  filename: string,
  venv: Venv,
  compiler?: BytecodeCompiler,
): Promise<LayerTree> {
  const files = await readZip(buffer, filename);
  const distInfo = files
    .map((file) => /^([^/]+\.dist-info)\/WHEEL$/.exec(file.name)?.[1])
    .find((name): name is string => Boolean(name));
  if (!distInfo) throw new UserError(`${filename}: not a valid wheel (no .dist-info/WHEEL)`);
  const dataDir = `${distInfo.slice(0, -".dist-info".length)}.data`;
  const byName = new Map(files.map((file) => [file.name, file]));

  // The wheel's own RECORD must match its contents: a damaged or altered wheel is refused.
  const record = byName.get(`${distInfo}/RECORD`)?.data.toString("utf8") ?? "";
  for (const line of record.split(/\r?\n/)) {
    const found = /^(.*),sha256=([A-Za-z0-9_-]+),\d*$/.exec(line);
    if (!found) continue;
    const name = (found[1] as string).replace(/^"(.*)"$/, "$1");
    const file = byName.get(name);
    if (file && recordHash(file.data) !== `sha256=${found[2]}`)
      throw new UserError(`${filename}: ${name} does not match the wheel's RECORD`);
  }

  const tree = new LayerTree();
  const installed = new Map<string, Buffer>();
  const headers = `${venv.root}/include/site/${venv.pythonName}/${distInfo.split("-")[0]}`;
  for (const file of files) {
    if (file.name === `${distInfo}/RECORD` || file.name.startsWith(`${distInfo}/RECORD.`)) continue;
    const parts = file.name.split("/");
    if (file.name.startsWith("/") || parts.some((part) => part === ".." || part === ""))
      throw new UserError(`${filename}: unsafe path ${file.name} in the wheel`);
    let target: string;
    let data = file.data;
    let mode = file.mode & 0o111 ? 0o755 : 0o644;
    if (parts[0] === dataDir) {
      const [, scheme, ...rest] = parts;
      const tail = rest.join("/");
      if (!tail) continue;
      if (scheme === "purelib" || scheme === "platlib") target = `${venv.sitePackages}/${tail}`;
      else if (scheme === "scripts") {
        target = `${venv.root}/bin/${tail}`;
        mode = 0o755;
        // `#!python` (or pythonw) means "the interpreter this is installed for".
        const shebang = /^#!python(w)?(\r?\n)/.exec(data.toString("latin1", 0, 16));
        if (shebang)
          data = Buffer.concat([
            Buffer.from(`#!${venv.root}/bin/python`),
            data.subarray(shebang[0].length - (shebang[2] as string).length),
          ]);
      } else if (scheme === "headers") target = `${headers}/${tail}`;
      else if (scheme === "data") target = `${venv.root}/${tail}`;
      else throw new UserError(`${filename}: unknown .data scheme ${scheme}`);
    } else target = `${venv.sitePackages}/${file.name}`;
    tree.file(target, data, mode);
    installed.set(target, data);
  }
  const entryPoints = byName.get(`${distInfo}/entry_points.txt`);
  if (entryPoints)
    for (const [file, data] of addLaunchers(tree, venv, entryPoints.data.toString("utf8"), filename))
      installed.set(file, data);
  const installer = Buffer.from("couplet\n");
  const installerPath = `${venv.sitePackages}/${distInfo}/INSTALLER`;
  tree.file(installerPath, installer);
  installed.set(installerPath, installer);
  const bytecode = compiler ? await compileInstalled(tree, venv, compiler) : [];
  const recordPath = `${venv.sitePackages}/${distInfo}/RECORD`;
  const lines = [...installed, ...bytecode.map((file): [string, undefined] => [file, undefined])]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([file, data]) => recordLine(venv, file, data));
  lines.push(recordLine(venv, recordPath, undefined));
  tree.file(recordPath, `${lines.join("\n")}\n`);
  return tree;
}

/**
 * Bytecode for the wheel's modules as pip compiles them: every .py it put in site-packages (not scripts or
 * data), unchecked-hash as `couplet build` compiles the venv (nobody edits it in the image); a file that
 * does not compile (django-tailwind's cookiecutter templates) is skipped. Returns the .pyc paths, which pip
 * lists in RECORD without a hash or size (a .pyc may be rewritten by the interpreter later).
 */
async function compileInstalled(tree: LayerTree, venv: Venv, compiler: BytecodeCompiler): Promise<string[]> {
  const { added } = await addBytecode(tree, compiler, (file) =>
    file.startsWith(`${venv.sitePackages}/`) ? { checked: false } : undefined,
  );
  return added;
}

export { recordLine };
