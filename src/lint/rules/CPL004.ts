// CPL004: the whole build context copied before the dependency install.

import { pipInstall } from "../facts.js";
import { chain, copies } from "../model.js";
import type { Rule } from "../types.js";
import { poetryInstalls } from "./common.js";

const WHOLE = new Set([".", "./", "*", "./*", "./."]);

export const rule: Rule = {
  meta: {
    id: "CPL004",
    name: "context-copied-before-install",
    defaultSeverity: "warning",
    description: "The whole context is copied (COPY . / ADD .) before the dependency install",
    fixable: false,
  },
  check({ model, report }) {
    for (const stage of model.stages) {
      const stages = chain(stage);
      const steps = stages.flatMap((s) => s.steps);
      for (const copy of copies(steps)) {
        if (copy.from !== undefined || !copy.sources.some((s) => WHOLE.has(s))) continue;
        const index = steps.indexOf(copy);
        const before = steps.slice(0, index);
        const after = steps.slice(index + 1);
        const installsDeps = (s: typeof steps) =>
          s.some(
            (step) =>
              step.kind === "run" &&
              step.commands.some((c) => {
                const pip = pipInstall(c, step.env);
                if (pip)
                  return pip.args.some(
                    (a) => a.value === "-r" || a.value.startsWith("--requirement") || a.value === ".",
                  );
                return false;
              }),
          );
        const poetryBefore = poetryInstalls(stages).filter((c) => before.includes(c.step));
        const poetryAfter = poetryInstalls(stages).filter((c) => after.includes(c.step));
        const depsAfter = poetryAfter.some((c) => !c.args.includes("--only-root")) || installsDeps(after);
        const depsBefore = poetryBefore.length > 0 || installsDeps(before);
        if (!depsAfter || depsBefore) continue;
        const r = copy.instruction.getRange();
        report({
          range: r,
          message: `${copy.keyword} ${copy.sources.join(" ")} copies the whole context before the dependencies are installed: any change to any file (code, README, tests) invalidates the install layer and reinstalls every dependency; copy pyproject.toml and poetry.lock first, install with --no-root, then copy the code`,
        });
      }
    }
  },
};
