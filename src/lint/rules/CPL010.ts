// CPL010: RUN --mount without the `# syntax=` parser directive.
import { runs } from "../model.js";
import type { Rule } from "../types.js";

export const rule: Rule = {
  meta: {
    id: "CPL010",
    name: "mount-without-syntax",
    defaultSeverity: "warning",
    description: "`RUN --mount` is used without a `# syntax=docker/dockerfile:1` line",
    fixable: true,
  },
  check({ model, report }) {
    if (model.syntax) return;
    let first = true;
    for (const stage of model.stages) {
      for (const step of runs(stage.steps)) {
        if (!step.mounts.length) continue;
        const flag = step.instruction.getFlags().find((f) => f.getName() === "mount");
        report({
          range: flag?.getRange() ?? step.instruction.getRange(),
          message:
            "RUN --mount needs the BuildKit Dockerfile frontend: without `# syntax=docker/dockerfile:1` as the first line, older builders reject the flag or silently build without the mount; add the directive",
          // One insertion for the whole file: only the first finding carries it.
          ...(first ? { fix: [{ start: 0, end: 0, text: "# syntax=docker/dockerfile:1\n" }] } : {}),
        });
        first = false;
      }
    }
  },
};
