// CPL023: credentials baked into the image through ENV, ARG or a command line.

import { poetryCall } from "../facts.js";
import { runs } from "../model.js";
import type { Rule } from "../types.js";

const SECRET_NAME =
  /^(POETRY_HTTP_BASIC_\w+_PASSWORD|POETRY_PYPI_TOKEN_\w+|\w*(PASSWORD|PASSWD|TOKEN|SECRET|API_?KEY|ACCESS_KEY|PRIVATE_KEY|CREDENTIALS?))$/i;
/** `https://user:pass@host` or `https://token@host` with literal credentials (not a `$VAR`). */
const URL_CREDENTIALS = /\b[a-z][a-z0-9+.-]*:\/\/([^/\s:@$]+)(:[^/\s@$]*)?@/i;

export const rule: Rule = {
  meta: {
    id: "CPL023",
    name: "secret-in-image",
    defaultSeverity: "error",
    description:
      "Credentials in ENV/ARG or in a command line (index URL with a password, http-basic) are baked into the image",
    fixable: false,
  },
  check({ model, report }) {
    const fix =
      "pass it as a build secret (RUN --mount=type=secret,id=...) so it never enters a layer or the image history";
    for (const instruction of model.dockerfile.getInstructions()) {
      const keyword = instruction.getKeyword().toUpperCase();
      if (keyword !== "ENV" && keyword !== "ARG") continue;
      const props = (
        instruction as unknown as {
          getProperties(): {
            getName(): string;
            getValue(): string | null;
            getRange(): import("../types.js").Range;
          }[];
        }
      ).getProperties();
      for (const p of props) {
        const name = p.getName();
        const value = p.getValue() ?? "";
        if (SECRET_NAME.test(name)) {
          report({
            range: p.getRange(),
            message: `${keyword} ${name} looks like a credential: ${keyword === "ENV" ? "ENV values are stored in the image config for anyone who pulls it" : "build arguments are recorded in the image history of every RUN that sees them"}; ${fix}`,
          });
        } else if (URL_CREDENTIALS.test(value)) {
          report({ range: p.getRange(), message: `${keyword} ${name} holds a URL with credentials; ${fix}` });
        }
      }
    }
    for (const stage of model.stages) {
      for (const step of runs(stage.steps)) {
        for (const command of step.commands) {
          const withCreds = command.argv.find((w) => URL_CREDENTIALS.test(w.value));
          if (withCreds) {
            report({
              range: model.rangeOf(withCreds.start, withCreds.end),
              message: `a URL with literal credentials in a RUN ends up in the image history; ${fix}`,
            });
            continue;
          }
          const call = poetryCall(command);
          const args = call?.args.filter((a) => !a.startsWith("-")) ?? [];
          if (
            call?.subcommand === "config" &&
            /^(http-basic|pypi-token)\./.test(args[0] ?? "") &&
            args.slice(1).some((a) => !a.startsWith("$"))
          ) {
            report({
              range: model.rangeOf(command.start, command.end),
              message: `poetry config ${args[0]} with a literal credential stores it in the layer and the image history; ${fix}`,
            });
          }
        }
      }
    }
  },
};
