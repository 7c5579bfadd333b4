// CPL015: a runtime stage that lacks the shared libraries the copied packages link against.
import type { From } from "dockerfile-ast";
import { DEFAULT_PLATFORM, type Platform, parsePlatform } from "../../project/platform.js";
import { buildNeed, installedIn, type Selection } from "../../project/selection.js";
import { aptCall, isFullPythonImage } from "../facts.js";
import { chain, copies, runs, type Stage } from "../model.js";
import type { Rule } from "../types.js";

/** `libpq5` is also present when `libpq-dev` is installed (it depends on it). */
function provided(lib: string, installed: Set<string>): boolean {
  if (installed.has(lib)) return true;
  const stem = lib.replace(/[\d.]+(t64)?$/, "");
  return installed.has(`${stem}-dev`) || installed.has(`${lib}-dev`);
}

/** The platform a stage builds for: its `--platform` when literal, glibc unless the image is Alpine. */
function platformOf(stage: Stage): Platform {
  const flag = (stage.from as From).getPlatformFlag?.()?.getValue() ?? "";
  let platform = DEFAULT_PLATFORM;
  if (flag && !flag.includes("$"))
    try {
      platform = parsePlatform(flag);
    } catch {
      // An unknown platform: wheels for amd64 are the best guess, as without the flag.
    }
  return /alpine/.test(stage.image) ? { ...platform, libc: "musl" } : platform;
}

export const rule: Rule = {
  meta: {
    id: "CPL015",
    name: "runtime-libraries-missing",
    defaultSeverity: "error",
    description: "The runtime stage lacks shared libraries that the copied packages link against",
    fixable: false,
    needsProject: true,
  },
  check({ model, project, report }) {
    const target = model.target;
    if (!target || !project?.nativeRuntime.length) return;
    const stages = chain(target);
    if (isFullPythonImage(stages[0]?.image ?? "")) return;
    const fromOther = copies(stages.flatMap((s) => s.steps)).filter((c) => c.fromStage);
    if (!fromOther.length) return;
    const root = stages[0];
    if (!root) return;
    const minor = /python:3\.(\d+)/.exec(root.image)?.[1];
    const selection: Selection = {
      ...project.production,
      python: minor === undefined ? undefined : `3.${minor}`,
      platform: platformOf(root),
    };
    const installed = new Set<string>();
    for (const step of runs(stages.flatMap((s) => s.steps)))
      for (const command of step.commands) {
        const apt = aptCall(command);
        if (apt?.subcommand === "install") for (const p of apt.packages) installed.add(p);
      }
    const missing: string[] = [];
    const who: string[] = [];
    for (const pkg of project.nativeRuntime) {
      if (!installedIn(pkg.locked, selection)) continue;
      const compiled = pkg.runtimeWithWheel || buildNeed(pkg.locked, selection).kind === "compile";
      if (!compiled) continue;
      const bundled = pkg.bundledBy.some(
        (other) => installedIn(other, selection) && buildNeed(other, selection).kind !== "compile",
      );
      if (bundled && buildNeed(pkg.locked, selection).kind !== "compile") continue;
      const absent = pkg.runtime.filter((lib) => !provided(lib, installed));
      if (!absent.length) continue;
      missing.push(...absent.filter((a) => !missing.includes(a)));
      who.push(`${pkg.name} ${pkg.version} (${absent.join(", ")})`);
    }
    if (!missing.length) return;
    const copy = fromOther[0];
    if (!copy) return;
    report({
      range: copy.instruction.getRange(),
      message: `packages copied from stage ${copy.fromStage?.name ?? copy.from} link against libraries this stage does not install: ${who.join("; ")}; the import fails at run time with "cannot open shared object file"; apt-get install ${missing.join(" ")} in the runtime stage`,
    });
  },
};
