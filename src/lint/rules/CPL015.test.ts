import { rule } from "./CPL015.js";
import { project, ruleTable } from "./tester.js";

// Files as a real poetry.lock lists them (psycopg2 2.9.10 and uWSGI 2.0.28 ship only sdists).
const psycopg2 = {
  name: "psycopg2",
  version: "2.9.10",
  runtime: ["libpq5"],
  runtimeWithWheel: false,
  files: [{ file: "psycopg2-2.9.10.tar.gz" }],
};
const binary = {
  name: "psycopg2-binary",
  version: "2.9.10",
  runtime: ["libpq5"],
  runtimeWithWheel: false,
  files: [{ file: "psycopg2_binary-2.9.10-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl" }],
};
const multi = "FROM python:3.11-slim AS b\nRUN python -m venv /venv\nFROM python:3.11-slim\n";

ruleTable(rule, {
  valid: [
    {
      name: "runtime library installed",
      code: `${multi}RUN apt-get install -y --no-install-recommends libpq5\nCOPY --from=b /venv /venv\n`,
      project: project({ nativeRuntime: [psycopg2] }),
    },
    {
      name: "wheel bundles the library",
      code: `${multi}COPY --from=b /venv /venv\n`,
      project: project({ nativeRuntime: [binary] }),
    },
    {
      name: "single stage builds in place",
      code: "FROM python:3.11-slim\nRUN apt-get install -y libpq-dev gcc\n",
      project: project({ nativeRuntime: [psycopg2] }),
    },
  ],
  invalid: [
    {
      name: "libpq5 missing in the runtime stage",
      code: `${multi}COPY --from=b /venv /venv\n`,
      project: project({ nativeRuntime: [psycopg2] }),
      lines: [4],
      message: "psycopg2 2.9.10 (libpq5)",
    },
    {
      name: "wheel without a cp313 build on 3.13",
      code: "FROM python:3.13-slim AS b\nFROM python:3.13-slim\nCOPY --from=b /venv /venv\n",
      project: project({ nativeRuntime: [binary] }),
      lines: [3],
    },
  ],
});
