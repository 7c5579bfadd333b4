// CPL020: shell-form CMD/ENTRYPOINT in the final image (signals do not reach the app).

import type { Instruction } from "dockerfile-ast";
import { chain } from "../model.js";
import type { Report, Rule } from "../types.js";

function isExecForm(instruction: Instruction): boolean {
  const json = (instruction as unknown as { getJSONStrings?(): unknown[] }).getJSONStrings?.() ?? [];
  return json.length > 0 || (instruction.getArgumentsContent() ?? "").trim().startsWith("[");
}

export const rule: Rule = {
  meta: {
    id: "CPL020",
    name: "shell-form-command",
    defaultSeverity: "warning",
    description: "Shell-form CMD/ENTRYPOINT: the app does not receive SIGTERM",
    fixable: true,
  },
  check({ model, report }) {
    if (!model.target) return;
    const instructions = chain(model.target).flatMap((s) => s.instructions);
    for (const keyword of ["CMD", "ENTRYPOINT"]) {
      const last = instructions.filter((i) => i.getKeyword().toUpperCase() === keyword).pop();
      if (!last || isExecForm(last) || !last.getArguments().length) continue;
      const words = last.getArguments().map((a) => a.getValue());
      const r: Report = {
        range: last.getRange(),
        message: `${keyword} in shell form runs the app under /bin/sh -c: the shell is PID 1 and does not forward SIGTERM, so \`docker stop\` waits 10 s and kills the app; use the exec form ${keyword} ${JSON.stringify(words)}`,
      };
      // Exec form is equivalent only for plain words: no variables, quotes, globs or shell operators.
      if (words.every((w) => /^[\w@%+=:,./-]+$/.test(w))) {
        const args = last.getArgumentsRange();
        if (args)
          r.fix = [
            {
              start: model.offsetAt(args.start),
              end: model.offsetAt(args.end),
              text: JSON.stringify(words).replace(/","/g, '", "'),
            },
          ];
      }
      report(r);
    }
  },
};
