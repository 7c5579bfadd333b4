// CPL009: `RUN mount=type=cache,...` without `--`: a shell variable assignment, not a cache mount.
import { runs } from "../model.js";
import type { Rule } from "../types.js";

export const rule: Rule = {
  meta: {
    id: "CPL009",
    name: "mount-flag-typo",
    defaultSeverity: "error",
    description: "`RUN mount=type=...` without `--` is a shell variable assignment: no mount happens",
    fixable: true,
  },
  check({ model, report }) {
    for (const stage of model.stages) {
      for (const step of runs(stage.steps)) {
        if (step.execForm || step.heredoc) continue;
        const first = step.commands[0];
        const typo = first?.assignments[0];
        if (!first || !typo || typo.name !== "mount" || !/^type=/.test(typo.value)) continue;
        // Only the first word of the RUN can be meant as a flag.
        if (typo.word.start !== step.start) continue;
        report({
          range: model.rangeOf(typo.word.start, typo.word.end),
          message: `\`${typo.word.value.slice(0, 40)}${typo.word.value.length > 40 ? "..." : ""}\` lacks the leading \`--\`: the shell reads it as a variable assignment, so nothing is mounted and the cache is written into the layer; write RUN --mount=${typo.value}`,
          fix: [{ start: typo.word.start, end: typo.word.start, text: "--" }],
        });
      }
    }
  },
};
