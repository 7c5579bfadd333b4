// Bytecode for assembled layers: hash-based .pyc made by a host CPython of the base's minor version.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { access, constants } from "node:fs/promises";
import path from "node:path";
import { UserError } from "../errors.js";
import type { LayerTree } from "./layer.js";

/** A CPython on this machine whose bytecode the base's interpreter loads (same major.minor: same magic number). */
export interface HostPython {
  /** The command found on PATH, e.g. /usr/bin/python3.11 */
  command: string;
  /** Its exact version, e.g. "3.11.7": part of every cache key, as another patch release may emit other bytes */
  version: string;
  /** sys.implementation.cache_tag, e.g. "cpython-311": names the files in __pycache__ */
  cacheTag: string;
  /** Whether string hashing is unsalted in the compiler's processes, which reproducible bytes need before 3.11 */
  fixedHashSeed: boolean;
}

// -s: no user site. Not -I: it implies -E, which would ignore the PYTHONHASHSEED the environment below fixes.
const ISOLATED = ["-s", "-c"];
// Before 3.11, marshal writes a frozenset constant (`x in {"a", "b"}`) in string-hash order, and string hashes
// are salted per process (bpo-37596): only a fixed seed makes the bytes the same on every run. No other PYTHON*
// variable of this machine (PYTHONOPTIMIZE, PYTHONPYCACHEPREFIX, PYTHONPATH) reaches the compiler.
// PATH, HOME and PYENV_* stay: a pyenv shim on PATH finds its interpreter through them.
const ENVIRONMENT: NodeJS.ProcessEnv = {
  ...Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => name === "PATH" || name === "HOME" || name.startsWith("PYENV_"),
    ),
  ),
  PYTHONHASHSEED: "0",
};
// With -c, sys.path[0] is the working folder: dropped before any import, so no file there shadows a module.
const PRELUDE = "import sys; del sys.path[0]\n";

const PROBE = `${PRELUDE}import json, platform
print(json.dumps({"name": sys.implementation.name, "version": platform.python_version(), "minor": list(sys.version_info[:2]), "cacheTag": sys.implementation.cache_tag, "executable": sys.executable, "hashRandomization": sys.flags.hash_randomization}))`;

/**
 * What py_compile writes for a hash-based .pyc (PEP 552), for many files in one process: the magic number,
 * the flags (hash-based, and whether the loader checks the source), the source's hash, the marshalled code.
 * py_compile itself only reads and writes files on disk; this reads sources from stdin and writes .pyc to stdout,
 * so that nothing of this machine's paths reaches the code objects (`co_filename` is the path in the image).
 * A file that does not compile is reported, not fatal: pip skips it the same way (packaged templates).
 */
const COMPILER = `${PRELUDE}import base64, importlib.util, json, marshal, warnings
warnings.simplefilter("ignore")
request = json.load(sys.stdin)
results = []
for item in request["files"]:
    source = base64.b64decode(item["source"])
    try:
        code = compile(source, item["path"], "exec", dont_inherit=True, optimize=request["optimize"])
    except Exception as error:
        results.append({"error": f"{type(error).__name__}: {getattr(error, 'msg', error)}", "line": getattr(error, "lineno", None)})
        continue
    flags = 0b01 | (0b10 if item["checked"] else 0)
    data = importlib.util.MAGIC_NUMBER + flags.to_bytes(4, "little") + importlib.util.source_hash(source) + marshal.dumps(code)
    results.append({"pyc": base64.b64encode(data).decode("ascii")})
json.dump(results, sys.stdout)`;

/**
 * The optimization level `couplet build` compiles at: compileall's default, the interpreter's own (no -O, and
 * the image sets no PYTHONOPTIMIZE), so the runtime looks for `name.cpython-311.pyc`, not `.opt-1`.
 */
export const OPTIMIZE = 0;

function exec(command: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"], env: ENVIRONMENT });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString("utf8"));
      else
        reject(
          new Error(
            `${command} exited ${code}: ${Buffer.concat(err).toString("utf8").trim().split("\n").pop() ?? ""}`,
          ),
        );
    });
    // A child that dies early closes stdin: the close handler above reports why.
    child.stdin.on("error", () => undefined);
    child.stdin.end(input ?? "");
  });
}

/**
 * The first `pythonMAJOR.MINOR` on PATH that is CPython of that version, or undefined. Only the same minor
 * version will do: bytecode's format (its magic number) changes with every minor release.
 */
export async function findHostPython(
  major: number,
  minor: number,
  searchPath = process.env.PATH ?? "",
): Promise<HostPython | undefined> {
  const name = `python${major}.${minor}`;
  for (const dir of searchPath.split(path.delimiter)) {
    if (!dir) continue;
    const command = path.join(dir, name);
    if (
      !(await access(command, constants.X_OK).then(
        () => true,
        () => false,
      ))
    )
      continue;
    const facts = await exec(command, [...ISOLATED, PROBE]).then(
      (text) =>
        JSON.parse(text) as {
          name: string;
          version: string;
          minor: number[];
          cacheTag: string;
          executable: string;
          hashRandomization: number;
        },
      () => undefined,
    );
    if (facts?.name === "cpython" && facts.minor[0] === major && facts.minor[1] === minor)
      // The interpreter itself rather than what PATH named (a pyenv shim re-decides on every call, and costs a start).
      return {
        command: facts.executable || command,
        version: facts.version,
        cacheTag: facts.cacheTag,
        fixedHashSeed: facts.hashRandomization === 0,
      };
  }
  return undefined;
}

/** Where the interpreter looks for a module's bytecode: `dir/__pycache__/name.cpython-311.pyc`. */
export function pycPath(source: string, cacheTag: string): string {
  const dir = path.posix.dirname(source);
  return `${dir}/__pycache__/${path.posix.basename(source, ".py")}.${cacheTag}.pyc`;
}

export interface SourceFile {
  /** The path in the image: becomes the code's co_filename, so tracebacks name /app/..., not this machine */
  path: string;
  source: Buffer;
  /**
   * checked-hash: the loader hashes the source and recompiles on a mismatch (the app's code, which a
   * developer may mount over); unchecked-hash: the .pyc is trusted as it is (a venv nobody edits)
   */
  checked: boolean;
}

export type Compiled = { pyc: string; data: Buffer } | { error: string; line?: number };

export class BytecodeCompiler {
  /** Files compiled and files skipped (not Python) by this run, for its one summary line */
  compiled = 0;
  skipped = 0;
  private readonly batches = new Map<string, Promise<Compiled[]>>();

  constructor(readonly python: HostPython) {}

  /** What decides the bytes this compiler writes, for cache keys. */
  get identity(): string {
    return `cpython ${this.python.version} optimize ${OPTIMIZE}`;
  }

  /**
   * Compile a set of files in one fresh interpreter, in path order, so that each .pyc depends on the set
   * alone (marshal's output can depend on what else the process holds). The same set twice (a pure-Python
   * layer or the project on a second platform) is compiled once.
   */
  compile(files: SourceFile[]): Promise<Compiled[]> {
    const sorted = [...files].sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
    const hash = createHash("sha256");
    for (const file of sorted) hash.update(JSON.stringify([file.path, file.checked])).update(file.source);
    const key = hash.digest("hex");
    let batch = this.batches.get(key);
    if (!batch) {
      batch = this.run(sorted);
      this.batches.set(key, batch);
    }
    return batch.then((results) => {
      const byPath = new Map(sorted.map((file, index) => [file.path, results[index] as Compiled]));
      return files.map((file) => byPath.get(file.path) as Compiled);
    });
  }

  private async run(files: SourceFile[]): Promise<Compiled[]> {
    if (files.length === 0) return [];
    const request = JSON.stringify({
      optimize: OPTIMIZE,
      files: files.map((file) => ({
        path: file.path,
        checked: file.checked,
        source: file.source.toString("base64"),
      })),
    });
    const output = await exec(this.python.command, [...ISOLATED, COMPILER], request).catch((error: Error) => {
      throw new UserError(`compiling bytecode with ${this.python.command} failed: ${error.message}`, {
        hint: "assemble with --no-bytecode to leave bytecode out",
      });
    });
    const results = JSON.parse(output) as ({ pyc: string } | { error: string; line: number | null })[];
    return results.map((result, index) => {
      if ("pyc" in result) {
        this.compiled++;
        return {
          pyc: pycPath((files[index] as SourceFile).path, this.python.cacheTag),
          data: Buffer.from(result.pyc, "base64"),
        };
      }
      this.skipped++;
      return result.line ? { error: result.error, line: result.line } : { error: result.error };
    });
  }
}

/**
 * Compile the layer's files that `select` picks (returning whether each is checked-hash) and add each .pyc
 * beside its source. Returns the .pyc added, and the files that did not compile with why.
 */
export async function addBytecode(
  tree: LayerTree,
  compiler: BytecodeCompiler,
  select: (file: string) => { checked: boolean } | undefined,
): Promise<{ added: string[]; failed: { path: string; error: string; line?: number }[] }> {
  const files: SourceFile[] = [];
  for (const entry of tree.sorted()) {
    if (entry.type !== "file" || !entry.path.endsWith(".py")) continue;
    const chosen = select(entry.path);
    if (chosen)
      files.push({ path: entry.path, source: entry.data ?? Buffer.alloc(0), checked: chosen.checked });
  }
  const results = await compiler.compile(files);
  const added: string[] = [];
  const failed: { path: string; error: string; line?: number }[] = [];
  results.forEach((result, index) => {
    const file = files[index] as SourceFile;
    if ("pyc" in result) {
      tree.file(result.pyc, result.data);
      added.push(result.pyc);
    } else failed.push({ path: file.path, ...result });
  });
  return { added, failed };
}
