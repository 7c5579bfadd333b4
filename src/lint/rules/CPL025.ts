// CPL025: no .dockerignore, or one that lets .venv, .git or .env into the build context.
import dockerignoreModule from "@balena/dockerignore";
import { copies } from "../model.js";
import type { Rule } from "../types.js";

// The package is CommonJS with `factory.default = factory`: under NodeNext the default import is the module object.
const ignore = dockerignoreModule.default;

const MUST_EXCLUDE = [".venv", ".git", ".env"];

export const rule: Rule = {
  meta: {
    id: "CPL025",
    name: "dockerignore",
    defaultSeverity: "warning",
    description: "No .dockerignore, or one that lets .venv, .git or .env into the build context",
    fixable: false,
  },
  check({ model, dockerignore, report }) {
    const fromContext = model.stages
      .flatMap((s) => copies(s.steps))
      .filter((c) => c.from === undefined && !c.sources.every((s) => /^https?:\/\//.test(s)));
    const first = fromContext[0];
    if (!first) return;
    if (!dockerignore) {
      report({
        range: first.instruction.getRange(),
        message:
          "no .dockerignore next to this Dockerfile: the whole folder (.git, .venv, .env, caches) is sent as build context, slowing every build and risking secrets and a host venv in the image; add one that excludes at least .venv, .git and .env",
      });
      return;
    }
    const rules = ignore().add(dockerignore.text);
    const leaks = MUST_EXCLUDE.filter((p) => !rules.ignores(p) && !rules.ignores(`${p}/x`));
    if (!leaks.length) return;
    report({
      range: first.instruction.getRange(),
      message: `${dockerignore.path} lets ${leaks.join(", ")} into the build context: ${leaks.includes(".env") ? "secrets can be copied into the image, " : ""}${leaks.includes(".venv") ? "a host virtualenv can overwrite the image's, " : ""}and the context grows; add ${leaks.join(", ")} to it`,
    });
  },
};
