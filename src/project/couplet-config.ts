// `[tool.couplet]` in pyproject.toml: the user's settings for couplet, type-checked with messages that point at them.
import { quote } from "../errors.js";
import { normalizeName } from "./names.js";
import { get, setOwn, type TomlDoc } from "./toml.js";
import type { CoupletConfig, NativeNeed } from "./types.js";
import { checkContextPath, checkDebianPackage, checkImage, checkName } from "./values.js";

const KEYS = ["cmd", "extras", "with", "expose", "copy", "writable", "native", "syntax", "lint"];
const NATIVE_KEYS = ["build", "runtime", "note", "runtime-with-wheel"];

export function readCoupletConfig(doc: TomlDoc, value: unknown): CoupletConfig {
  const t = doc.table(value, "tool.couplet") ?? {};
  for (const key of Object.keys(t))
    if (!KEYS.includes(key))
      doc.fail(
        `tool.couplet.${key}`,
        `unknown setting tool.couplet.${key}`,
        `known settings: ${KEYS.join(", ")}`,
      );
  const cmd = doc.strings(get(t, "cmd"), "tool.couplet.cmd");
  if (cmd !== undefined && cmd.length === 0)
    doc.fail("tool.couplet.cmd", "tool.couplet.cmd must not be empty");
  return {
    cmd,
    extras: (doc.strings(get(t, "extras"), "tool.couplet.extras") ?? []).map((x) =>
      doc.check(x, "tool.couplet.extras", checkName, "the extra"),
    ),
    with: (doc.strings(get(t, "with"), "tool.couplet.with") ?? []).map((x) =>
      doc.check(x, "tool.couplet.with", checkName, "the group"),
    ),
    expose: readPorts(doc, get(t, "expose")),
    native: readNative(doc, get(t, "native")),
    copy: (doc.strings(get(t, "copy"), "tool.couplet.copy") ?? []).map((x) =>
      doc.check(x, "tool.couplet.copy", checkContextPath, "the path"),
    ),
    writable: readWritable(doc, doc.strings(get(t, "writable"), "tool.couplet.writable")),
    syntax: readSyntax(doc, get(t, "syntax")),
    lint: readLint(doc, get(t, "lint")),
  };
}

/**
 * The lint table as written, with the line of each key and each rule id in it, so lint's messages about it can
 * point at the line without reading pyproject.toml again.
 */
function readLint(doc: TomlDoc, value: unknown): CoupletConfig["lint"] {
  const table = plainNumbers(doc.table(value, "tool.couplet.lint"));
  if (table === undefined) return undefined;
  const start = (doc.locate("tool.couplet.lint").line ?? 1) - 1;
  const lines = doc.text.split("\n");
  const needles = new Set<string>();
  const collect = (v: unknown): void => {
    if (typeof v === "string") needles.add(v);
    else if (Array.isArray(v)) v.forEach(collect);
    else if (v !== null && typeof v === "object")
      for (const [key, inner] of Object.entries(v)) {
        needles.add(key);
        collect(inner);
      }
  };
  collect(table);
  const found: Record<string, number> = {};
  for (const needle of needles) {
    const index = lines.findIndex((line, i) => i >= start && line.includes(needle));
    if (index >= 0) setOwn(found, needle, index + 1);
  }
  return { table, lines: found };
}

function readSyntax(doc: TomlDoc, value: unknown): string | boolean | undefined {
  if (value === undefined || typeof value === "boolean") return value;
  if (typeof value === "string") return doc.check(value, "tool.couplet.syntax", checkImage, "the frontend");
  return doc.fail(
    "tool.couplet.syntax",
    "tool.couplet.syntax must be false (no `# syntax=` line) or a frontend image reference",
    'for example syntax = false, or syntax = "registry.example/docker/dockerfile:1"',
  );
}

/** The document is parsed with integers as bigint (for Poetry's hash); raw tables handed on get plain numbers. */
function plainNumbers<T>(value: T): T {
  if (typeof value === "bigint") return Number(value) as T;
  if (Array.isArray(value)) return value.map(plainNumbers) as T;
  if (value !== null && typeof value === "object" && !(value instanceof Date))
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plainNumbers(v)])) as T;
  return value;
}

/** The image's workdir: `writable` folders are relative to it (a path that starts with it is accepted too). */
const WORKDIR = "/app";

function readWritable(doc: TomlDoc, dirs: string[] | undefined): string[] | undefined {
  return dirs?.map((dir) => {
    const relative = dir.startsWith(`${WORKDIR}/`) ? dir.slice(WORKDIR.length + 1) : dir;
    const clean = relative.replace(/\/+$/, "");
    const parts = clean.split("/");
    if (!clean || clean.startsWith("/") || parts.some((part) => part === ".." || part === "." || part === ""))
      doc.fail(
        "tool.couplet.writable",
        `tool.couplet.writable names ${quote(dir)}, which is not a folder inside ${WORKDIR}`,
        `use a relative path such as "data" (it becomes ${WORKDIR}/data)`,
      );
    return doc.check(clean, "tool.couplet.writable", checkContextPath, "the folder");
  });
}

function readPorts(doc: TomlDoc, value: unknown): number[] {
  if (value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.map((port) => {
    const n = typeof port === "bigint" ? Number(port) : port;
    if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > 65535)
      doc.fail(
        "tool.couplet.expose",
        "tool.couplet.expose must be a port number (1-65535) or a list of them",
      );
    return n;
  });
}

function readNative(doc: TomlDoc, value: unknown): Record<string, NativeNeed> {
  const t = doc.table(value, "tool.couplet.native") ?? {};
  const out: Record<string, NativeNeed> = {};
  for (const [name, raw] of Object.entries(t)) {
    const where = `tool.couplet.native.${name}`;
    const entry = doc.table(raw, where) ?? {};
    for (const key of Object.keys(entry))
      if (!NATIVE_KEYS.includes(key))
        doc.fail(where, `unknown setting ${where}.${key}`, `known settings: ${NATIVE_KEYS.join(", ")}`);
    // Each entry lands in `apt-get install` in the Dockerfile.
    const debian = (key: string) =>
      (doc.strings(get(entry, key), `${where}.${key}`) ?? []).map((x) =>
        doc.check(x, `${where}.${key}`, checkDebianPackage, "the package"),
      );
    const need: NativeNeed = { build: debian("build"), runtime: debian("runtime") };
    const note = doc.string(get(entry, "note"), `${where}.note`);
    if (note !== undefined) need.note = note;
    const withWheel = doc.boolean(get(entry, "runtime-with-wheel"), `${where}.runtime-with-wheel`);
    if (withWheel !== undefined) need.runtimeWithWheel = withWheel;
    const line = doc.locate(Object.hasOwn(entry, "runtime") ? `${where}.runtime` : where).line;
    if (line !== undefined) need.declaredAt = line;
    setOwn(out, normalizeName(name), need);
  }
  return out;
}
