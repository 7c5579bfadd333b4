import { rule } from "./CPL025.js";
import { ruleTable } from "./tester.js";

const copyAll = "FROM python:3.11-slim\nCOPY . /app\n";

ruleTable(rule, {
  valid: [
    {
      name: "all three excluded",
      code: copyAll,
      dockerignore: { path: ".dockerignore", text: ".venv\n.git\n.env\n" },
    },
    {
      name: "glob forms",
      code: copyAll,
      dockerignore: { path: ".dockerignore", text: "**/.venv/\n/.git\n.env*\n" },
    },
    {
      name: "allow-list",
      code: copyAll,
      dockerignore: { path: ".dockerignore", text: "*\n!src\n!pyproject.toml\n!poetry.lock\n" },
    },
    { name: "nothing taken from the context", code: "FROM python:3.11-slim\nRUN true\n" },
  ],
  invalid: [
    { name: "no .dockerignore", code: copyAll, lines: [2], message: "no .dockerignore" },
    {
      name: "only .git",
      code: copyAll,
      dockerignore: { path: ".dockerignore", text: ".git\n" },
      lines: [2],
      message: "lets .venv, .env",
    },
    {
      name: "re-included",
      code: copyAll,
      dockerignore: { path: ".dockerignore", text: ".venv\n.git\n.env\n!.env\n" },
      lines: [2],
      message: "lets .env",
    },
  ],
});
