import { rule } from "./CPL004.js";
import { ruleTable } from "./tester.js";

ruleTable(rule, {
  valid: [
    {
      name: "lock files first, code after the install",
      code: "FROM python:3.11-slim\nWORKDIR /app\nCOPY pyproject.toml poetry.lock ./\nRUN poetry install --no-root\nCOPY . .\nRUN poetry install --only-root\n",
    },
    {
      name: "COPY . . with no install after it",
      code: 'FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nCMD ["python", "main.py"]\n',
    },
    {
      name: "copy from another stage is not the context",
      code: "FROM python:3.11 AS b\nRUN true\nFROM python:3.11-slim\nCOPY --from=b . .\nRUN pip install -r requirements.txt\n",
    },
  ],
  invalid: [
    {
      name: "COPY . . then poetry install",
      code: "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nRUN poetry install --no-root\n",
      lines: [3],
      message: "whole context",
    },
    {
      name: "ADD . then pip install -r",
      code: "FROM python:3.11-slim\nADD . /app\nRUN pip install -r /app/requirements.txt\n",
      lines: [2],
    },
    {
      name: "install in a child stage",
      code: "FROM python:3.11-slim AS src\nWORKDIR /app\nCOPY . .\nFROM src AS build\nRUN poetry install\n",
      lines: [3],
    },
  ],
});
