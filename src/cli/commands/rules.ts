// `couplet rules`: list the lint rules with their ids, severities and whether they can fix.
import type { Command } from "commander";
import { RULES } from "../../lint/rules/index.js";
import { action } from "../run.js";

export function register(program: Command): void {
  program
    .command("rules")
    .description("list the lint rules")
    .option("--json", "print the rules' metadata as JSON")
    .action(
      action((flags: { json?: boolean }) => {
        if (flags.json) {
          process.stdout.write(
            `${JSON.stringify(
              RULES.map((r) => r.meta),
              null,
              2,
            )}\n`,
          );
          return 0;
        }
        const lines = RULES.map((r) => {
          const tags = [r.meta.fixable ? "fixable" : "", r.meta.needsProject ? "needs poetry.lock" : ""]
            .filter(Boolean)
            .join(", ");
          return `${r.meta.id}  ${r.meta.defaultSeverity.padEnd(7)}  ${r.meta.name.padEnd(33)}  ${r.meta.description}${tags ? ` [${tags}]` : ""}`;
        });
        process.stdout.write(
          `${lines.join("\n")}\n\n\`couplet explain <id>\` prints a rule's documentation.\n`,
        );
        return 0;
      }),
    );
}
