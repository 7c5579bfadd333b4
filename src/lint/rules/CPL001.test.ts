import { rule } from "./CPL001.js";
import { project, ruleTable } from "./tester.js";

ruleTable(rule, {
  valid: [
    { name: "pip pinned", code: "FROM python:3.11-slim\nRUN pip install --no-cache-dir poetry==1.8.5\n" },
    {
      name: "pinned through a build argument default",
      code: 'FROM python:3.11-slim\nARG POETRY_VERSION=2.2.1\nRUN pip install "poetry==$POETRY_VERSION"\n',
    },
    { name: "pipx pinned", code: "FROM python:3.11-slim\nRUN pipx install poetry==2.2.1\n" },
    {
      name: "install script with POETRY_VERSION",
      code: "FROM python:3.11-slim\nENV POETRY_VERSION=1.8.5\nRUN curl -sSL https://install.python-poetry.org | python3 -\n",
    },
    {
      name: "install script with --version",
      code: "FROM python:3.11-slim\nRUN curl -sSL https://install.python-poetry.org | python3 - --version 1.8.5\n",
    },
    {
      name: "other packages unpinned are not Poetry",
      code: "FROM python:3.11-slim\nRUN pip install poetry-plugin-export==1.8.0 poetry-core\n",
    },
  ],
  invalid: [
    {
      name: "pip install poetry",
      code: "FROM python:3.11-slim\nRUN pip install poetry\n",
      lines: [2],
      message: "not pinned",
    },
    {
      name: "a range is not a pin",
      code: 'FROM python:3.11-slim\nRUN pip install "poetry>=1.8"\n',
      lines: [2],
      message: "allows any version >=1.8",
    },
    { name: "pipx", code: "FROM python:3.11-slim\nRUN pipx install poetry\n", lines: [2] },
    {
      name: "python -m pip in a builder stage",
      code: "FROM python:3.11 AS build\nRUN python -m pip install -U poetry\nFROM python:3.11-slim\n",
      lines: [2],
    },
    {
      name: "install script without a version",
      code: "FROM python:3.11-slim\nRUN curl -sSL https://install.python-poetry.org | python3 -\n",
      lines: [2],
      message: "POETRY_VERSION",
    },
    {
      name: "fixed to the lock's version when the project is known",
      code: "FROM python:3.11-slim\nRUN pip install --no-cache-dir poetry && poetry --version\n",
      project: project({ lockPoetryVersion: "1.8.5" }),
      lines: [2],
      message: "1.8.5",
      output: "FROM python:3.11-slim\nRUN pip install --no-cache-dir poetry==1.8.5 && poetry --version\n",
    },
  ],
});
