import { rule } from "./CPL019.js";
import { ruleTable } from "./tester.js";

ruleTable(rule, {
  valid: [
    { name: "USER by uid", code: "FROM python:3.11-slim\nRUN useradd -u 10001 app\nUSER 10001:10001\n" },
    {
      name: "USER inherited from the parent stage",
      code: "FROM python:3.11-slim AS base\nUSER app\nFROM base\n",
    },
    {
      name: "root only in the builder",
      code: "FROM python:3.11 AS b\nUSER root\nFROM python:3.11-slim\nUSER app\n",
    },
  ],
  invalid: [
    { name: "no USER", code: 'FROM python:3.11-slim\nCMD ["python"]\n', lines: [1] },
    { name: "back to root", code: "FROM python:3.11-slim\nUSER app\nUSER root\n", lines: [3] },
    { name: "uid 0", code: "FROM python:3.11-slim\nUSER 0:0\n", lines: [2] },
    {
      name: "the target stage is what counts",
      code: "FROM python:3.11-slim AS dev\nFROM python:3.11-slim AS prod\nUSER app\n",
      target: "dev",
      lines: [1],
    },
  ],
});
