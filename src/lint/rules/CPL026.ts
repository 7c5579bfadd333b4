// CPL026: `poetry export` on Poetry 2.x without the export plugin.

import { poetryCapabilities } from "../../project/poetry.js";
import { pipInstall, poetryCall } from "../facts.js";
import { chainSteps, runs } from "../model.js";
import { programName } from "../shell.js";
import type { Rule } from "../types.js";
import { poetryVersionOf } from "./common.js";

export const rule: Rule = {
  meta: {
    id: "CPL026",
    name: "poetry-export-without-plugin",
    defaultSeverity: "error",
    description: "`poetry export` on Poetry 2.x without poetry-plugin-export",
    fixable: false,
  },
  check({ model, project, report }) {
    for (const stage of model.stages) {
      const version = poetryVersionOf(stage, project);
      if (poetryCapabilities(version).bundledExport !== false) continue;
      const steps = runs(chainSteps(stage));
      const plugin = steps.some((step) =>
        step.commands.some((c) => {
          if (c.argv.some((w) => /poetry-plugin-export/.test(w.value))) {
            const call = poetryCall(c);
            return Boolean(
              pipInstall(c, step.env) ||
                (call?.subcommand === "self" && call.args[0] === "add") ||
                programName(c) === "pipx",
            );
          }
          return false;
        }),
      );
      if (plugin) continue;
      for (const step of runs(stage.steps)) {
        for (const command of step.commands) {
          if (poetryCall(command)?.subcommand !== "export") continue;
          report({
            range: model.rangeOf(command.start, command.end),
            message: `Poetry ${version === "latest" ? "2.x (the newest, as it is not pinned)" : version} no longer bundles the export command: this fails with "The command \\"export\\" does not exist"; install poetry-plugin-export next to Poetry (or install with poetry install --only main instead of exporting)`,
          });
        }
      }
    }
  },
};
