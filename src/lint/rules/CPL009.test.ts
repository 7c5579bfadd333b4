import { rule } from "./CPL009.js";
import { ruleTable } from "./tester.js";

ruleTable(rule, {
  valid: [
    {
      name: "a real mount",
      code: "# syntax=docker/dockerfile:1\nFROM python:3.11-slim\nRUN --mount=type=cache,target=/root/.cache poetry install\n",
    },
    { name: "an ordinary assignment", code: "FROM python:3.11-slim\nRUN MOUNT_POINT=/data ./setup.sh\n" },
    {
      name: "mount= later in the script",
      code: "FROM python:3.11-slim\nRUN echo hi && mount=type=cache true\n",
    },
  ],
  invalid: [
    {
      name: "the seed's typo over a continuation",
      code: "FROM python:3.11-slim\nRUN mount=type=cache,target=/root/.cache \\\n    poetry install\n",
      lines: [2],
      message: "variable assignment",
      output: "FROM python:3.11-slim\nRUN --mount=type=cache,target=/root/.cache \\\n    poetry install\n",
    },
    {
      name: "after a real flag",
      code: "FROM python:3.11-slim\nRUN --network=host mount=type=cache,target=/root/.cache/pip pip install x\n",
      lines: [2],
      output:
        "FROM python:3.11-slim\nRUN --network=host --mount=type=cache,target=/root/.cache/pip pip install x\n",
    },
  ],
});
