import { rule } from "./CPL012.js";
import { ruleTable } from "./tester.js";

ruleTable(rule, {
  valid: [
    {
      name: "compilers only in the builder",
      code: "FROM python:3.11-slim AS b\nRUN apt-get install -y --no-install-recommends gcc libpq-dev\nFROM python:3.11-slim\nRUN apt-get install -y --no-install-recommends libpq5\n",
    },
    {
      name: "purged in the same RUN",
      code: "FROM python:3.11-slim\nRUN apt-get install -y gcc && pip install x && apt-get purge -y gcc\n",
    },
  ],
  invalid: [
    {
      name: "gcc kept",
      code: "FROM python:3.11-slim\nRUN apt-get install -y gcc libc-dev libpcre3-dev\n",
      lines: [2],
      message: "gcc, libc-dev, libpcre3-dev",
    },
    {
      name: "build-essential via apk",
      code: "FROM python:3.11-alpine\nRUN apk add --no-cache build-base\n",
      lines: [2],
    },
    {
      name: "in a parent of the final stage",
      code: "FROM python:3.11-slim AS base\nRUN apt-get install -y g++\nFROM base\n",
      lines: [2],
    },
  ],
});
