// CPL022: base image without a tag, or tagged `latest`.
import type { Rule } from "../types.js";

export const rule: Rule = {
  meta: {
    id: "CPL022",
    name: "base-image-unpinned",
    defaultSeverity: "warning",
    description: "Base image without a tag or with `latest`",
    fixable: false,
  },
  check({ model, report }) {
    for (const stage of model.stages) {
      if (stage.parent) continue;
      const image = stage.image;
      // An ARG without default is chosen at build time; scratch has no versions.
      if (image.includes("$") || image === "scratch" || image.includes("@")) continue;
      const lastPart = image.slice(image.lastIndexOf("/") + 1);
      const tag = lastPart.includes(":") ? lastPart.slice(lastPart.indexOf(":") + 1) : undefined;
      if (tag !== undefined && tag !== "latest") continue;
      const word = stage.from.getArguments().find((a) => !a.getValue().startsWith("--"));
      report({
        range: word?.getRange() ?? stage.from.getRange(),
        message: `${image}${tag ? "" : " has no tag, which means :latest"}: every build may start from a different Python and Debian; pin a tag such as python:3.11-slim-bookworm (or a digest)`,
      });
    }
  },
};
