// The build-time step that reduces pyproject.toml to the inputs of the dependency install.
//
// Poetry refuses a lock whose content-hash does not match pyproject.toml, and the hash covers only the
// dependency tables. Keeping exactly those tables (and blanking the metadata Poetry requires but does not
// hash) gives a file whose bytes change only when the resolved dependencies can change, so the layer that
// installs them is reused across cosmetic edits. It runs with Poetry's own interpreter, which has tomlkit.

/** Keys kept from [project]; `version` is blanked unless a locked package requires the root. */
const PROJECT_KEYS = [
  "name",
  "version",
  "requires-python",
  "dependencies",
  "optional-dependencies",
  "dynamic",
];
/** Keys kept from [tool.poetry]; version, description and authors are blanked. */
const POETRY_KEYS = [
  "name",
  "version",
  "description",
  "authors",
  "package-mode",
  "dependencies",
  "dev-dependencies",
  "group",
  "source",
  "extras",
  "requires-poetry",
  "requires-plugins",
];

export interface NormalizeOptions {
  /** Keep the root version: a locked package requires the root package, so the install must see it. */
  keepVersion?: boolean;
  /** Install the lock's path dependencies non-editable: production gets the venv, not their folders. */
  nonEditable?: boolean;
}

/** Python statements, one per line; joined with "; " they form a valid `python -c` program. */
function program(source: string, target: string, options: NormalizeOptions): string[] {
  const list = (keys: string[]) => JSON.stringify(keys);
  const blank = options.keepVersion
    ? '{"description": "", "authors": []}'
    : '{"version": "0", "description": "", "authors": []}';
  return [
    "import json, tomlkit",
    `doc = tomlkit.parse(open("${source}/pyproject.toml").read())`,
    // Only the kept values go through JSON (sorted keys, plain types): a date or an inf in a table
    // that is dropped, such as [tool.towncrier], is never serialized.
    "plain = lambda value: json.loads(json.dumps(value, sort_keys=True))",
    `blank = ${blank}`,
    "pick = lambda table, keys: {k: blank.get(k, plain(table[k])) for k in keys if k in table}",
    `out = {"project": pick(doc["project"], ${list(PROJECT_KEYS)})} if "project" in doc else {}`,
    `out["tool"] = {"poetry": pick(doc.get("tool", {}).get("poetry", {}), ${list(POETRY_KEYS)})}`,
    'out.update({"dependency-groups": plain(doc["dependency-groups"])} if "dependency-groups" in doc else {})',
    `open("${target}/pyproject.toml", "w").write(tomlkit.dumps(out))`,
  ];
}

/** The shell command for a RUN instruction, continued over lines for reading. */
export function normalizePyprojectCommand(
  python: string,
  source: string,
  target: string,
  options: NormalizeOptions = {},
): string {
  const statements = program(source, target, options);
  const code = statements.map((statement, i) => {
    const text = `${statement}${i === statements.length - 1 ? "'" : ";"}`;
    return i === 0 ? `&& ${python} -c '${text}` : `      ${text}`;
  });
  return [
    `mkdir -p ${target}`,
    `    && cp ${source}/poetry.lock ${target}/poetry.lock`,
    // The lock's own `develop` flag is what Poetry's installer follows, and the content-hash does not cover it.
    ...(options.nonEditable
      ? [`    && sed -i 's/^develop = true$/develop = false/' ${target}/poetry.lock`]
      : []),
    ...code.map((line, i) => (i === 0 ? `    ${line}` : line)),
  ].join(" \\\n");
}
