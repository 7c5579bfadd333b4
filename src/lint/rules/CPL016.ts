// CPL016: apt-get install without --no-install-recommends.

import { aptCall } from "../facts.js";
import { runs } from "../model.js";
import type { Report, Rule } from "../types.js";

export const rule: Rule = {
  meta: {
    id: "CPL016",
    name: "apt-install-recommends",
    defaultSeverity: "warning",
    description: "`apt-get install` without `--no-install-recommends`",
    fixable: true,
  },
  check({ model, report }) {
    for (const stage of model.stages) {
      for (const step of runs(stage.steps)) {
        for (const command of step.commands) {
          const apt = aptCall(command);
          if (apt?.subcommand !== "install") continue;
          const args = apt.args.map((a) => a.value);
          if (
            args.includes("--no-install-recommends") ||
            args.some((a) => /APT::Install-Recommends=(false|0|no)/i.test(a))
          )
            continue;
          const install = command.argv.find((w) => w.value === "install");
          const r: Report = {
            range: model.rangeOf(command.start, command.end),
            message:
              "apt-get install without --no-install-recommends also installs every recommended package (often doubling what lands in the image); add --no-install-recommends",
          };
          if (install && !step.heredoc)
            r.fix = [{ start: install.end, end: install.end, text: " --no-install-recommends" }];
          report(r);
        }
      }
    }
  },
};
