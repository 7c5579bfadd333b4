// render a GitHub Actions workflow from a plan: lint with SARIF upload, a buildx build for amd64 and arm64, inspect as a gate.
import { Document } from "yaml";
import { quote, UserError } from "../errors.js";
import { credentialsFor } from "../plan/credentials.js";
import type { Plan } from "../plan/types.js";
import { normalizeName } from "../project/names.js";
import { VERSION } from "../version.js";
import { word } from "./dockerfile-values.js";

export interface GithubWorkflowOptions {
  /** The project folder relative to the repository root, with forward slashes ("." when they are the same) */
  projectPath: string;
  /** The branch whose pushes publish the image (and whose cache other branches read) */
  branch: string;
  /**
   * A repository (`ghcr.io/acme/app`, no tag) to push the image to and keep the layer cache in. Without
   * one nothing is pushed and the cache lives in GitHub Actions' cache service.
   */
  registry?: string | undefined;
  /** What `npx` runs couplet from (default this version from npm) */
  couplet?: string;
}

/** Where the workflow lives in the repository: the only place GitHub reads workflows from. */
export const WORKFLOW_PATH = ".github/workflows/couplet.yml";

// Pinned to major versions: each moves only for compatible releases, and Dependabot can raise them. The
// newest majors actionlint knows; the ones before them run on Node 20, which GitHub's runners are dropping.
const ACTIONS = {
  checkout: "actions/checkout@v7",
  setupNode: "actions/setup-node@v7",
  qemu: "docker/setup-qemu-action@v4",
  buildx: "docker/setup-buildx-action@v4",
  build: "docker/build-push-action@v7",
  login: "docker/login-action@v4",
  metadata: "docker/metadata-action@v6",
  uploadSarif: "github/codeql-action/upload-sarif@v4",
} as const;

// couplet needs Node 20.9 or newer; 22 is the oldest release line still maintained.
const NODE_VERSION = "22";
const SARIF_FILE = "couplet-lint.sarif";
// Every strategy names the stage that becomes the image `production` (render.ts).
const TARGET = "production";
const BRANCH = /^[A-Za-z0-9][A-Za-z0-9._/-]*$/;
const NOT_PULL_REQUEST = "github.event_name != 'pull_request'";

/** A `${{ }}` expression: only couplet's own text goes in one, never a value from the project. */
function expr(text: string): string {
  return `\${{ ${text} }}`;
}

/** The registry host of a repository reference, as Docker reads it (no dot, colon or localhost: Docker Hub). */
export function registryHost(repository: string): string | undefined {
  const first = repository.split("/")[0] as string;
  if (repository.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost"))
    return first;
  return undefined;
}

function checkRegistry(value: string): string {
  word("image", value, "--ci-registry");
  const last = value.slice(value.lastIndexOf("/") + 1);
  if (last.includes(":") || value.includes("@"))
    throw new UserError(`--ci-registry ${quote(value)} names a tag or digest; nothing was written`, {
      hint: "give the repository only, e.g. ghcr.io/acme/app: the workflow tags each build itself",
    });
  return value;
}

function checkBranch(value: string): string {
  if (!BRANCH.test(value) || value.includes("..") || value.endsWith("/") || value.endsWith(".lock"))
    throw new UserError(`the branch ${quote(value)} is not a plain branch name; nothing was written`, {
      hint: "use letters, digits and . _ / - (a branch filter in the workflow would read anything else as a pattern)",
    });
  return value;
}

function cacheSpecs(scope: string, registry: string | undefined): { from: string; to: string } {
  if (!registry) return { from: `type=gha,scope=${scope}`, to: `type=gha,mode=max,scope=${scope}` };
  // Pull requests (forks in particular) have no write access to the registry: they read the cache only.
  const ref = `${registry}:buildcache`;
  return {
    from: `type=registry,ref=${ref}`,
    to: expr(`${NOT_PULL_REQUEST} && 'type=registry,ref=${ref},mode=max' || ''`),
  };
}

/** The Docker platforms of the plan (`linux/arm64-musl` is `linux/arm64` to Docker), amd64 first when present. */
export function dockerPlatforms(plan: Plan): string[] {
  const platforms = [...new Set(plan.platforms.map((p) => p.replace(/-musl$/, "")))];
  return platforms.sort((a, b) => Number(b === "linux/amd64") - Number(a === "linux/amd64"));
}

/** The `couplet inspect --fail-on` conditions this plan's image should meet (what its strategy promises). */
export function gateConditions(plan: Plan): string[] {
  const conditions = ["missing-libraries"];
  if (plan.features.cacheMounts || plan.features.cleanCaches) conditions.push("caches");
  // A single stage (or the full python image) keeps its compilers: only a slim runtime stage promises none.
  if (plan.features.multiStage && !plan.features.fullBuilderImage) conditions.push("toolchain");
  if (plan.features.excludeDevGroups) conditions.push("dev-deps");
  return conditions;
}

/**
 * The workflow text. Every value from the project or the command line is checked by the same rules as
 * the Dockerfile's (a name, an image reference, a context path: none can hold `$`, a quote or a line
 * break, so none can open a `${{ }}` expression or a shell word), and the YAML is written by a YAML
 * library, never by pasting strings.
 */
export function renderGithubWorkflow(plan: Plan, options: GithubWorkflowOptions): string {
  const name = word(
    "image",
    normalizeName(word("name", plan.project.name, "the project name")),
    "the image name",
  );
  const projectPath =
    options.projectPath === "." ? "." : word("path", options.projectPath, "the project folder");
  const dockerfile = projectPath === "." ? "Dockerfile" : `${projectPath}/Dockerfile`;
  const branch = checkBranch(options.branch);
  const registry = options.registry === undefined ? undefined : checkRegistry(options.registry);
  const couplet = options.couplet ?? `couplet@${VERSION}`;
  const python = word("version", plan.python.version, "the Python version");
  const cache = cacheSpecs(name, registry);
  const host = registry ? registryHost(registry) : undefined;
  const ghcr = host === "ghcr.io";

  const platforms = dockerPlatforms(plan);
  const odd = platforms.find((p) => !/^linux\/(amd64|arm64)$/.test(p));
  if (odd)
    throw new UserError(`the platform ${quote(odd)} is not one couplet builds for; nothing was written`);
  // The runners are amd64: that image is loaded and inspected; others run under QEMU.
  const local = platforms[0] as string;
  const emulated = platforms.filter((p) => p !== "linux/amd64").map((p) => p.slice("linux/".length));
  const platformList = platforms.join(" and ");
  // A private index's credentials: repository secrets of the names Poetry reads, handed to BuildKit as build
  // secrets (the Dockerfile mounts them in the install steps only), never as build arguments.
  const secretIds = credentialsFor(plan, TARGET).indexes.flatMap((index) => [
    word("name", index.usernameEnv, "a private index's credential variable"),
    word("name", index.passwordEnv, "a private index's credential variable"),
  ]);
  const build = {
    context: projectPath,
    file: dockerfile,
    target: TARGET,
    ...(secretIds.length > 0
      ? { secrets: secretIds.map((id) => `${id}=${expr(`secrets.${id}`)}`).join("\n") }
      : {}),
  };
  // Logged in before the first build, so a private registry's cache can be read by it too.
  const login = registry
    ? [
        {
          name: "Log in to the registry",
          if: NOT_PULL_REQUEST,
          uses: ACTIONS.login,
          with: {
            ...(host ? { registry: host } : {}),
            username: ghcr ? expr("github.actor") : expr("secrets.REGISTRY_USERNAME"),
            password: ghcr ? expr("secrets.GITHUB_TOKEN") : expr("secrets.REGISTRY_PASSWORD"),
          },
        },
      ]
    : [];
  const tags = registry
    ? [
        {
          name: "Image tags",
          id: "meta",
          uses: ACTIONS.metadata,
          with: {
            images: registry,
            tags: [
              "type=ref,event=branch",
              "type=ref,event=pr",
              "type=semver,pattern={{version}}",
              "type=sha",
            ].join("\n"),
          },
        },
      ]
    : [];
  const steps: Record<string, unknown>[] = [
    { uses: ACTIONS.checkout },
    ...(emulated.length
      ? [
          {
            name: `Emulate ${emulated.join(", ")} (QEMU)`,
            uses: ACTIONS.qemu,
            with: { platforms: emulated.join(",") },
          },
        ]
      : []),
    { name: "Set up Docker Buildx", uses: ACTIONS.buildx },
    ...login,
    { uses: ACTIONS.setupNode, with: { "node-version": NODE_VERSION } },
    {
      name: `Build ${local} and load it into Docker`,
      uses: ACTIONS.build,
      with: {
        ...build,
        platforms: local,
        load: true,
        tags: `${expr("env.IMAGE")}:ci`,
        "cache-from": cache.from,
        "cache-to": cache.to,
      },
    },
    {
      name: "Inspect the image (gate)",
      run: [
        `npx --yes "$COUPLET" inspect "$IMAGE:ci" --engine docker --project ${shellWord(projectPath)} \\`,
        `  --fail-on ${gateConditions(plan).join(",")}`,
      ].join("\n"),
    },
    ...tags,
  ];
  steps.push({
    name: registry ? `Build ${platformList} and push (not for pull requests)` : `Build ${platformList}`,
    uses: ACTIONS.build,
    with: {
      ...build,
      platforms: platforms.join(","),
      ...(registry
        ? {
            push: expr(NOT_PULL_REQUEST),
            tags: expr("steps.meta.outputs.tags"),
          }
        : { push: false }),
      "cache-from": cache.from,
      "cache-to": cache.to,
    },
  });

  const workflow = {
    name: "couplet",
    on: {
      push: { branches: [branch], tags: ["v*"] },
      pull_request: null,
      workflow_dispatch: null,
    },
    permissions: { contents: "read" },
    concurrency: { group: `couplet-${expr("github.ref")}`, "cancel-in-progress": true },
    env: { COUPLET: couplet, IMAGE: registry ?? name },
    jobs: {
      lint: {
        name: "couplet lint",
        "runs-on": "ubuntu-latest",
        permissions: { contents: "read", "security-events": "write" },
        steps: [
          { uses: ACTIONS.checkout },
          { uses: ACTIONS.setupNode, with: { "node-version": NODE_VERSION } },
          {
            name: "Lint the Dockerfile",
            run: `npx --yes "$COUPLET" lint --format sarif ${shellWord(dockerfile)} > ${SARIF_FILE}`,
          },
          {
            name: "Upload the findings to code scanning",
            // Findings fail the step above; they are uploaded all the same (a crash leaves no file).
            if: expr(`!cancelled() && hashFiles('${SARIF_FILE}') != ''`),
            uses: ACTIONS.uploadSarif,
            with: { sarif_file: SARIF_FILE, category: "couplet-lint" },
          },
        ],
      },
      image: {
        name: `image (${platforms.join(", ")})`,
        "runs-on": "ubuntu-latest",
        permissions: { contents: "read", ...(ghcr ? { packages: "write" } : {}) },
        steps,
      },
    },
  };
  const doc = new Document(workflow);
  doc.commentBefore = [
    ` Written by couplet ${VERSION} (\`couplet init --ci github\`) for ${name}: CPython ${python}, Poetry ${word("version", plan.poetry.version, "the Poetry version")}, strategy ${plan.strategy}.`,
    ` Lints the Dockerfile (findings go to code scanning), builds ${local} and gates it with`,
    ` \`couplet inspect\`, then builds ${platformList} with the layer cache in`,
    registry
      ? ` ${registry}:buildcache; pushes to ${registry} except for pull requests.`
      : " GitHub Actions' cache service. Nothing is pushed: `couplet init --ci github --ci-registry REPO` adds that.",
  ].join("\n");
  return doc.toString({ lineWidth: 0, nullStr: "" });
}

/** A word for a `run:` script. Checked paths hold no quote or `$`, so single quotes are only needed for spaces. */
function shellWord(value: string): string {
  return /^[A-Za-z0-9._/-]+$/.test(value) ? value : `'${value}'`;
}
