import { rule } from "./CPL021.js";
import { ruleTable } from "./tester.js";

ruleTable(rule, {
  valid: [
    { name: "COPY", code: "FROM python:3.11-slim\nCOPY . /app\n" },
    { name: "ADD of a URL", code: "FROM python:3.11-slim\nADD https://example.org/x.tar.gz /tmp/\n" },
    { name: "ADD of an archive to unpack", code: "FROM python:3.11-slim\nADD rootfs.tar.gz /\n" },
  ],
  invalid: [
    {
      name: "ADD of local files",
      code: "FROM python:3.11-slim\nADD . /app\n",
      lines: [2],
      output: "FROM python:3.11-slim\nCOPY . /app\n",
    },
    {
      name: "lower-case keyword, flags kept",
      code: "FROM python:3.11-slim\nadd --chown=app:app pyproject.toml poetry.lock ./\n",
      lines: [2],
      output: "FROM python:3.11-slim\nCOPY --chown=app:app pyproject.toml poetry.lock ./\n",
    },
    {
      name: "ADD-only flag: no fix",
      code: "FROM python:3.11-slim\nADD --checksum=sha256:00 app.py /app/\n",
      lines: [2],
    },
  ],
});
