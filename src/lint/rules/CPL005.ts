// CPL005: dependencies installed together with the root package (no separate dependency layer).
import { chain } from "../model.js";
import type { Rule } from "../types.js";
import { installsRoot, poetryInstalls } from "./common.js";

export const rule: Rule = {
  meta: {
    id: "CPL005",
    name: "dependencies-with-root",
    defaultSeverity: "warning",
    description: "Dependencies are installed together with the root package (no --no-root dependency layer)",
    fixable: false,
  },
  check({ model, project, report }) {
    // package-mode = false: there is no root package, so a single install is the dependency layer.
    if (project && !project.packageMode) return;
    for (const stage of model.stages) {
      const calls = poetryInstalls(chain(stage));
      for (const [i, call] of calls.entries()) {
        if (!installsRoot(call) || call.args.includes("--only-root")) continue;
        // Only the first install decides whether a dependency layer exists; later ones add groups.
        if (i > 0) continue;
        const word = call.command.argv[0];
        if (!word) continue;
        report({
          range: model.rangeOf(call.command.start, call.command.end),
          message:
            "`poetry install` installs the dependencies and the root package in one step: there is no dependency layer to reuse, so a code change reinstalls everything; run `poetry install --no-root` after copying pyproject.toml and poetry.lock, then copy the code and install the root",
        });
      }
    }
  },
};
