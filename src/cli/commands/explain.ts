// `couplet explain CPL###`: print a lint rule's documentation.
import type { Command } from "commander";
import { UserError } from "../../errors.js";
import { ruleDoc } from "../../lint/docs.js";
import { ruleById } from "../../lint/rules/index.js";
import { action } from "../run.js";

export function register(program: Command): void {
  program
    .command("explain")
    .description("print what a lint rule finds, why it matters and how to fix it")
    .argument("<rule>", "rule id, e.g. CPL009")
    .action(
      action((id: string) => {
        const rule = ruleById(id);
        if (!rule) throw new UserError(`unknown rule "${id}"`, { hint: "`couplet rules` lists them" });
        const doc = ruleDoc(rule.meta.id);
        if (!doc)
          throw new UserError(`no documentation found for ${rule.meta.id}`, {
            hint: "the docs/ folder is missing from this installation",
          });
        process.stdout.write(doc.endsWith("\n") ? doc : `${doc}\n`);
        return 0;
      }),
    );
}
