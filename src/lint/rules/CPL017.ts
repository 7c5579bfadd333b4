// CPL017: apt lists left in the layer (not removed in the same RUN, no cache mount).

import { aptCall, mounted, removes } from "../facts.js";
import { runs } from "../model.js";
import type { Report, Rule } from "../types.js";

export const rule: Rule = {
  meta: {
    id: "CPL017",
    name: "apt-lists-kept",
    defaultSeverity: "warning",
    description: "`apt-get update` lists are not removed in the same layer",
    fixable: true,
  },
  check({ model, report }) {
    for (const stage of model.stages) {
      for (const step of runs(stage.steps)) {
        const update = step.commands.find((c) => aptCall(c)?.subcommand === "update");
        if (!update) continue;
        if (mounted(step, "/var/lib/apt/lists") || removes(step, "/var/lib/apt/lists", step.env)) continue;
        const r: Report = {
          range: model.rangeOf(update.start, update.end),
          message:
            "the package lists fetched by apt-get update (tens of MB) stay in this layer; end the same RUN with rm -rf /var/lib/apt/lists/* (or mount /var/lib/apt/lists as a cache)",
        };
        // Appending after a trailing `;`, `&` or `|` would not be valid shell: leave those to a human.
        const tail = model.text.slice(step.start, step.end).trimEnd();
        const at = step.start + tail.length;
        if (!step.heredoc && !step.execForm && !step.endsInComment && !/[;&|\\]$/.test(tail))
          r.fix = [{ start: at, end: at, text: " && rm -rf /var/lib/apt/lists/*" }];
        report(r);
      }
    }
  },
};
