// CPL019: the final stage runs as root.
import type { Rule } from "../types.js";

function isRoot(user: string | undefined): boolean {
  if (user === undefined) return true;
  const name = user.split(":")[0] ?? "";
  return name === "root" || name === "0" || name === "";
}

export const rule: Rule = {
  meta: {
    id: "CPL019",
    name: "runs-as-root",
    defaultSeverity: "warning",
    description: "The final image runs as root",
    fixable: false,
  },
  check({ model, report }) {
    const target = model.target;
    if (!target || !isRoot(target.user)) return;
    // Point at the USER root line when there is one, else at the stage's FROM.
    const users = target.instructions.filter((i) => i.getKeyword().toUpperCase() === "USER");
    const at = users[users.length - 1] ?? target.from;
    report({
      range: at.getRange(),
      message: `the final image${target.name ? ` (stage ${target.name})` : ""} runs as root: a compromised app owns the container; create a user (useradd --uid 10001 app) and switch to it with USER before CMD`,
    });
  },
};
