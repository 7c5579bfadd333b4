// CPL007: the legacy `--no-dev` on a Poetry that has dependency groups.
import { poetryCapabilities } from "../../project/poetry.js";
import type { Rule } from "../types.js";
import { poetryInstalls, poetryVersionOf } from "./common.js";

export const rule: Rule = {
  meta: {
    id: "CPL007",
    name: "legacy-no-dev",
    defaultSeverity: "warning",
    description: "`poetry install --no-dev` on Poetry >= 1.2 (deprecated; removed in 2.0)",
    fixable: true,
  },
  check({ model, project, report }) {
    for (const stage of model.stages) {
      for (const call of poetryInstalls([stage])) {
        const word = call.command.argv.find((w) => w.value === "--no-dev");
        if (!word) continue;
        const version = poetryVersionOf(stage, project);
        const can = poetryCapabilities(version);
        const modern = can.groups;
        if (modern === false) continue;
        const what =
          can.noDev === false
            ? `Poetry ${version === "latest" ? "2.x (the newest, as it is not pinned)" : version} no longer has --no-dev: the install fails`
            : version === undefined
              ? "--no-dev is deprecated since Poetry 1.2 and removed in 2.0"
              : `--no-dev is deprecated since Poetry 1.2 (this is ${version}) and removed in 2.0`;
        report({
          range: model.rangeOf(word.start, word.end),
          message: `${what}; use --only main`,
          ...(modern ? { fix: [{ start: word.start, end: word.end, text: "--only main" }] } : {}),
        });
      }
    }
  },
};
