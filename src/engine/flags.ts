// The build flags docker, buildah and podman spell the same way, shared by the three argument builders.
import type { BuildRequest } from "./types.js";

/**
 * Flags after the subcommand, up to (not including) the context argument. `manifest`: buildah and podman build
 * several platforms into the manifest list named by the tag (`--manifest`); a `--tag` would name each platform's
 * image in turn, and an iidfile can hold only one image id.
 */
export function commonBuildFlags(request: BuildRequest, manifest = false): string[] {
  const args = ["--file", request.dockerfile, manifest ? "--manifest" : "--tag", request.tag];
  // Sorted so the same request always gives the same command (and stable test expectations).
  for (const [name, value] of Object.entries(request.buildArgs ?? {}).sort(([a], [b]) => a.localeCompare(b)))
    args.push("--build-arg", `${name}=${value}`);
  for (const secret of request.secrets ?? []) args.push("--secret", secret);
  for (const agent of request.ssh ?? []) args.push("--ssh", agent);
  if (request.platform) args.push("--platform", request.platform);
  if (request.target) args.push("--target", request.target);
  if (request.network) args.push("--network", request.network);
  if (request.noCache) args.push("--no-cache");
  if (request.iidFile && !manifest) args.push("--iidfile", request.iidFile);
  return args;
}
