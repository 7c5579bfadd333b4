import { rule } from "./CPL005.js";
import { project, ruleTable } from "./tester.js";

ruleTable(rule, {
  valid: [
    {
      name: "--no-root first, then the root",
      code: "FROM python:3.11-slim\nCOPY pyproject.toml poetry.lock ./\nRUN poetry install --no-root\nCOPY src ./src\nRUN poetry install --only-root\n",
    },
    {
      name: "package-mode = false has no root",
      code: "FROM python:3.11-slim\nCOPY . .\nRUN poetry install --only main\n",
      project: project({ packageMode: false }),
    },
  ],
  invalid: [
    {
      name: "one poetry install",
      code: "FROM python:3.11-slim\nCOPY pyproject.toml poetry.lock ./\nRUN poetry install --only main\n",
      lines: [3],
      message: "--no-root",
    },
    {
      name: "inherited through FROM <stage>: the first install decides",
      code: "FROM python:3.11-slim AS b\nRUN poetry install\nFROM b AS dev\nRUN poetry install --with dev\n",
      lines: [2],
    },
  ],
});
