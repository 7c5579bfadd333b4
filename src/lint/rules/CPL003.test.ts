import { rule } from "./CPL003.js";
import { ruleTable } from "./tester.js";

ruleTable(rule, {
  valid: [
    {
      name: "Poetry in its own venv",
      code: "FROM python:3.11-slim\nRUN python -m venv /opt/poetry && /opt/poetry/bin/pip install poetry==1.8.5\n",
    },
    {
      name: "system Poetry in a builder; only the in-project venv is copied",
      code: "FROM python:3.11 AS builder\nRUN pip install poetry==1.8.5\nWORKDIR /app\nENV POETRY_VIRTUALENVS_IN_PROJECT=true\nRUN poetry install --only main\nFROM python:3.11-slim\nCOPY --from=builder /app/.venv /app/.venv\n",
    },
    { name: "pipx keeps Poetry apart", code: "FROM python:3.11-slim\nRUN pipx install poetry==1.8.5\n" },
  ],
  invalid: [
    {
      name: "system pip in a single-stage image",
      code: "FROM python:3.11-slim\nRUN pip install poetry==1.8.5\n",
      lines: [2],
      message: "system Python",
    },
    {
      name: "into the app venv that is copied to the runtime stage",
      code: 'FROM python:3.11-slim AS builder\nENV VIRTUAL_ENV=/venv\nRUN python -m venv $VIRTUAL_ENV\nENV PATH="$VIRTUAL_ENV/bin:$PATH"\nRUN pip install poetry==1.8.5\nFROM python:3.11-slim\nCOPY --from=builder /venv /venv\n',
      lines: [5],
      message: "virtualenv /venv",
    },
  ],
});
