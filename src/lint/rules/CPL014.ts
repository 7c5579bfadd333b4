// CPL014: a virtualenv copied between stages to a different absolute path than it was created at.

import { venvsOf, within } from "../facts.js";
import { chainSteps, contributors, copies, joinPath } from "../model.js";
import type { Rule } from "../types.js";

export const rule: Rule = {
  meta: {
    id: "CPL014",
    name: "venv-copied-to-other-path",
    defaultSeverity: "error",
    description:
      "A virtualenv is copied from another stage to a different absolute path than it was created at",
    fixable: false,
  },
  check({ model, report }) {
    if (!model.target) return;
    for (const stage of contributors(model.target)) {
      for (const copy of copies(stage.steps)) {
        if (!copy.fromStage) continue;
        const venvs = venvsOf(chainSteps(copy.fromStage));
        for (const source of copy.sources) {
          const src = joinPath("/", source);
          for (const venv of venvs) {
            if (!within(venv, src)) continue;
            const landed = joinPath(copy.destAbs, `.${venv.slice(src.length)}`);
            if (landed === venv) continue;
            report({
              range: copy.instruction.getRange(),
              message: `the virtualenv ${venv} of stage ${copy.fromStage.name ?? copy.fromStage.index} lands at ${landed}: its scripts' shebangs and pyvenv.cfg name ${venv}, so its console scripts fail ("no such file or directory"); copy it to the same path`,
            });
          }
        }
      }
    }
  },
};
