// CPL013: the final image is based on the full `python` image (compilers, headers, ~1 GB).

import { isFullPythonImage } from "../facts.js";
import { chain } from "../model.js";
import type { Rule } from "../types.js";

export const rule: Rule = {
  meta: {
    id: "CPL013",
    name: "full-base-image",
    defaultSeverity: "warning",
    description: "The final image is based on the full `python` image instead of `python:*-slim`",
    fixable: false,
  },
  check({ model, report }) {
    if (!model.target) return;
    const root = chain(model.target)[0];
    if (!root || !isFullPythonImage(root.image)) return;
    const image = root.from.getArguments()[0];
    report({
      range: image?.getRange() ?? root.from.getRange(),
      message: `the final image starts from ${root.image}, the full image with compilers and hundreds of -dev packages (about 1 GB, against ~150 MB for slim); build wheels in a stage on it if needed and base the final stage on python:*-slim`,
    });
  },
};
