import { rule } from "./CPL010.js";
import { ruleTable } from "./tester.js";

ruleTable(rule, {
  valid: [
    {
      name: "with the directive",
      code: "# syntax=docker/dockerfile:1\nFROM python:3.11-slim\nRUN --mount=type=cache,target=/root/.cache/pip pip install x\n",
    },
    { name: "no mounts", code: "FROM python:3.11-slim\nRUN pip install --no-cache-dir x\n" },
  ],
  invalid: [
    {
      name: "two mounts, one directive added",
      code: "FROM python:3.11-slim\nRUN --mount=type=cache,target=/root/.cache/pip pip install x\nRUN --mount=type=secret,id=netrc true\n",
      lines: [2, 3],
      message: "# syntax=docker/dockerfile:1",
      output:
        "# syntax=docker/dockerfile:1\nFROM python:3.11-slim\nRUN --mount=type=cache,target=/root/.cache/pip pip install x\nRUN --mount=type=secret,id=netrc true\n",
    },
    {
      name: "a plain comment is not the directive",
      code: "# build me\nFROM python:3.11-slim\nRUN --mount=type=cache,target=/var/cache/apt apt-get update\n",
      lines: [3],
      output:
        "# syntax=docker/dockerfile:1\n# build me\nFROM python:3.11-slim\nRUN --mount=type=cache,target=/var/cache/apt apt-get update\n",
    },
  ],
});
