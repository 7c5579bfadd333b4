// Groups from a real project locked by Poetry 1.8.5: dev-dependencies (dev), test, and an optional docs group.
import { analyze } from "../../project/analyze.js";
import { lintProject } from "../context.js";
import { rule } from "./CPL006.js";
import { ruleTable } from "./tester.js";

const project = await analyze(
  new URL("../../../test/fixtures/projects/poetry1-groups", import.meta.url).pathname,
);
const groups = lintProject(project, "bookworm");
// `[tool.couplet] with = ["docs"]`: the project itself puts docs in production.
const withDocs = lintProject({ ...project, couplet: { ...project.couplet, with: ["docs"] } }, "bookworm");

ruleTable(rule, {
  valid: [
    {
      name: "a group [tool.couplet] with puts in production (what couplet init writes for it)",
      code: "FROM python:3.11-slim\nRUN poetry install --only main,docs\n",
      project: withDocs,
    },
    {
      name: "--with a production group, --without the others",
      code: "FROM python:3.11-slim\nRUN poetry install --with docs --without dev,test\n",
      project: withDocs,
    },
    { name: "--only main", code: "FROM python:3.11-slim\nRUN poetry install --only main\n" },
    {
      name: "--without every default group",
      code: "FROM python:3.11-slim\nRUN poetry install --without dev,test\n",
      project: groups,
    },
    {
      name: "legacy --no-dev (CPL007's business)",
      code: "FROM python:3.11-slim\nRUN poetry install --no-dev\n",
    },
    {
      name: "development stage that is not the target",
      code: "FROM python:3.11-slim AS base\nFROM base AS development\nRUN poetry install --with dev\nFROM base AS production\nRUN poetry install --only main\n",
    },
  ],
  invalid: [
    {
      name: "plain poetry install",
      code: "FROM python:3.11-slim\nRUN poetry install --no-root\n",
      lines: [2],
      message: "every non-optional group",
    },
    {
      name: "--without leaves a group",
      code: "FROM python:3.11-slim\nRUN poetry install --without dev\n",
      project: groups,
      lines: [2],
      message: "the test group",
    },
    {
      name: "an optional group pulled in",
      code: "FROM python:3.11-slim\nRUN poetry install --only main,docs\n",
      project: groups,
      lines: [2],
    },
    {
      name: "builder whose venv reaches the image",
      code: "FROM python:3.11 AS builder\nRUN poetry install\nFROM python:3.11-slim\nCOPY --from=builder /app /app\n",
      lines: [2],
    },
    {
      name: "--target development",
      code: "FROM python:3.11-slim AS development\nRUN poetry install\nFROM python:3.11-slim AS production\n",
      target: "development",
      lines: [2],
    },
  ],
});
