import { rule } from "./CPL027.js";
import { ruleTable } from "./tester.js";

ruleTable(rule, {
  valid: [
    {
      name: "in-project venv",
      code: "FROM python:3.11-slim\nENV POETRY_VIRTUALENVS_IN_PROJECT=true\nRUN poetry install\n",
    },
    {
      name: "create false with an active venv",
      code: "FROM python:3.11-slim\nENV VIRTUAL_ENV=/venv POETRY_VIRTUALENVS_CREATE=false\nRUN poetry install\n",
    },
  ],
  invalid: [
    {
      name: "ENV",
      code: "FROM python:3.11-slim\nENV POETRY_VIRTUALENVS_CREATE=false\nRUN poetry install --only main\n",
      lines: [3],
      message: "system interpreter",
    },
    {
      name: "poetry config",
      code: "FROM python:3.11-slim\nRUN poetry config virtualenvs.create false && poetry install\n",
      lines: [2],
    },
    {
      name: "inline assignment",
      code: "FROM python:3.11-slim\nRUN POETRY_VIRTUALENVS_CREATE=0 poetry sync\n",
      lines: [2],
    },
  ],
});
