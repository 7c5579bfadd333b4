// CPL024: a .env file copied into the image.
import { copies } from "../model.js";
import type { Rule } from "../types.js";

const DOTENV = /(^|\/)(\.env(\.(?!example$|sample$|template$|dist$)[\w.-]+)?|[\w.-]+\.env)$/;

export const rule: Rule = {
  meta: {
    id: "CPL024",
    name: "dotenv-copied",
    defaultSeverity: "error",
    description: "A .env file is copied into the image",
    fixable: false,
  },
  check({ model, report }) {
    for (const stage of model.stages) {
      for (const copy of copies(stage.steps)) {
        if (copy.from !== undefined) continue;
        const env = copy.sources.find((s) => DOTENV.test(s));
        if (!env) continue;
        report({
          range: copy.instruction.getRange(),
          message: `${copy.keyword} ${env} puts the environment file (usually secrets) into a layer that anyone with the image can read; pass settings at run time (docker run --env-file) and secrets as build secrets`,
        });
      }
    }
  },
};
