// CPL001: Poetry installed without a pinned version.

import { poetryInstallations } from "../facts.js";
import { runs } from "../model.js";
import type { Rule } from "../types.js";

export const rule: Rule = {
  meta: {
    id: "CPL001",
    name: "poetry-unpinned",
    defaultSeverity: "warning",
    description: "Poetry is installed without a pinned version",
    fixable: true,
  },
  check({ model, project, report }) {
    for (const stage of model.stages) {
      for (const step of runs(stage.steps)) {
        for (const install of poetryInstallations(step)) {
          if (install.version !== undefined) continue;
          const how =
            install.how === "installer"
              ? "the install script runs without POETRY_VERSION or --version"
              : `\`${install.how} install ${install.word.value}\` ${install.range ? `allows any version ${install.range}` : "takes whatever is newest"}`;
          const pin = project?.lockPoetryVersion;
          const canFix =
            pin !== undefined && install.how !== "installer" && !install.range && !install.word.quoted;
          report({
            range: model.rangeOf(install.word.start, install.word.end),
            message: `Poetry is not pinned: ${how}, so two builds can resolve and install differently; pin ${pin ? `the version that wrote poetry.lock (${pin})` : "one version (e.g. poetry==1.8.5)"}`,
            ...(canFix
              ? { fix: [{ start: install.word.end, end: install.word.end, text: `==${pin}` }] }
              : {}),
          });
        }
      }
    }
  },
};
