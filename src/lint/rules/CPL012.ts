// CPL012: compilers or -dev packages installed in the final image and kept there.

import { aptCall } from "../facts.js";
import { chain, runs } from "../model.js";
import { programName } from "../shell.js";
import type { Rule } from "../types.js";

const COMPILERS =
  /^(gcc|g\+\+|cc|c\+\+|clang|build-essential|build-base|make|cmake|gfortran|rustc|cargo|musl-dev|libc6?-dev|gcc-\d+|g\+\+-\d+|clang-\d+)$/;

export function isBuildTool(pkg: string): boolean {
  return COMPILERS.test(pkg) || pkg.endsWith("-dev") || pkg.endsWith("-devel");
}

export const rule: Rule = {
  meta: {
    id: "CPL012",
    name: "build-tools-in-image",
    defaultSeverity: "warning",
    description: "Compilers or -dev packages are installed in the final image and kept",
    fixable: false,
  },
  check({ model, report }) {
    if (!model.target) return;
    for (const stage of chain(model.target)) {
      for (const step of runs(stage.steps)) {
        const removed = new Set<string>();
        for (const command of step.commands) {
          const apt = aptCall(command);
          if (apt && (apt.subcommand === "purge" || apt.subcommand === "remove"))
            for (const p of apt.packages) removed.add(p);
          if (programName(command) === "apk" && command.argv[1]?.value === "del")
            for (const w of command.argv.slice(2)) removed.add(w.value);
        }
        for (const command of step.commands) {
          const apt = aptCall(command);
          let packages: string[] = [];
          if (apt?.subcommand === "install") packages = apt.packages;
          else if (programName(command) === "apk" && command.argv[1]?.value === "add")
            packages = command.argv
              .slice(2)
              .map((w) => w.value)
              .filter((v) => !v.startsWith("-"));
          const kept = packages.filter((p) => isBuildTool(p) && !removed.has(p));
          if (!kept.length) continue;
          report({
            range: model.rangeOf(command.start, command.end),
            message: `${kept.join(", ")} stay${kept.length === 1 ? "s" : ""} in the final image: compilers and headers are only needed to build wheels and add size and attack surface; build in a builder stage and copy the venv into a runtime stage that installs only the runtime libraries`,
          });
        }
      }
    }
  },
};
