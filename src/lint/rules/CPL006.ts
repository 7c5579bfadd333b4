// CPL006: dev/test/docs groups installed in the image.
import { contributors } from "../model.js";
import type { Rule } from "../types.js";
import { devGroupsInstalled, poetryInstalls } from "./common.js";

export const rule: Rule = {
  meta: {
    id: "CPL006",
    name: "dev-groups-in-image",
    defaultSeverity: "warning",
    description: "Dev/test/docs dependency groups are installed in the final image",
    fixable: false,
  },
  check({ model, project, report }) {
    if (!model.target) return;
    for (const call of poetryInstalls(contributors(model.target))) {
      const groups = devGroupsInstalled(call, project);
      if (!groups.length) continue;
      const which = groups.includes("*")
        ? "every non-optional group (dev, test...)"
        : `the ${groups.join(", ")} group(s)`;
      report({
        range: model.rangeOf(call.command.start, call.command.end),
        message: `\`poetry ${call.subcommand}\` puts ${which} into the image${model.target.name ? ` (target ${model.target.name})` : ""}: test and lint tools add size and attack surface to production; install with --only main (or --without ${groups.includes("*") ? "dev,test" : groups.join(",")})`,
      });
    }
  },
};
