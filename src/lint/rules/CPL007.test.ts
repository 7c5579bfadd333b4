import { rule } from "./CPL007.js";
import { project, ruleTable } from "./tester.js";

ruleTable(rule, {
  valid: [
    {
      name: "Poetry 1.1 still had --no-dev",
      code: "FROM python:3.9-slim\nRUN pip install poetry==1.1.15\nRUN poetry install --no-dev\n",
    },
    {
      name: "--only main",
      code: "FROM python:3.11-slim\nRUN pip install poetry==2.2.1\nRUN poetry install --only main\n",
    },
  ],
  invalid: [
    {
      name: "Poetry 2.x: the install fails",
      code: "FROM python:3.11-slim\nRUN pip install poetry==2.2.1\nRUN poetry install --no-dev --no-root\n",
      lines: [3],
      message: "no longer has --no-dev",
      output:
        "FROM python:3.11-slim\nRUN pip install poetry==2.2.1\nRUN poetry install --only main --no-root\n",
    },
    {
      name: "unpinned Poetry is the newest",
      code: "FROM python:3.11-slim\nRUN pip install poetry\nRUN poetry install --no-dev\n",
      lines: [3],
      output: "FROM python:3.11-slim\nRUN pip install poetry\nRUN poetry install --only main\n",
    },
    {
      name: "Poetry 1.8 from the lock: deprecated",
      code: "FROM python:3.11-slim\nRUN poetry install --no-dev\n",
      project: project({ lockPoetryVersion: "1.8.5" }),
      lines: [2],
      message: "deprecated since Poetry 1.2",
      output: "FROM python:3.11-slim\nRUN poetry install --only main\n",
    },
    {
      name: "version unknown: reported, not fixed",
      code: "FROM python:3.11-slim\nRUN poetry install --no-dev\n",
      lines: [2],
    },
  ],
});
