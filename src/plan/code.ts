// Which top-level entries of the project the image needs beyond an installed package: what the code reaches.
import type { Project } from "../project/types.js";
import type { Plan } from "./types.js";

/** Top-level entries a command line names: `mysite.wsgi:application`, `manage.py`, `--module app.main`. */
function namedEntries(project: Project, command: string[]): string[] {
  const names = new Map<string, string>();
  for (const entry of project.app.entries) {
    names.set(entry.name, entry.name);
    if (entry.name.endsWith(".py")) names.set(entry.name.slice(0, -3), entry.name);
  }
  const found = new Set<string>();
  for (const token of command.join(" ").split(/[\s'"=]+/)) {
    const entry = names.get(token) ?? names.get(token.split(":")[0]?.split(".")[0] ?? "");
    if (entry && project.app.entries.find((e) => e.name === entry)?.python) found.add(entry);
  }
  return [...found];
}

/**
 * The entries to copy, and why: everything the command's modules (and Django's manage.py and settings)
 * import or name, followed transitively. Without a starting point, every Python module and folder of
 * data; tests, docs and the Poetry files stay out either way.
 */
export function codeToCopy(
  project: Project,
  entrypoint: Plan["entrypoint"],
  env: Record<string, string>,
): { paths: string[]; reason: string } {
  if (project.couplet.copy.length > 0) return { paths: project.couplet.copy, reason: "[tool.couplet] copy" };
  const entries = project.app.entries;
  const roots = new Set(namedEntries(project, [...(entrypoint?.command ?? []), ...Object.values(env)]));
  const django = project.app.django;
  if (django) {
    if (entries.some((e) => e.name === "manage.py")) roots.add("manage.py");
    for (const module of [django.settings?.module, django.production?.module])
      if (module) for (const name of namedEntries(project, [module])) roots.add(name);
  }
  if (roots.size === 0) {
    // A file without an extension is no data folder: LICENSE and Dockerfile stay out.
    const paths = entries.filter((e) => e.python || e.folder).map((e) => e.name);
    return {
      paths: paths.length > 0 ? paths : ["."],
      reason: "every Python module and data folder (no command names a module to start from)",
    };
  }
  const needed = new Set<string>();
  const queue = [...roots];
  while (queue.length > 0) {
    const name = queue.shift() as string;
    if (needed.has(name)) continue;
    needed.add(name);
    queue.push(...(entries.find((e) => e.name === name)?.references ?? []));
  }
  return {
    paths: [...needed].sort(),
    reason: `what ${[...roots].sort().join(", ")} import${roots.size === 1 ? "s" : ""} or name${roots.size === 1 ? "s" : ""}, followed through the sources`,
  };
}

/**
 * A Django project in package mode (the settings package is the root package) keeps its apps, templates and
 * files beside the package, named by the settings (INSTALLED_APPS, `BASE_DIR / "templates"`): the wheel leaves
 * them out, but the root install is editable, so the folder holding the package is on sys.path and they load
 * from there when copied. The entries the package reaches, followed through the sources, and manage.py.
 */
export function besidePackage(project: Project): { paths: string[]; reason: string } | undefined {
  const entries = project.app.entries;
  if (!project.packageMode || !project.app.django || entries.length === 0) return undefined;
  const packages = project.sourcePaths.filter((path) => !path.includes("/"));
  const needed = new Set<string>();
  const queue = packages.flatMap((name) => entries.find((e) => e.name === name)?.references ?? []);
  while (queue.length > 0) {
    const name = queue.shift() as string;
    if (needed.has(name) || packages.includes(name)) continue;
    needed.add(name);
    queue.push(...(entries.find((e) => e.name === name)?.references ?? []));
  }
  const named = [...needed].sort();
  if (entries.some((e) => e.name === "manage.py") && !needed.has("manage.py")) needed.add("manage.py");
  if (needed.size === 0) return undefined;
  return {
    paths: [...needed].sort(),
    reason: `${named.length ? `${named.join(", ")} named by ${packages.join(", ")} (followed through the sources)` : ""}${named.length && needed.has("manage.py") && !named.includes("manage.py") ? ", and " : ""}${needed.has("manage.py") && !named.includes("manage.py") ? "manage.py for Django's commands" : ""}`,
  };
}
