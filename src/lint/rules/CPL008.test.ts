import { rule } from "./CPL008.js";
import { ruleTable } from "./tester.js";

ruleTable(rule, {
  valid: [
    {
      name: "pip --no-cache-dir",
      code: "FROM python:3.11-slim\nRUN pip install --no-cache-dir poetry==1.8.5\n",
    },
    {
      name: "pip's --no-cache abbreviation",
      code: "FROM python:3.11-slim\nRUN pip install --progress-bar off --no-cache poetry==1.8.5\n",
    },
    {
      name: "PIP_NO_CACHE_DIR",
      code: "FROM python:3.11-slim\nENV PIP_NO_CACHE_DIR=1\nRUN pip install poetry==1.8.5\n",
    },
    {
      name: "Poetry cache removed in the same RUN (seed)",
      code: "FROM python:3.11-slim\nRUN POETRY_CACHE_DIR=/tmp/poetry-cache poetry install; \\\n    rm --recursive /tmp/poetry-cache\n",
    },
    {
      name: "cache mount at Poetry's cache",
      code: "# syntax=docker/dockerfile:1\nFROM python:3.11-slim\nENV POETRY_CACHE_DIR=/root/.cache/pypoetry\nRUN --mount=type=cache,target=/root/.cache/pypoetry poetry install --only main\n",
    },
    {
      name: "rm of $POETRY_CACHE_DIR",
      code: "FROM python:3.11-slim\nENV POETRY_CACHE_DIR=/tmp/pc\nRUN poetry install && rm -rf $POETRY_CACHE_DIR\n",
    },
    {
      name: "builder stage caches do not reach the image",
      code: "FROM python:3.11 AS b\nRUN poetry install\nFROM python:3.11-slim\nCOPY --from=b /app /app\n",
    },
    {
      name: "the mount= typo is CPL009's",
      code: "FROM python:3.11-slim\nRUN mount=type=cache,target=/root/.cache poetry install\n",
    },
  ],
  invalid: [
    {
      name: "pip without --no-cache-dir",
      code: "FROM python:3.11-slim\nRUN pip install poetry==1.8.5\n",
      lines: [2],
      message: "/root/.cache/pip",
      output: "FROM python:3.11-slim\nRUN pip install --no-cache-dir poetry==1.8.5\n",
    },
    {
      name: "poetry install with an in-project venv: removal is safe",
      code: "FROM python:3.11-slim\nENV POETRY_VIRTUALENVS_IN_PROJECT=true\nRUN poetry install --only main\n",
      lines: [3],
      output:
        "FROM python:3.11-slim\nENV POETRY_VIRTUALENVS_IN_PROJECT=true\nRUN poetry install --only main && rm -rf /root/.cache/pypoetry\n",
    },
    {
      name: "default venv lives in the cache: reported, not fixed",
      code: "FROM python:3.11-slim\nRUN poetry install --only main\n",
      lines: [2],
    },
    {
      name: "non-root user's cache",
      code: "FROM python:3.11-slim\nUSER app\nENV POETRY_VIRTUALENVS_CREATE=false\nRUN poetry install\n",
      lines: [4],
      message: "/home/app/.cache/pypoetry",
      output:
        "FROM python:3.11-slim\nUSER app\nENV POETRY_VIRTUALENVS_CREATE=false\nRUN poetry install && rm -rf /home/app/.cache/pypoetry\n",
    },
  ],
});
