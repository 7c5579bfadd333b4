import { rule } from "./CPL023.js";
import { ruleTable } from "./tester.js";

ruleTable(rule, {
  valid: [
    {
      name: "build secret",
      code: "FROM python:3.11-slim\nRUN --mount=type=secret,id=pypi,env=POETRY_HTTP_BASIC_CORP_PASSWORD poetry install\n",
    },
    { name: "username alone", code: "FROM python:3.11-slim\nENV POETRY_HTTP_BASIC_CORP_USERNAME=ci\n" },
    {
      name: "index URL without credentials",
      code: "FROM python:3.11-slim\nENV PIP_INDEX_URL=https://pypi.corp/simple\n",
    },
    {
      name: "credentials from a variable",
      code: "FROM python:3.11-slim\nRUN poetry config http-basic.corp $USER $PASS\n",
    },
  ],
  invalid: [
    {
      name: "Poetry http-basic password",
      code: "FROM python:3.11-slim\nENV POETRY_HTTP_BASIC_CORP_PASSWORD=hunter2\n",
      lines: [2],
      message: "build secret",
    },
    {
      name: "token as ARG",
      code: "FROM python:3.11-slim\nARG POETRY_PYPI_TOKEN_PYPI\n",
      lines: [2],
      message: "image history",
    },
    {
      name: "index URL with a password",
      code: "FROM python:3.11-slim\nENV PIP_EXTRA_INDEX_URL=https://ci:s3cret@pypi.corp/simple\n",
      lines: [2],
    },
    {
      name: "in a command line",
      code: "FROM python:3.11-slim\nRUN pip install --index-url https://ci:s3cret@pypi.corp/simple x\n",
      lines: [2],
    },
    {
      name: "literal http-basic",
      code: "FROM python:3.11-slim\nRUN poetry config http-basic.corp ci s3cret\n",
      lines: [2],
    },
  ],
});
