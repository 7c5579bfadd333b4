// CPL018: apt-get upgrade / dist-upgrade inside the image build.

import { aptCall } from "../facts.js";
import { runs } from "../model.js";
import type { Rule } from "../types.js";

export const rule: Rule = {
  meta: {
    id: "CPL018",
    name: "apt-upgrade",
    defaultSeverity: "warning",
    description: "`apt-get upgrade` in a Dockerfile",
    fixable: false,
  },
  check({ model, report }) {
    for (const stage of model.stages) {
      for (const step of runs(stage.steps)) {
        for (const command of step.commands) {
          const apt = aptCall(command);
          if (!apt || !["upgrade", "dist-upgrade", "full-upgrade"].includes(apt.subcommand)) continue;
          report({
            range: model.rangeOf(command.start, command.end),
            message: `apt-get ${apt.subcommand} makes the image depend on the day it was built (not reproducible) and duplicates the base image's files in a new layer; use a newer base image tag instead`,
          });
        }
      }
    }
  },
};
