// The one Engine interface: every container engine turns the same build request into a command value.

export const ENGINE_NAMES = ["docker", "buildah", "podman"] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];
/**
 * The order `couplet inspect` asks the engines for an image name in (and lists them in its --engine help). Here, in
 * a module that imports nothing, so that inspect's argument parsing does not load the exporter and the engines.
 */
export const EXPORT_ENGINES: readonly EngineName[] = ["buildah", "podman", "docker"];

/** A program and its arguments, built before anything is spawned so it can be tested as a value. */
export interface CommandSpec {
  program: string;
  args: string[];
  /** Extra environment variables for the child (added to the parent's) */
  env?: Record<string, string>;
}

export interface BuildRequest {
  /** Build context folder */
  context: string;
  /** Path of the Dockerfile (may lie outside the context) */
  dockerfile: string;
  tag: string;
  buildArgs?: Record<string, string>;
  /** `id=NAME,src=PATH` (or `id=NAME,env=VAR` where the engine supports it), passed through */
  secrets?: string[];
  /** `default` or `id=socket-or-key`: the SSH agents RUN --mount=type=ssh reaches, passed through */
  ssh?: string[];
  platform?: string;
  target?: string;
  /** Registry-backed cache sources, passed through */
  cacheFrom?: string[];
  cacheTo?: string[];
  /** `host` where build containers need the host's network (these machines have no bridge) */
  network?: string;
  /** Ignore every cached layer */
  noCache?: boolean;
  /** File the engine writes the image id into */
  iidFile?: string;
  /** Where the result goes instead of the engine's image store (docker buildx only) */
  destination?: BuildDestination;
}

/**
 * A registry (`push`: the tag names the repository) or an archive file: a docker-archive for one platform, an OCI
 * archive for several (a docker-archive holds one image), as `couplet assemble --output` writes them.
 */
export type BuildDestination = { push: true } | { archive: string };

/** How the engine builds: which syntax it understands decides what the Dockerfile may use. */
export interface EngineFeatures {
  /** RUN --mount=type=cache works (BuildKit, buildah, podman) */
  cacheMounts: boolean;
  /** --secret works */
  secrets: boolean;
  /** --cache-to works */
  cacheTo: boolean;
  /**
   * The engine's own Dockerfile parser reads RUN --mount without a `# syntax=` line (buildah, podman, Docker
   * 20.10+ with BuildKit), so a Dockerfile built here needs no frontend pulled from a registry.
   */
  builtinFrontendMounts: boolean;
  /** Several --platform values in one build, gathered in a manifest list (buildah, podman) or image index (buildx) */
  multiPlatform: boolean;
}

export interface Engine {
  readonly name: EngineName;
  /** The executable, for `--version` and messages */
  readonly program: string;
  /** Human description for messages, e.g. "docker (legacy builder)" */
  readonly label: string;
  readonly features: EngineFeatures;
  /** Warnings to show once before building (e.g. no BuildKit) */
  readonly warnings: string[];
  /**
   * Throws UserError, before anything is generated or built, when the engine cannot put the result where the
   * request asks (several platforms into its image store, a registry, an archive)
   */
  checkDestination(request: Pick<BuildRequest, "platform" | "destination">): void;
  /** Throws UserError for a request this engine cannot carry out */
  buildCommand(request: BuildRequest): CommandSpec;
  /** The image's uncompressed size in bytes (the sum of its layers), asking the engine through `capture` */
  imageSize(ref: string, capture: Capture): Promise<number>;
  removeImagesCommand(refs: string[]): CommandSpec;
  /** Removes the manifest list itself (buildah and podman: `rmi` of a list's name may remove one of its images instead) */
  removeManifestCommand?(ref: string): CommandSpec;
  /** Gives an image or manifest list another name; the name moves off any image that held it (buildah, podman) */
  tagCommand?(source: string, target: string): CommandSpec;
}

/** Runs a short command and returns its standard output (throws when it fails). */
export type Capture = (command: CommandSpec) => Promise<string>;
