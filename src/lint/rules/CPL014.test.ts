// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Dockerfile variables, not templates
import { rule } from "./CPL014.js";
import { ruleTable } from "./tester.js";

ruleTable(rule, {
  valid: [
    {
      name: "same path",
      code: "FROM python:3.11 AS b\nRUN python -m venv /venv\nFROM python:3.11-slim\nCOPY --from=b /venv /venv\n",
    },
    {
      name: "in-project venv copied with its workdir",
      code: "FROM python:3.11 AS b\nWORKDIR /app\nENV POETRY_VIRTUALENVS_IN_PROJECT=true\nRUN poetry install\nFROM python:3.11-slim\nWORKDIR /app\nCOPY --from=b /app/.venv .venv\n",
    },
    {
      name: "the seed's VIRTUAL_ENV copy",
      code: "FROM python:3.11 AS b\nENV VIRTUAL_ENV=/venv\nRUN python -m venv $VIRTUAL_ENV\nFROM python:3.11-slim\nENV VIRTUAL_ENV=/venv\nCOPY --from=b ${VIRTUAL_ENV} ${VIRTUAL_ENV}\n",
    },
    {
      name: "the whole workdir with its .venv, as couplet init writes it",
      code: "FROM python:3.13-slim AS builder\nWORKDIR /app\nENV POETRY_VIRTUALENVS_IN_PROJECT=true\nRUN poetry install --only main --no-root\nFROM python:3.13-slim\nCOPY --from=builder /app /app\n",
    },
  ],
  invalid: [
    {
      name: "different path",
      code: "FROM python:3.11 AS b\nRUN python -m venv /opt/venv\nFROM python:3.11-slim\nCOPY --from=b /opt/venv /venv\n",
      lines: [4],
      message: "lands at /venv",
    },
    {
      name: "project folder moved with its .venv",
      code: "FROM python:3.11 AS b\nWORKDIR /src\nENV POETRY_VIRTUALENVS_IN_PROJECT=true\nRUN poetry install\nFROM python:3.11-slim\nCOPY --from=b /src /app\n",
      lines: [6],
      message: "/src/.venv",
    },
  ],
});
