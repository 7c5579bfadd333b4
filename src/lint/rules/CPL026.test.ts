import { rule } from "./CPL026.js";
import { project, ruleTable } from "./tester.js";

ruleTable(rule, {
  valid: [
    {
      name: "Poetry 1.8 bundles export",
      code: "FROM python:3.11-slim\nRUN pip install poetry==1.8.5\nRUN poetry export -o requirements.txt\n",
    },
    {
      name: "plugin installed next to Poetry 2",
      code: "FROM python:3.11-slim\nRUN pip install poetry==2.2.1 poetry-plugin-export==1.9.0\nRUN poetry export -o requirements.txt\n",
    },
    {
      name: "plugin added with poetry self add",
      code: "FROM python:3.11-slim\nRUN pip install poetry==2.2.1 && poetry self add poetry-plugin-export\nRUN poetry export -o r.txt\n",
    },
  ],
  invalid: [
    {
      name: "Poetry 2 pinned",
      code: "FROM python:3.11-slim\nRUN pip install poetry==2.2.1\nRUN poetry export -o requirements.txt\n",
      lines: [3],
      message: "2.2.1",
    },
    {
      name: "unpinned Poetry is 2.x",
      code: "FROM python:3.11-slim\nRUN pip install poetry\nRUN poetry export --only main -o r.txt\n",
      lines: [3],
      message: "2.x",
    },
    {
      name: "version from the lock",
      code: "FROM python:3.11-slim\nRUN poetry export -o r.txt\n",
      project: project({ lockPoetryVersion: "2.1.3" }),
      lines: [2],
    },
  ],
});
