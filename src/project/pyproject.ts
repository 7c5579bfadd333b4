// pyproject.toml in the shapes Poetry reads: 1.x `[tool.poetry]`, 2.x PEP 621 `[project]` with Poetry extras, PEP 735 groups.
import { posix } from "node:path";
import { quote, UserError } from "../errors.js";
import { readCoupletConfig } from "./couplet-config.js";
import type { DirectDependency, GroupRoots } from "./groups.js";
import { normalizeName, parseRequirement } from "./names.js";
import { get, setOwn, type Table, type TomlDoc } from "./toml.js";
import type { DependencyGroup, GroupDeclaration, Project, Script } from "./types.js";
import { checkContextPath, checkName, type Problem } from "./values.js";

/** What pyproject.toml alone says; analyze() adds the lock and the file system facts. */
export type PyprojectInfo = Omit<
  Project,
  | "dir"
  | "pyprojectPath"
  | "lock"
  | "lockFresh"
  | "hasDockerignore"
  | "sourcePaths"
  | "app"
  | "pathDependencies"
> & {
  /** Source paths from `packages`, or undefined to use the default layout of `moduleName` */
  packages: string[] | undefined;
  /** Python module name of the root package (poetry-core: normalized name with - as _) */
  moduleName: string;
  /** Each group's direct dependencies with requested extras, for deriving groups of lock 2.0 packages */
  groupRoots: GroupRoots[];
};

const POETRY_BACKENDS = ["poetry.core.masonry.api", "poetry.masonry.api"];

export function isPoetryProject(root: Table): boolean {
  const tool = get(root, "tool");
  if (tool && typeof tool === "object" && get(tool as Table, "poetry") !== undefined) return true;
  const build = get(root, "build-system");
  const backend = build && typeof build === "object" ? get(build as Table, "build-backend") : undefined;
  return typeof backend === "string" && POETRY_BACKENDS.includes(backend);
}

export function readPyproject(doc: TomlDoc, fallbackName: string): PyprojectInfo {
  const root = doc.root;
  if (!isPoetryProject(root))
    throw new UserError("not a Poetry project: no [tool.poetry] table and no poetry-core build-backend", {
      location: { file: doc.file },
      hint: "couplet reads projects managed by Poetry",
    });
  const tool = doc.table(get(root, "tool"), "tool") ?? {};
  const poetry = doc.table(get(tool, "poetry"), "tool.poetry") ?? {};
  const project = doc.table(get(root, "project"), "project");
  const metadataFormat = project ? "project" : "tool.poetry";
  const meta = project ?? poetry;
  const metaPrefix = project ? "project" : "tool.poetry";

  const packageMode = doc.boolean(get(poetry, "package-mode"), "tool.poetry.package-mode") ?? true;
  const declaredName =
    doc.string(get(meta, "name"), `${metaPrefix}.name`) ??
    doc.string(get(poetry, "name"), "tool.poetry.name");
  if (declaredName === undefined && packageMode)
    doc.fail(
      metaPrefix,
      `${metaPrefix}.name is missing`,
      "a package needs a name (or set package-mode = false)",
    );
  if (declaredName !== undefined) doc.check(declaredName, `${metaPrefix}.name`, checkName);
  const name = declaredName ?? fallbackName;
  const version =
    doc.string(get(meta, "version"), `${metaPrefix}.version`) ??
    doc.string(get(poetry, "version"), "tool.poetry.version");
  const description =
    doc.string(get(meta, "description"), `${metaPrefix}.description`) ??
    doc.string(get(poetry, "description"), "tool.poetry.description");

  const poetryDeps = doc.table(get(poetry, "dependencies"), "tool.poetry.dependencies") ?? {};
  const python = readPython(doc, project, poetryDeps);

  // Main group: PEP 621 dependencies when given, else [tool.poetry.dependencies] (Poetry 1.x, or 2.x with
  // `dynamic = ["dependencies"]`); optional dependencies belong to main too, pulled by extras.
  const projectDeps = project ? doc.strings(get(project, "dependencies"), "project.dependencies") : undefined;
  const optionalDeps = project
    ? (doc.table(get(project, "optional-dependencies"), "project.optional-dependencies") ?? {})
    : {};
  const mainFromProject = projectDeps !== undefined && projectDeps.length > 0;
  const main: DirectDependency[] = mainFromProject
    ? requirements(doc, projectDeps, "project.dependencies")
    : poetryTable(doc, poetryDeps, "tool.poetry.dependencies");
  const mainDeclaredIn: GroupDeclaration[] = [
    mainFromProject ? "project.dependencies" : "tool.poetry.dependencies",
  ];
  if (Object.keys(optionalDeps).length > 0) mainDeclaredIn.push("project.optional-dependencies");
  const extras: Record<string, string[]> = {};
  for (const [extra, specs] of Object.entries(optionalDeps)) {
    const deps = requirements(
      doc,
      doc.strings(specs, `project.optional-dependencies.${extra}`) ?? [],
      "project.optional-dependencies",
    );
    setOwn(
      extras,
      extra,
      deps.map((d) => d.name),
    );
    main.push(...deps);
  }
  const poetryExtras = doc.table(get(poetry, "extras"), "tool.poetry.extras") ?? {};
  for (const [extra, names] of Object.entries(poetryExtras))
    setOwn(extras, extra, (doc.strings(names, `tool.poetry.extras.${extra}`) ?? []).map(normalizeName));

  const groupRoots: GroupRoots[] = [{ name: "main", dependencies: main }];
  const groups: DependencyGroup[] = [
    { name: "main", optional: false, declaredIn: mainDeclaredIn, dependencies: unique(main) },
  ];
  const addGroup = (
    groupName: string,
    optional: boolean,
    deps: DirectDependency[],
    declaredIn: GroupDeclaration,
    where: string,
  ) => {
    // Group names reach `poetry install --only/--with` in the Dockerfile.
    doc.check(groupName, where, checkName, "the group name");
    const existing = groupRoots.find((g) => g.name === groupName);
    const group = groups.find((g) => g.name === groupName);
    if (existing && group) {
      existing.dependencies.push(...deps);
      group.dependencies = unique(existing.dependencies);
      group.optional ||= optional;
      if (!group.declaredIn.includes(declaredIn)) group.declaredIn.push(declaredIn);
    } else {
      groupRoots.push({ name: groupName, dependencies: [...deps] });
      groups.push({ name: groupName, optional, declaredIn: [declaredIn], dependencies: unique(deps) });
    }
  };
  const legacyDev = doc.table(get(poetry, "dev-dependencies"), "tool.poetry.dev-dependencies");
  if (legacyDev)
    addGroup(
      "dev",
      false,
      poetryTable(doc, legacyDev, "tool.poetry.dev-dependencies"),
      "tool.poetry.dev-dependencies",
      "tool.poetry.dev-dependencies",
    );
  const poetryGroups = doc.table(get(poetry, "group"), "tool.poetry.group") ?? {};
  for (const [groupName, raw] of Object.entries(poetryGroups)) {
    const prefix = `tool.poetry.group.${groupName}`;
    const group = doc.table(raw, prefix) ?? {};
    const optional = doc.boolean(get(group, "optional"), `${prefix}.optional`) ?? false;
    const deps = doc.table(get(group, "dependencies"), `${prefix}.dependencies`) ?? {};
    addGroup(
      groupName,
      optional,
      poetryTable(doc, deps, `${prefix}.dependencies`),
      "tool.poetry.group",
      prefix,
    );
  }
  // PEP 735 [dependency-groups] (Poetry 2.2+); `optional` for them still lives in [tool.poetry.group.X].
  const pep735 = doc.table(get(root, "dependency-groups"), "dependency-groups") ?? {};
  const pep735Specs = resolveIncludeGroups(doc, pep735);
  for (const groupName of Object.keys(pep735))
    addGroup(
      groupName,
      false,
      requirements(doc, pep735Specs(groupName), `dependency-groups.${groupName}`),
      "dependency-groups",
      `dependency-groups.${groupName}`,
    );

  return {
    name,
    version,
    description,
    authors: readAuthors(doc, get(meta, "authors"), `${metaPrefix}.authors`),
    license: readLicense(doc, get(meta, "license"), `${metaPrefix}.license`),
    urls: readUrls(doc, project, poetry),
    metadataFormat,
    packageMode,
    readme: readReadme(doc, project, poetry),
    licenseFiles: readLicenseFiles(doc, project),
    packages: readPackages(doc, poetry),
    moduleName: normalizeName(name).replace(/-/g, "_"),
    python,
    groups,
    groupRoots,
    extras,
    scripts: readScripts(doc, project, poetry),
    plugins: readPlugins(doc, project, poetry),
    couplet: readCoupletConfig(doc, get(tool, "couplet")),
  };
}

/**
 * PEP 735 `{include-group = "other"}` entries: each group's requirements with its includes expanded,
 * cycles refused. Each group is expanded once (memoized, duplicates dropped) with an explicit stack, so
 * a group included twice at every level stays linear and a chain thousands long cannot overflow the stack.
 */
function resolveIncludeGroups(doc: TomlDoc, pep735: Table): (group: string) => string[] {
  const done = new Map<string, string[]>();
  const entries = (groupName: string, from: string | undefined): unknown[] => {
    const where = `dependency-groups.${groupName}`;
    const items = Object.hasOwn(pep735, groupName) ? doc.array(get(pep735, groupName), where) : undefined;
    if (items === undefined)
      doc.fail("dependency-groups", `${from ?? groupName} includes unknown group ${quote(groupName)}`);
    return items;
  };
  return (start: string): string[] => {
    const cached = done.get(start);
    if (cached) return cached;
    interface Frame {
      name: string;
      items: unknown[];
      next: number;
      out: Set<string>;
    }
    const stack: Frame[] = [{ name: start, items: entries(start, undefined), next: 0, out: new Set() }];
    const active = new Set([start]);
    for (;;) {
      const frame = stack.at(-1) as Frame;
      if (frame.next >= frame.items.length) {
        const specs = [...frame.out];
        done.set(frame.name, specs);
        active.delete(frame.name);
        stack.pop();
        const parent = stack.at(-1);
        if (!parent) return specs;
        for (const spec of specs) parent.out.add(spec);
        continue;
      }
      const item = frame.items[frame.next++];
      if (typeof item === "string") {
        frame.out.add(item);
        continue;
      }
      const where = `dependency-groups.${frame.name}`;
      const include = doc.string(
        get(doc.table(item, where) ?? {}, "include-group"),
        `${where}.include-group`,
      );
      if (include === undefined)
        doc.fail("dependency-groups", `${where}: an entry must be a requirement or {include-group = ...}`);
      const known = done.get(include);
      if (known) {
        for (const spec of known) frame.out.add(spec);
        continue;
      }
      if (active.has(include)) {
        const trail = stack.map((f) => f.name);
        const loop = trail.slice(trail.indexOf(include));
        doc.fail(
          "dependency-groups",
          `dependency-groups.${include} includes itself (${[...loop, include].map(quote).join(" -> ")})`,
        );
      }
      stack.push({ name: include, items: entries(include, frame.name), next: 0, out: new Set() });
      active.add(include);
    }
  };
}

function unique(deps: DirectDependency[]): string[] {
  return [...new Set(deps.map((d) => d.name))];
}

function readPython(doc: TomlDoc, project: Table | undefined, poetryDeps: Table): Project["python"] {
  // [tool.poetry.dependencies] python narrows requires-python for locking, so it decides what the lock is valid for.
  const poetryPython = get(poetryDeps, "python");
  if (poetryPython !== undefined) {
    const source = "tool.poetry.dependencies.python";
    const constraint = doc.string(poetryPython, source);
    return { constraint: constraint as string, source, location: doc.locate(source) };
  }
  const requires = project
    ? doc.string(get(project, "requires-python"), "project.requires-python")
    : undefined;
  if (requires !== undefined)
    return {
      constraint: requires,
      source: "project.requires-python",
      location: doc.locate("project.requires-python"),
    };
  return { constraint: "*", source: "none declared (any Python)", location: { file: doc.file } };
}

function requirements(doc: TomlDoc, specs: string[], where: string): DirectDependency[] {
  return specs.map((spec) => {
    const req = parseRequirement(spec);
    if (!req) doc.fail(where, `${where}: "${spec}" is not a valid requirement`);
    return req;
  });
}

/** `name = "^1.0"`, `name = {version, extras, optional, ...}` or a list of those (one per marker). */
function poetryTable(doc: TomlDoc, table: Table, where: string): DirectDependency[] {
  const out: DirectDependency[] = [];
  for (const [rawName, spec] of Object.entries(table)) {
    if (rawName.toLowerCase() === "python") continue;
    const extras = new Set<string>();
    for (const one of Array.isArray(spec) ? spec : [spec]) {
      if (typeof one === "string") continue;
      const t = doc.table(one, `${where}.${rawName}`);
      for (const e of doc.strings(get(t ?? {}, "extras"), `${where}.${rawName}.extras`) ?? [])
        extras.add(normalizeName(e));
    }
    out.push({ name: normalizeName(rawName), extras: [...extras] });
  }
  return out;
}

function readAuthors(doc: TomlDoc, value: unknown, where: string): string[] {
  const list = doc.array(value, where) ?? [];
  return list.map((author) => {
    if (typeof author === "string") return author;
    const t = doc.table(author, where) ?? {};
    const name = doc.string(get(t, "name"), `${where}.name`);
    const email = doc.string(get(t, "email"), `${where}.email`);
    return [name, email ? `<${email}>` : undefined].filter(Boolean).join(" ");
  });
}

function readLicense(doc: TomlDoc, value: unknown, where: string): string | undefined {
  if (value === undefined || typeof value === "string") return value;
  const t = doc.table(value, where) ?? {};
  // PEP 621's {text = ...} names the license; {file = ...} only points at its text.
  return doc.string(get(t, "text"), `${where}.text`);
}

function readUrls(doc: TomlDoc, project: Table | undefined, poetry: Table): Project["urls"] {
  const urls: Project["urls"] = {};
  for (const key of ["homepage", "repository", "documentation"] as const) {
    const value = doc.string(get(poetry, key), `tool.poetry.${key}`);
    if (value !== undefined) urls[key] = value;
  }
  const projectUrls = project ? (doc.table(get(project, "urls"), "project.urls") ?? {}) : {};
  const aliases: Record<string, keyof Project["urls"]> = {
    homepage: "homepage",
    home: "homepage",
    repository: "repository",
    source: "repository",
    "source-code": "repository",
    documentation: "documentation",
    docs: "documentation",
  };
  for (const [label, url] of Object.entries(projectUrls)) {
    const key = get(aliases, label.toLowerCase().replace(/[\s_]+/g, "-")) as
      | keyof Project["urls"]
      | undefined;
    const text = doc.string(url, `project.urls.${label}`);
    if (key && text !== undefined && urls[key] === undefined) urls[key] = text;
  }
  return urls;
}

/**
 * License files the root install needs: poetry-core reads `license = {file = ...}` and each `license-files`
 * entry when it builds the root package, and fails ("license file ... not found") when one is missing
 * (seen on commitizen). Glob patterns in `license-files` are left to `[tool.couplet] copy`.
 */
function readLicenseFiles(doc: TomlDoc, project: Table | undefined): string[] {
  if (!project) return [];
  const files: string[] = [];
  const license = get(project, "license");
  if (license !== undefined && typeof license !== "string") {
    const file = doc.string(get(doc.table(license, "project.license") ?? {}, "file"), "project.license.file");
    if (file !== undefined)
      files.push(doc.check(file, "project.license.file", checkContextPath, "the license file"));
  }
  for (const entry of doc.strings(get(project, "license-files"), "project.license-files") ?? []) {
    if (/[*?[\]]/.test(entry)) continue;
    files.push(doc.check(entry, "project.license-files", checkContextPath, "the license file"));
  }
  return files;
}

/** The readme files the root install needs: copied into the image, so each must be a plain path inside the project. */
function readReadme(doc: TomlDoc, project: Table | undefined, poetry: Table): string[] {
  const where = project && get(project, "readme") !== undefined ? "project.readme" : "tool.poetry.readme";
  return readmeFiles(doc, project, poetry).map((file) =>
    doc.check(file, where, checkContextPath, "the readme"),
  );
}

function readmeFiles(doc: TomlDoc, project: Table | undefined, poetry: Table): string[] {
  const projectReadme = project ? get(project, "readme") : undefined;
  if (typeof projectReadme === "string") return [projectReadme];
  if (projectReadme !== undefined) {
    const t = doc.table(projectReadme, "project.readme") ?? {};
    const file = doc.string(get(t, "file"), "project.readme.file");
    return file === undefined ? [] : [file];
  }
  const poetryReadme = get(poetry, "readme");
  if (typeof poetryReadme === "string") return [poetryReadme];
  return doc.strings(poetryReadme, "tool.poetry.readme") ?? [];
}

/** `include` names a package folder or module; "." (or "a/..") would be the project folder itself. */
function namesPackage(include: string): Problem {
  if (posix.normalize(include).replace(/\/+$/, "") !== ".") return undefined;
  return {
    reason: "is the project folder itself",
    fix: 'name the package\'s folder or module, e.g. include = "mypkg"',
  };
}

function readPackages(doc: TomlDoc, poetry: Table): string[] | undefined {
  const list = doc.array(get(poetry, "packages"), "tool.poetry.packages");
  if (list === undefined) return undefined;
  return list.map((entry) => {
    const t = doc.table(entry, "tool.poetry.packages") ?? {};
    const include = doc.string(get(t, "include"), "tool.poetry.packages.include");
    if (include === undefined) doc.fail("packages", "every entry of tool.poetry.packages needs `include`");
    doc.check(include, "tool.poetry.packages", checkContextPath, "the package include");
    doc.check(include, "tool.poetry.packages", namesPackage, "the package include");
    const from = doc.string(get(t, "from"), "tool.poetry.packages.from");
    if (from === undefined) return include;
    doc.check(from, "tool.poetry.packages", checkContextPath, "the package folder (from)");
    return doc.check(
      `${from.replace(/\/+$/, "")}/${include}`,
      "tool.poetry.packages",
      checkContextPath,
      "the package path",
    );
  });
}

function readScripts(doc: TomlDoc, project: Table | undefined, poetry: Table): Record<string, Script> {
  const scripts: Record<string, Script> = {};
  const projectScripts = project ? (doc.table(get(project, "scripts"), "project.scripts") ?? {}) : {};
  for (const [name, target] of Object.entries(projectScripts))
    setOwn(scripts, name, {
      target: doc.string(target, `project.scripts.${name}`) as string,
      table: "project.scripts",
    });
  const poetryScripts = doc.table(get(poetry, "scripts"), "tool.poetry.scripts") ?? {};
  for (const [name, target] of Object.entries(poetryScripts)) {
    const where = `tool.poetry.scripts.${name}`;
    if (typeof target === "string") setOwn(scripts, name, { target, table: "tool.poetry.scripts" });
    else {
      const t = doc.table(target, where) ?? {};
      // `type = "file"` scripts are copied files, not module:function console scripts.
      const type = doc.string(get(t, "type"), `${where}.type`) ?? "console";
      const reference =
        doc.string(get(t, "reference"), `${where}.reference`) ??
        doc.string(get(t, "callable"), `${where}.callable`);
      if (type === "console" && reference !== undefined)
        setOwn(scripts, name, { target: reference, table: "tool.poetry.scripts" });
    }
  }
  return scripts;
}

function readPlugins(
  doc: TomlDoc,
  project: Table | undefined,
  poetry: Table,
): Record<string, Record<string, string>> {
  const plugins: Record<string, Record<string, string>> = {};
  const add = (table: Table, where: string) => {
    for (const [group, entries] of Object.entries(table)) {
      const t = doc.table(entries, `${where}.${group}`) ?? {};
      const out: Record<string, string> = (get(plugins, group) as Record<string, string> | undefined) ?? {};
      setOwn(plugins, group, out);
      for (const [name, target] of Object.entries(t))
        setOwn(out, name, doc.string(target, `${where}.${group}.${name}`) as string);
    }
  };
  if (project) {
    add(doc.table(get(project, "entry-points"), "project.entry-points") ?? {}, "project.entry-points");
    const gui = doc.table(get(project, "gui-scripts"), "project.gui-scripts");
    if (gui) add({ gui_scripts: gui }, "project");
  }
  add(doc.table(get(poetry, "plugins"), "tool.poetry.plugins") ?? {}, "tool.poetry.plugins");
  return plugins;
}
