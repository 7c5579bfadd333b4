// CPL003: Poetry installed into the environment that ends up in the image (its own dependencies ship with the app).

import { poetryInstallations, within } from "../facts.js";
import { chain, contributors, copies, runs } from "../model.js";
import type { Rule } from "../types.js";

export const rule: Rule = {
  meta: {
    id: "CPL003",
    name: "poetry-in-app-environment",
    defaultSeverity: "warning",
    description:
      "Poetry is installed into the same environment as the app, so its dependencies end up in the image",
    fixable: false,
  },
  check({ model, report }) {
    const target = model.target;
    if (!target) return;
    const imageStages = chain(target);
    // Paths copied into the image from other stages, per source stage.
    const copied = copies(imageStages.flatMap((s) => s.steps)).filter((c) => c.fromStage);
    for (const stage of contributors(target)) {
      for (const step of runs(stage.steps)) {
        for (const install of poetryInstallations(step)) {
          if (install.environment.kind !== "shared") continue;
          const venv = install.environment.venv;
          let reaches = imageStages.includes(stage);
          if (!reaches && venv) {
            reaches = copied.some(
              (c) =>
                c.fromStage &&
                chain(c.fromStage).includes(stage) &&
                c.sources.some((src) => within(venv, src.startsWith("/") ? src : `/${src}`)),
            );
          }
          if (!reaches) continue;
          const where = venv ? `the app's virtualenv ${venv}` : "the image's system Python";
          report({
            range: model.rangeOf(install.word.start, install.word.end),
            message: `Poetry is installed into ${where}, which ends up in the image: Poetry and its dependencies (43 packages in a venv for Poetry 1.8.5, 52 for 2.2.1) ship with the app and can clash with its pins; install Poetry in its own venv (python -m venv /opt/poetry && /opt/poetry/bin/pip install poetry==X) in a build stage`,
          });
        }
      }
    }
  },
};
