// CPL015: a runtime stage that lacks the shared libraries the copied packages link against.
import { availability } from "../../plan/wheels.js";
import { aptCall, isFullPythonImage } from "../facts.js";
import { chain, copies, runs } from "../model.js";
import type { Rule } from "../types.js";

/** `libpq5` is also present when `libpq-dev` is installed (it depends on it). */
function provided(lib: string, installed: Set<string>): boolean {
  if (installed.has(lib)) return true;
  const stem = lib.replace(/[\d.]+(t64)?$/, "");
  return installed.has(`${stem}-dev`) || installed.has(`${lib}-dev`);
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
    const minor = /python:3\.(\d+)/.exec(stages[0]?.image ?? "")?.[1];
    const installed = new Set<string>();
    for (const step of runs(stages.flatMap((s) => s.steps)))
      for (const command of step.commands) {
        const apt = aptCall(command);
        if (apt?.subcommand === "install") for (const p of apt.packages) installed.add(p);
      }
    const missing: string[] = [];
    const who: string[] = [];
    for (const pkg of project.nativeRuntime) {
      const compiled =
        pkg.runtimeWithWheel ||
        (minor === undefined
          ? availability(pkg.files, 99, "x86_64") === "source-only"
          : availability(pkg.files, Number(minor), "x86_64") !== "wheel");
      if (!compiled) continue;
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
