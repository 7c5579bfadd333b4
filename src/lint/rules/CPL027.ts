// CPL027: `virtualenvs.create false` makes Poetry install into the image's system interpreter.

import { commandEnv, configSet, falsy } from "../facts.js";
import type { Rule } from "../types.js";
import { poetryInstalls } from "./common.js";

export const rule: Rule = {
  meta: {
    id: "CPL027",
    name: "poetry-system-interpreter",
    defaultSeverity: "warning",
    description: "`virtualenvs.create false` installs the app into the image's system interpreter",
    fixable: false,
  },
  check({ model, report }) {
    for (const stage of model.stages) {
      for (const call of poetryInstalls([stage])) {
        const env = commandEnv(call.step, call.command);
        // With an active virtualenv (VIRTUAL_ENV), Poetry installs into it rather than the system.
        if (env.get("VIRTUAL_ENV")) continue;
        const off =
          falsy(env.get("POETRY_VIRTUALENVS_CREATE")) ||
          configSet(stage, "virtualenvs.create", call.step, call.command).some((v) => falsy(v));
        if (!off) continue;
        report({
          range: model.rangeOf(call.command.start, call.command.end),
          message:
            "with virtualenvs.create false Poetry installs into the system interpreter: the app's packages mix with (and may overwrite or uninstall) the image's own pip and setuptools and Poetry's dependencies, and Poetry 2.x's `poetry sync` can remove them; install into a venv (POETRY_VIRTUALENVS_IN_PROJECT=true, or an activated VIRTUAL_ENV)",
        });
      }
    }
  },
};
