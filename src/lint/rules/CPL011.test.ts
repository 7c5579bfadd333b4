import { rule } from "./CPL011.js";
import { ruleTable } from "./tester.js";

ruleTable(rule, {
  valid: [
    {
      name: "mount at the default Poetry cache",
      code: "FROM python:3.11-slim\nRUN --mount=type=cache,target=/root/.cache poetry install\n",
    },
    {
      name: "mount at POETRY_CACHE_DIR through the variable",
      code: "FROM python:3.11-slim\nENV POETRY_CACHE_DIR=/opt/cache\nRUN --mount=type=cache,target=$POETRY_CACHE_DIR poetry install\n",
    },
    {
      name: "pip with its cache mounted",
      code: "FROM python:3.11-slim\nRUN --mount=type=cache,target=/root/.cache/pip pip install x\n",
    },
    {
      name: "apt mounts only",
      code: "FROM python:3.11-slim\nRUN --mount=type=cache,target=/var/cache/apt poetry install\n",
    },
  ],
  invalid: [
    {
      name: "POETRY_CACHE_DIR elsewhere",
      code: "FROM python:3.11-slim\nENV POETRY_CACHE_DIR=/tmp/poetry_cache\nRUN --mount=type=cache,target=/root/.cache/pypoetry poetry install\n",
      lines: [3],
      message: "/tmp/poetry_cache",
    },
    {
      name: "pip cache mounted for Poetry",
      code: "FROM python:3.11-slim\nRUN --mount=type=cache,target=/root/.cache/pip poetry install --no-root\n",
      lines: [2],
    },
    {
      name: "root's cache mounted for another user",
      code: "FROM python:3.11-slim\nUSER app\nRUN --mount=type=cache,target=/root/.cache/pip pip install x\n",
      lines: [3],
      message: "/home/app/.cache/pip",
    },
  ],
});
