// render(plan) → Dockerfile and .dockerignore text: pure and deterministic, so outputs can be snapshotted.
import { UserError } from "../errors.js";
import type { Plan, RenderedFiles } from "../plan/types.js";
import { poetryCapabilities } from "../project/poetry.js";
import { VERSION } from "../version.js";
import { comment, copy, execForm, labelValue, word, words } from "./dockerfile-values.js";
import { normalizePyprojectCommand } from "./normalize.js";

const POETRY_CACHE = "/root/.cache/pypoetry";
const PIP_CACHE = "/root/.cache/pip";

/** A Dockerfile instruction whose arguments continue over several lines. */
function continued(head: string, parts: string[]): string {
  const [first, ...rest] = parts;
  return [first === undefined ? head : `${head} ${first}`, ...rest].join(" \\\n    ");
}

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

interface Context {
  plan: Plan;
  mounts: boolean;
}

function cacheMounts(ctx: Context, targets: string[]): string[] {
  if (!ctx.mounts) return [];
  return targets.map((target) =>
    target.startsWith("/var/")
      ? `--mount=type=cache,target=${target},sharing=locked`
      : `--mount=type=cache,target=${target}`,
  );
}

/** `RUN [secret mounts, one a line] [cache mounts] cmd1 && cmd2 ...`, one command a line. */
function run(ctx: Context, mountTargets: string[], commands: string[], secretMounts: string[] = []): string {
  const mounts = cacheMounts(ctx, mountTargets);
  const [first = "true", ...rest] = commands;
  const heads = [...secretMounts, ...(mounts.length ? [mounts.join(" ")] : [])];
  const lines = heads.length ? [`RUN ${heads[0]}`, ...heads.slice(1), first] : [`RUN ${first}`];
  return [...lines, ...rest.map((command) => `&& ${command}`)].join(" \\\n    ");
}

/** The commands of an apt install, and the cache folders they mount (none: the lists are removed instead). */
function aptCommands(ctx: Context, packages: string[], keepCacheMounts: boolean): [string[], string[]] {
  const list = words("debian-package", packages, "the Debian package").join(" ");
  if (ctx.mounts && keepCacheMounts) {
    // Official images delete downloaded .debs after each install; with a cache mount we want to keep them.
    return [
      ["/var/cache/apt", "/var/lib/apt/lists"],
      [
        "rm -f /etc/apt/apt.conf.d/docker-clean",
        "apt-get update",
        `apt-get install -y --no-install-recommends ${list}`,
      ],
    ];
  }
  return [
    [],
    ["apt-get update", `apt-get install -y --no-install-recommends ${list}`, "rm -rf /var/lib/apt/lists/*"],
  ];
}

function aptInstall(ctx: Context, packages: string[], keepCacheMounts: boolean): string {
  const [mounts, commands] = aptCommands(ctx, packages, keepCacheMounts);
  return run(ctx, mounts, commands);
}

/**
 * The builder's compilers. A multi-platform build installs them only on the platforms that compile something
 * (a package with an x86_64 wheel but none for aarch64 compiles on arm64 alone): one RUN that picks by the
 * TARGETARCH the engine sets for each platform. Without it (the legacy builder, a build with no --platform)
 * the image's own Debian architecture decides, which is the platform being built.
 */
function builderApt(ctx: Context): string[] {
  const { native } = ctx.plan;
  if (!native.buildPackages.length) return [];
  const byArch = new Map<string, string[]>();
  for (const [platform, packages] of Object.entries(native.buildPackagesByPlatform ?? {})) {
    const arch = platform.replace(/^linux\//, "").replace(/-musl$/, "");
    byArch.set(arch, [...new Set([...(byArch.get(arch) ?? []), ...packages])].sort());
  }
  const lists = [...byArch.values()].map((list) => list.join(" "));
  if (byArch.size < 2 || lists.every((list) => list === lists[0]))
    return [aptInstall(ctx, native.buildPackages, true)];
  const [mounts] = aptCommands(ctx, native.buildPackages, true);
  const arms = [...byArch]
    .filter(([, packages]) => packages.length)
    .map(
      ([arch, packages]) =>
        `  ${word("name", arch, "the architecture")}) ${aptCommands(ctx, packages, true)[1].join(" && ")} ;;`,
    );
  const head = cacheMounts(ctx, mounts);
  return [
    "ARG TARGETARCH",
    [
      `RUN ${head.length ? `${head.join(" ")} \\\n    ` : ""}case "\${TARGETARCH:-$(dpkg --print-architecture)}" in`,
      ...arms,
      "esac",
    ].join(" \\\n    "),
  ];
}

type InstallKind = "dependencies" | "root" | "development";

function poetryInstall(plan: Plan, kind: InstallKind): string {
  // The plan pins a valid version; were it not known, the flags of current Poetry are the better guess.
  const groups = poetryCapabilities(plan.poetry.version).groups !== false;
  const args = ["poetry", "install"];
  if (kind === "development") {
    if (groups && plan.install.developmentGroups.length)
      args.push("--with", words("name", plan.install.developmentGroups, "the group").join(","));
  } else if (plan.features.excludeDevGroups) {
    if (groups) args.push("--only", words("name", plan.install.groups, "the group").join(","));
    else args.push("--no-dev");
  } else {
    const optional = plan.install.groups.filter((g) => g !== "main");
    if (groups && optional.length) args.push("--with", words("name", optional, "the group").join(","));
  }
  if (plan.install.extras.length)
    args.push("--extras", shellQuote(words("name", plan.install.extras, "the extra").join(" ")));
  if (kind === "dependencies") args.push("--no-root");
  return args.join(" ");
}

/** The install command, with the cache either mounted or removed in the same layer, and the credentials it needs. */
function poetryRun(ctx: Context, kind: InstallKind): string {
  const { features } = ctx.plan;
  const credentials = installCredentials(ctx.plan, kind);
  const commands = [...credentials.setup, poetryInstall(ctx.plan, kind)];
  if (!ctx.mounts && features.cleanCaches) commands.push(`rm -rf ${POETRY_CACHE} ${PIP_CACHE}`);
  return run(ctx, [POETRY_CACHE, PIP_CACHE], commands, credentials.mounts);
}

const SECRETS = "/run/secrets";
/** OpenSSH's GlobalKnownHostsFile, read by every ssh client run as any user */
const SSH_KNOWN_HOSTS = "/etc/ssh/ssh_known_hosts";

/**
 * Build secrets for an install that reaches private indexes or SSH git repositories. Each secret is a file
 * (under /run/secrets, but for the SSH host keys) for the length of this one RUN, read into Poetry's own
 * variables there and only there:
 * never ARG or ENV (both are kept in the image's history), never printed. Files rather than the `env=` mount
 * option, which the built-in frontends of Docker 20.10 and buildah do not read. A secret the build was not
 * given is skipped, so an index can be reached with either the username/password pair or a netrc file;
 * Poetry then fails on the index's 401 if neither came.
 */
function installCredentials(plan: Plan, kind: InstallKind): { mounts: string[]; setup: string[] } {
  // The root install after the dependencies only adds the project: everything it resolves is installed already.
  const reaches = (item: { production: boolean }) =>
    kind === "development" ||
    (item.production && (kind === "dependencies" || !plan.features.dependenciesBeforeCode));
  const indexes = plan.install.indexes.filter(reaches);
  const ssh = plan.install.sshGit.filter(reaches);
  const mounts: string[] = [];
  const setup: string[] = [];
  if (indexes.length) {
    const ids = indexes.flatMap((index) => [
      word("name", index.usernameEnv, "the variable"),
      word("name", index.passwordEnv, "the variable"),
    ]);
    mounts.push(...[...ids, "netrc"].map((id) => `--mount=type=secret,id=${id}`));
    setup.push(
      `for id in ${ids.join(" ")}; do if [ -s "${SECRETS}/$id" ]; then export "$id=$(cat "${SECRETS}/$id")"; fi; done`,
      // requests, under Poetry, reads the file NETRC names for a host it has no other credentials for.
      `if [ -s ${SECRETS}/netrc ]; then export NETRC=${SECRETS}/netrc; fi`,
    );
  }
  if (ssh.length) {
    // The host's key comes from the user's known_hosts, mounted where ssh itself looks for the system-wide
    // file: whoever runs ssh (git, or Poetry's dulwich, which since 1.2.1 ignores GIT_SSH_COMMAND when Poetry
    // calls it) checks the host against it. Without the secret ssh refuses the host: checking stays on.
    mounts.push("--mount=type=ssh", `--mount=type=secret,id=known_hosts,target=${SSH_KNOWN_HOSTS}`);
  }
  return { mounts, setup };
}

function installPoetry(ctx: Context): string[] {
  const { plan } = ctx;
  const home = plan.layout.poetryHome;
  const pipCache = ctx.mounts ? "" : " --no-cache-dir";
  if (plan.features.poetryIsolated) {
    return [
      "# Poetry pinned (POETRY_VERSION above) to the version that wrote poetry.lock, in its own venv: none of its dependencies reach the app.",
      run(
        ctx,
        [PIP_CACHE],
        [
          `python -m venv ${home}`,
          `${home}/bin/pip install${pipCache} "poetry==$POETRY_VERSION"`,
          `ln -s ${home}/bin/poetry /usr/local/bin/poetry`,
        ],
      ),
    ];
  }
  // The seed's `full` variant kept pip's cache; the others did not.
  const flag = !ctx.mounts && plan.features.cleanCaches ? pipCache : "";
  return [run(ctx, [PIP_CACHE], [`pip install${flag} "poetry==$POETRY_VERSION"`])];
}

// Poetry's version is pinned with ENV in the stage that installs it, not with ARG: buildah before 1.29
// (Debian bookworm ships 1.28) never pulls an ARG step from a registry cache (--cache-from), so one
// `ARG POETRY_VERSION` made every later step of the stage, Poetry's own install included, miss a shared cache.
function poetryEnv(plan: Plan): string {
  return continued("ENV", [
    `POETRY_VERSION=${word("version", plan.poetry.version, "the Poetry version")}`,
    "POETRY_NO_INTERACTION=1",
    "POETRY_VIRTUALENVS_CREATE=true",
    "POETRY_VIRTUALENVS_IN_PROJECT=true",
    // The app's venv needs neither pip nor setuptools at run time: Poetry installs without them.
    ...(plan.features.poetryIsolated
      ? ["POETRY_VIRTUALENVS_OPTIONS_NO_PIP=true", "POETRY_VIRTUALENVS_OPTIONS_NO_SETUPTOOLS=true"]
      : []),
    `POETRY_CACHE_DIR=${POETRY_CACHE}`,
  ]);
}

function pythonEnv(): string {
  return continued("ENV", [
    "PYTHONDONTWRITEBYTECODE=1",
    "PYTHONUNBUFFERED=1",
    "PIP_DISABLE_PIP_VERSION_CHECK=1",
  ]);
}

function venvEnv(plan: Plan): string {
  return continued("ENV", [`VIRTUAL_ENV=${plan.layout.venv}`, `PATH="${plan.layout.venv}/bin:$PATH"`]);
}

// Bytecode is compiled at build time so no container start compiles its imports again. compileall rather
// than Poetry's --compile: Poetry writes timestamp-checked .pyc whose bytes depend on when the build ran,
// while hash-based ones are the same on every build. The venv is never edited, so its .pyc skip the check
// (unchecked-hash); the app's code keeps checked-hash, so a source mounted over it in development still wins.
// Third-party packages may ship .py files that are not Python (django-tailwind's cookiecutter templates, seen
// on a real project): like pip, skip what does not compile instead of failing the build; a missing venv still
// fails the step (the assert: compile_dir() itself only returns False). The app's own code stays strict (compileCode):
// a syntax error there is the user's bug and the build is the place to hear of it.
function compileVenv(plan: Plan): string[] {
  if (!plan.features.compileBytecode) return [];
  const venvLib = JSON.stringify(`${plan.layout.venv}/lib`);
  const script = `import compileall, os, py_compile; assert os.path.isdir(${venvLib}); compileall.compile_dir(${venvLib}, quiet=2, workers=0, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)`;
  return [`RUN ${plan.layout.venv}/bin/python -c ${shellQuote(script)}`];
}

function compileCode(plan: Plan): string[] {
  if (!plan.features.compileBytecode) return [];
  const paths = plan.project.sourcePaths.filter((path) => path === "." || !/\.(?!py$)[^/]*$/.test(path));
  if (paths.length === 0) return [];
  const targets = paths.includes(".") ? ["."] : paths;
  const excluded = paths.includes(".") ? ` -x '/\\.venv/'` : "";
  const quoted = projectPaths(targets).map(shellQuote);
  return [`RUN python -m compileall -q --invalidation-mode checked-hash${excluded} ${quoted.join(" ")}`];
}

function copyPath(path: string): string {
  return path === "." ? "COPY . ." : copy([path], `./${path}`);
}

/** The project's own paths (sources, readme, `copy`): each checked before any COPY names it. */
function projectPaths(paths: string[]): string[] {
  return paths.map((path) => (path === "." ? path : word("path", path, "the path")));
}

/** Dependency inputs, the dependency install, then the code and the root install. */
function dependenciesThenCode(ctx: Context): string[] {
  const { plan } = ctx;
  const { features, project } = plan;
  const lines: string[] = features.lockKeyedDependencies
    ? [
        "# Only what the lock resolves to: a new description, version or comment in pyproject.toml keeps this layer.",
        "COPY --from=lock /deps/ ./",
      ]
    : ["COPY pyproject.toml poetry.lock ./"];
  if (plan.install.paths.length) {
    lines.push(
      "# Path dependencies, before the install that needs them: only these folders, each keyed on its own content.",
      ...projectPaths(plan.install.paths.map((dep) => dep.path)).map(copyPath),
    );
  }
  if (features.dependenciesBeforeCode) lines.push(poetryRun(ctx, "dependencies"), ...compileVenv(plan));
  if (project.packageMode) {
    // The root install needs the real pyproject.toml (and its readme, license files) where the reduced one
    // stood; a file in a folder keeps its path (`readme = "docs/README.md"` is read from docs/). The lock
    // stays the lock stage's when that one installs path dependencies non-editable.
    const files = [
      ...(features.lockKeyedDependencies ? ["pyproject.toml"] : []),
      ...(features.lockKeyedDependencies && !nonEditable(plan) ? ["poetry.lock"] : []),
    ];
    if (files.length) lines.push(copy(files, "./"));
    for (const file of projectPaths(project.installFiles)) lines.push(copy([file], `./${file}`));
  }
  // A file the code reads at run time (a Django package's settings reading pyproject.toml) may be here already.
  const copied = new Set(
    project.packageMode ? ["pyproject.toml", "poetry.lock", ...project.installFiles] : [],
  );
  for (const path of projectPaths(project.sourcePaths)) if (!copied.has(path)) lines.push(copyPath(path));
  if (project.packageMode || !features.dependenciesBeforeCode) {
    lines.push(poetryRun(ctx, "root"));
    if (!features.dependenciesBeforeCode) lines.push(...compileVenv(plan));
  }
  lines.push(...compileCode(plan));
  return lines;
}

/** The lock stage rewrites editable path dependencies to regular installs: production copies the venv only. */
function nonEditable(plan: Plan): boolean {
  return plan.features.lockKeyedDependencies && plan.install.paths.some((dep) => dep.develop);
}

function command(plan: Plan): string[] {
  if (!plan.entrypoint) return ['CMD ["python"]'];
  return [
    `${plan.entrypoint.form === "entrypoint" ? "ENTRYPOINT" : "CMD"} ${execForm(plan.entrypoint.command)}`,
  ];
}

function finish(plan: Plan): string[] {
  const lines: string[] = [];
  const env = Object.entries(plan.env);
  if (env.length)
    lines.push(
      continued(
        "ENV",
        env.map(([k, v]) => `${word("name", k, "the environment variable")}=${labelValue(v)}`),
      ),
    );
  if (plan.layout.user) lines.push(`USER ${plan.layout.user.uid}:${plan.layout.user.uid}`);
  if (plan.expose.length) lines.push(`EXPOSE ${plan.expose.map(port).join(" ")}`);
  if (plan.writable.length)
    lines.push(
      `VOLUME ${execForm(projectPaths(plan.writable).map((dir) => `${plan.layout.workdir}/${dir}`))}`,
    );
  const labels = Object.entries(plan.labels);
  if (labels.length)
    lines.push(
      continued(
        "LABEL",
        labels.map(([k, v]) => `${word("name", k, "the label")}=${labelValue(v)}`),
      ),
    );
  lines.push(...command(plan));
  return lines;
}

function createUser(ctx: Context): string[] {
  const user = ctx.plan.layout.user;
  if (!user) return [];
  const { workdir } = ctx.plan.layout;
  // The code and the venv stay root's (read-only for the app); only these folders are the user's to write.
  const writable = projectPaths(ctx.plan.writable).map(
    (dir) => `install -d -o ${user.name} -g ${user.name} ${shellQuote(`${workdir}/${dir}`)}`,
  );
  return [run(ctx, [], [`useradd --create-home --uid ${user.uid} --user-group ${user.name}`, ...writable])];
}

/** Does the file use `RUN --mount` (cache mounts, or secrets and SSH for private sources)? */
function usesMounts(plan: Plan): boolean {
  return plan.features.cacheMounts || plan.install.indexes.length > 0 || plan.install.sshGit.length > 0;
}

function header(plan: Plan): string[] {
  const lines = [];
  if (plan.syntax.frontend)
    lines.push(`# syntax=${word("image", plan.syntax.frontend, "the # syntax= frontend")}`);
  lines.push(
    comment(`Generated by couplet ${VERSION} (strategy: ${plan.strategy}) for ${plan.project.name}.`),
    comment(`${plan.python.reason}.`),
    "# `couplet plan` explains every choice; build with --build-arg PYTHON_IMAGE=... to change the base image.",
    ...(!plan.syntax.frontend && usesMounts(plan)
      ? [
          "# No `# syntax=` line, on purpose: RUN --mount needs the built-in Dockerfile frontend of buildah, podman",
          "# or Docker 20.10+ (BuildKit), and no frontend image is fetched from a registry.",
          "# couplet-ignore-file CPL010",
        ]
      : []),
    "",
    `ARG PYTHON_IMAGE=${word("image", plan.features.fullBuilderImage ? plan.baseImage.builder : plan.baseImage.runtime, "the base image")}`,
    "",
  );
  return lines;
}

function singleStage(ctx: Context): string[] {
  const { plan } = ctx;
  const lines = [`FROM \${PYTHON_IMAGE} AS production`, pythonEnv(), poetryEnv(plan)];
  const apt = [...plan.native.buildPackages, ...plan.native.runtimePackages];
  if (apt.length) lines.push(aptInstall(ctx, [...new Set(apt)].sort(), true));
  lines.push(
    ...installPoetry(ctx),
    "WORKDIR /app",
    ...dependenciesThenCode(ctx),
    venvEnv(plan),
    ...createUser(ctx),
  );
  lines.push(...finish(plan));
  return lines;
}

function multiStage(ctx: Context): string[] {
  const { plan } = ctx;
  const lines: string[] = [];
  lines.push(
    "# base: the interpreter and settings every stage shares.",
    `FROM \${PYTHON_IMAGE} AS base`,
    pythonEnv(),
    `WORKDIR ${plan.layout.workdir}`,
    "",
  );
  const builderParent = plan.features.poetryIsolated ? "poetry" : "base";
  if (plan.features.poetryIsolated) {
    lines.push("FROM base AS poetry", poetryEnv(plan), ...installPoetry(ctx), "");
  }
  if (plan.features.lockKeyedDependencies) {
    lines.push(
      "# lock: pyproject.toml reduced to what poetry.lock's content-hash covers, with sorted keys.",
      "FROM poetry AS lock",
      "COPY pyproject.toml poetry.lock /lock/",
      ...(plan.install.rootRequiredBy.length
        ? [
            comment(
              `The root version stays: ${plan.install.rootRequiredBy.join(", ")} require(s) ${plan.project.name}, so the install must see it.`,
            ),
          ]
        : []),
      `RUN ${normalizePyprojectCommand(`${plan.layout.poetryHome}/bin/python`, "/lock", "/deps", {
        keepVersion: plan.install.rootRequiredBy.length > 0,
        nonEditable: nonEditable(plan),
      })}`,
      "",
    );
  }
  lines.push(
    comment(
      `builder: ${plan.native.buildPackages.length ? `compilers and headers for ${[...new Set(plan.native.compile.map((c) => c.name))].join(", ")}; ` : ""}dependencies before code.`,
    ),
    `FROM ${builderParent} AS builder`,
  );
  if (!plan.features.poetryIsolated) lines.push(poetryEnv(plan));
  lines.push(...builderApt(ctx));
  if (!plan.features.poetryIsolated) lines.push(...installPoetry(ctx));
  lines.push(...dependenciesThenCode(ctx), "");
  if (plan.features.developmentTarget) {
    lines.push(
      comment(
        `development: adds the ${plan.install.developmentGroups.join(", ") || "(no)"} group(s); build it with --target development.`,
      ),
      "FROM builder AS development",
      poetryRun(ctx, "development"),
      venvEnv(plan),
      ...command(plan),
      "",
    );
  }
  lines.push(
    "# production: the slim base, the runtime libraries, the venv at the same path as in the builder, the code.",
    "FROM base AS production",
  );
  lines.push(...createUser(ctx));
  if (plan.native.runtimePackages.length) lines.push(aptInstall(ctx, plan.native.runtimePackages, false));
  // The venv and the code in separate layers: a source edit re-copies only the code.
  lines.push(copy([plan.layout.venv], plan.layout.venv, "builder"));
  const paths = projectPaths(plan.project.sourcePaths);
  // Editable path dependencies point into their folders, which production then needs too.
  const editable = nonEditable(plan) ? [] : plan.install.paths.filter((d) => d.develop).map((d) => d.path);
  for (const path of [...new Set([...paths, ...projectPaths(editable)])]) {
    const inside = `${plan.layout.workdir}/${path}`;
    // The whole folder (`copy = ["."]`) comes from the context: the builder's copy holds the venv too.
    lines.push(path === "." ? "COPY . ./" : copy([inside], inside, "builder"));
  }
  // A single-module file's bytecode sits in its folder's __pycache__, which the copies above leave behind.
  if (plan.features.compileBytecode) {
    const caches = paths
      .filter((path) => path.endsWith(".py"))
      .map((path) =>
        path.includes("/") ? `${path.slice(0, path.lastIndexOf("/"))}/__pycache__` : "__pycache__",
      );
    for (const cache of [...new Set(caches)]) {
      const inside = `${plan.layout.workdir}/${cache}`;
      lines.push(copy([inside], inside, "builder"));
    }
  }
  lines.push(venvEnv(plan), ...finish(plan));
  return lines;
}

export function renderDockerfile(plan: Plan): string {
  const ctx: Context = { plan, mounts: plan.features.cacheMounts };
  const body = plan.features.multiStage ? multiStage(ctx) : singleStage(ctx);
  return `${[...header(plan), ...body]
    .join("\n")
    .replace(/\n{3,}/g, "\n\n")
    .trimEnd()}\n`;
}

function port(n: number): string {
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    throw new UserError(`the port ${n} is not a port number (1-65535); no Dockerfile was written`);
  return String(n);
}

export function renderDockerignore(plan: Plan): string {
  return `# Generated by couplet: keep the build context to what the image needs.\n${plan.dockerignore.join("\n")}\n`;
}

export function render(plan: Plan): RenderedFiles {
  return { dockerfile: renderDockerfile(plan), dockerignore: renderDockerignore(plan) };
}
