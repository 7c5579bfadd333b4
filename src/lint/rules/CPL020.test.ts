import { rule } from "./CPL020.js";
import { ruleTable } from "./tester.js";

ruleTable(rule, {
  valid: [
    { name: "exec form", code: 'FROM python:3.11-slim\nCMD ["uwsgi", "--http", ":8000"]\n' },
    {
      name: "shell form only in a builder",
      code: 'FROM python:3.11 AS b\nCMD echo hi\nFROM python:3.11-slim\nENTRYPOINT ["app"]\n',
    },
    {
      name: "overridden by a later exec form",
      code: 'FROM python:3.11-slim\nCMD python app.py\nCMD ["python", "app.py"]\n',
    },
  ],
  invalid: [
    {
      name: "plain words are converted",
      code: "FROM python:3.11-slim\nCMD uwsgi --http-socket 0.0.0.0:8000 --module app.wsgi:app\n",
      lines: [2],
      message: "SIGTERM",
      output:
        'FROM python:3.11-slim\nCMD ["uwsgi", "--http-socket", "0.0.0.0:8000", "--module", "app.wsgi:app"]\n',
    },
    {
      name: "variables need a shell: no fix",
      code: "FROM python:3.11-slim\nENTRYPOINT exec gunicorn -b :$PORT app:app\n",
      lines: [2],
    },
    {
      name: "inherited from the parent stage",
      code: "FROM python:3.11-slim AS base\nENTRYPOINT python -m app\nFROM base\n",
      lines: [2],
      output: 'FROM python:3.11-slim AS base\nENTRYPOINT ["python", "-m", "app"]\nFROM base\n',
    },
  ],
});
