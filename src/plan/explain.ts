// A plan as text a person reads before trusting the generated Dockerfile.

import { credentialLines } from "./credentials.js";
import { STRATEGY_TABLE } from "./strategies.js";
import type { Plan } from "./types.js";

function row(label: string, ...lines: string[]): string {
  const [first = "", ...rest] = lines;
  return [`${label.padEnd(13)}${first}`, ...rest.map((line) => `${" ".repeat(13)}${line}`)].join("\n");
}

const FEATURE_NAMES: Record<keyof Plan["features"], string> = {
  multiStage: "builder and runtime stages",
  developmentTarget: "development target",
  cacheMounts: "BuildKit cache mounts",
  poetryIsolated: "Poetry in its own venv",
  lockKeyedDependencies: "dependency layer keyed on the lock",
  dependenciesBeforeCode: "dependencies before code",
  excludeDevGroups: "production groups only",
  cleanCaches: "no cache left in layers",
  fullBuilderImage: "full python image",
  compileBytecode: "bytecode compiled at build time",
};

/** The builder's apt packages; per platform when a multi-platform build installs them on some platforms only. */
function buildApt(plan: Plan): string[] {
  const all = plan.native.buildPackages.join(" ");
  if (!all) return ["none (no compiler in any stage)"];
  const perPlatform = Object.entries(plan.native.buildPackagesByPlatform ?? {});
  if (perPlatform.length < 2 || perPlatform.every(([, names]) => names.join(" ") === all)) return [all];
  return perPlatform.map(
    ([platform, names]) =>
      `${platform}: ${names.join(" ") || "none (wheels for every package, no compiler)"}`,
  );
}

/**
 * The final stage's apt packages, then why each is there: a reader can tell a table entry from their own
 * pyproject line, and `couplet assemble` refuses a base that lacks one (it runs no apt).
 */
function runtimeApt(plan: Plan): string[] {
  const names = plan.native.runtimePackages;
  if (names.length === 0) return ["none"];
  const reasons = names.flatMap((name) =>
    (plan.native.runtimeReasons?.[name] ?? []).map((reason) => `${name}: for ${reason}`),
  );
  return [names.join(" "), ...reasons];
}

export function explainPlan(plan: Plan): string {
  const on = Object.entries(plan.features)
    .filter(([, value]) => value)
    .map(([key]) => FEATURE_NAMES[key as keyof Plan["features"]]);
  const lines = [
    `couplet plan for ${plan.project.name}${plan.project.version ? ` ${plan.project.version}` : ""} (strategy: ${plan.strategy})`,
    row("", STRATEGY_TABLE[plan.strategy].summary),
    "",
    row("Platforms", plan.platforms.join(", ")),
    row("Python", `CPython ${plan.python.version} on Debian ${plan.python.debian}`, plan.python.reason),
    ...plan.python.rejected.map((r) => row("", `not ${r.version}: ${r.reason}`)),
    row(
      "Base image",
      `${plan.baseImage.runtime}${plan.baseImage.builder !== plan.baseImage.runtime ? ` (builder: ${plan.baseImage.builder})` : ""}, set with --build-arg ${plan.baseImage.argument}=...`,
    ),
    row("Poetry", `${plan.poetry.version}, from ${plan.poetry.source}`),
    row("Syntax line", plan.syntax.reason),
    row(
      "Groups",
      `production: ${plan.install.groups.join(", ")}`,
      `left out of production: ${plan.install.excludedGroups.join(", ") || "none"}`,
      ...(plan.features.developmentTarget
        ? [`development target adds: ${plan.install.developmentGroups.join(", ") || "none"}`]
        : []),
    ),
    row("Extras", plan.install.extras.join(", ") || "none"),
    ...(plan.install.paths.length
      ? [
          row(
            "Path deps",
            ...plan.install.paths.map(
              (d) =>
                `${d.path} (${d.name}): copied before the dependency install${d.develop ? (plan.features.lockKeyedDependencies ? ", installed non-editable (production gets the venv, not the folder)" : ", editable: the folder is copied into production too") : ""}`,
            ),
          ),
        ]
      : []),
    ...(plan.install.rootRequiredBy.length
      ? [
          row(
            "Root version",
            `kept in the dependency layer's pyproject: ${plan.install.rootRequiredBy.join(", ")} require(s) ${plan.project.name}, and \`poetry install --no-root\` must solve that (a version bump reinstalls the dependencies)`,
          ),
        ]
      : []),
    ...(credentialLines(plan).length ? [row("Secrets", ...credentialLines(plan))] : []),
    row(
      "Compiled",
      ...(plan.native.compile.length
        ? plan.native.compile.map(
            (c) =>
              `${c.name} ${c.version}${plan.platforms.length > 1 ? ` on ${c.platforms.join(", ")}` : ""}: ${c.reason}`,
          )
        : [
            `nothing: every production package has a wheel for this interpreter${plan.platforms.length > 1 ? " on every platform" : ""}`,
          ]),
    ),
    row("Build apt", ...buildApt(plan)),
    row("Runtime apt", ...runtimeApt(plan)),
    row(
      "Command",
      ...(plan.entrypoint
        ? [
            `${plan.entrypoint.form === "entrypoint" ? "ENTRYPOINT" : "CMD"} ${JSON.stringify(plan.entrypoint.command)}, from ${plan.entrypoint.source}`,
            ...plan.entrypoint.found.map((fact) => `found: ${fact}`),
            ...(plan.entrypoint.override ? [plan.entrypoint.override] : []),
          ]
        : ['none found: set [tool.couplet] cmd = ["program", "arg"] in pyproject.toml']),
    ),
    ...(Object.keys(plan.env).length
      ? [row("Environment", ...Object.entries(plan.env).map(([k, v]) => `${k}=${v}`))]
      : []),
    ...(plan.expose.length ? [row("Port", plan.expose.join(", "))] : []),
    row(
      "Code",
      plan.project.sourcePaths.join(", "),
      plan.project.packageMode
        ? plan.project.sourceReason
        : `package-mode = false: copied, not installed: ${plan.project.sourceReason}`,
    ),
    row(
      "User",
      plan.layout.user
        ? `${plan.layout.user.name} (uid ${plan.layout.user.uid}); code and venv read-only`
        : "root",
    ),
    ...(plan.writable.length
      ? [
          row(
            "Writable",
            `${plan.writable.map((dir) => `${plan.layout.workdir}/${dir}`).join(", ")}: owned by the app user, a VOLUME`,
            "set [tool.couplet] writable = [...] to choose other folders (or none)",
          ),
        ]
      : []),
    row("Techniques", on.join(", ")),
  ];
  if (plan.warnings.length) lines.push(row("Warnings", ...plan.warnings));
  return `${lines.join("\n")}\n`;
}
