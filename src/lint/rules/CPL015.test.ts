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
  ],
  invalid: [
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
