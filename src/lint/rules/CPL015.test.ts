// Runtime libraries from real locks (made by real Poetry): examples/flask-uwsgi (psycopg2 and uWSGI, sdists only)
// and the large fixture (lxml, whose wheels bundle libxml2/libxslt up to CPython 3.15).
import { analyze } from "../../project/analyze.js";
import { lintProject } from "../context.js";
import { rule } from "./CPL015.js";
import { ruleTable } from "./tester.js";

const flask = lintProject(
  await analyze(new URL("../../../examples/flask-uwsgi", import.meta.url).pathname),
  "bookworm",
);
const large = lintProject(
  await analyze(new URL("../../../test/fixtures/projects/large", import.meta.url).pathname),
  "bookworm",
);
// psycopg2-binary 2.8.6 locks Linux wheels for x86_64 only: on arm64 it compiles against the system libpq.
const amd64Only = lintProject(
  await analyze(new URL("../../../test/fixtures/projects/amd64-only-wheels", import.meta.url).pathname),
  "bookworm",
);
const onPlatform = (platform: string) =>
  `FROM --platform=${platform} python:3.9-slim AS b\nRUN python -m venv /venv\nFROM --platform=${platform} python:3.9-slim\nCOPY --from=b /venv /venv\n`;
const lxml = { ...large, nativeRuntime: large.nativeRuntime.filter((n) => n.name === "lxml") };

const stages = (python: string) =>
  `FROM python:${python}-slim AS b\nRUN python -m venv /venv\nFROM python:${python}-slim\n`;
const apt = (packages: string) =>
  `RUN apt-get update && apt-get install -y --no-install-recommends ${packages} && rm -rf /var/lib/apt/lists/*\n`;

ruleTable(rule, {
  valid: [
    {
      name: "runtime libraries installed",
      code: `${stages("3.11")}${apt("libpq5 libpcre3")}COPY --from=b /venv /venv\n`,
      project: flask,
    },
    {
      name: "-dev packages bring the libraries too",
      code: `${stages("3.11")}${apt("libpq-dev libpcre3-dev")}COPY --from=b /venv /venv\n`,
      project: flask,
    },
    {
      name: "lxml's wheel bundles its libraries",
      code: `${stages("3.13")}COPY --from=b /venv /venv\n`,
      project: lxml,
    },
    {
      name: "single stage builds in place",
      code: `FROM python:3.11-slim\n${apt("gcc libpq-dev libpcre3-dev")}`,
      project: flask,
    },
    {
      name: "psycopg2-binary's amd64 wheel bundles libpq",
      code: onPlatform("linux/amd64"),
      project: amd64Only,
    },
    {
      name: "no --platform is amd64",
      code: `${stages("3.9")}COPY --from=b /venv /venv\n`,
      project: amd64Only,
    },
  ],
  invalid: [
    {
      name: "psycopg2-binary has no arm64 wheel: compiled against the system libpq",
      code: onPlatform("linux/arm64"),
      project: amd64Only,
      lines: [4],
      message: "psycopg2-binary 2.8.6 (libpq5)",
    },
    {
      name: "nor a musllinux one (Alpine)",
      code: "FROM python:3.9-alpine AS b\nRUN python -m venv /venv\nFROM python:3.9-alpine\nCOPY --from=b /venv /venv\n",
      project: amd64Only,
      lines: [4],
      message: "psycopg2-binary 2.8.6 (libpq5)",
    },
    {
      name: "libpq5 and libpcre3 missing in the runtime stage",
      code: `${stages("3.11")}${apt("libpq5")}COPY --from=b /venv /venv\n`,
      project: flask,
      lines: [5],
      message: "uwsgi 2.0.28 (libpcre3)",
    },
    {
      name: "no lxml wheel for CPython 3.16 (it has up to 3.15): compiled against the system libxml2",
      code: `${stages("3.16")}COPY --from=b /venv /venv\n`,
      project: lxml,
      lines: [4],
      message: "libxml2",
    },
  ],
});
