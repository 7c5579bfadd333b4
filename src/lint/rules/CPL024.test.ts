import { rule } from "./CPL024.js";
import { ruleTable } from "./tester.js";

ruleTable(rule, {
  valid: [
    { name: "example file", code: "FROM python:3.11-slim\nCOPY .env.example ./\n" },
    {
      name: "from another stage",
      code: "FROM python:3.11 AS b\nFROM python:3.11-slim\nCOPY --from=b /app/.env /tmp/\n",
    },
  ],
  invalid: [
    { name: ".env", code: "FROM python:3.11-slim\nCOPY .env pyproject.toml ./\n", lines: [2] },
    {
      name: "production.env via ADD",
      code: "FROM python:3.11-slim\nADD config/production.env /app/\n",
      lines: [2],
    },
    { name: ".env.local", code: "FROM python:3.11-slim\nCOPY .env.local /app/.env\n", lines: [2] },
  ],
});
