#!/usr/bin/env bash
# Run `couplet bench` (all six strategies) on the bundled examples with buildah and the local base images;
# writes docs/bench-<example>.json, .md and .html.
#
# usage: npm run build && bench/examples.sh [RUNS] [EXAMPLE...]
#   RUNS defaults to 1; the examples default to every one with a prepared dependency change under
#   test/fixtures/bench/<example>/ (pyproject.toml + poetry.lock after `poetry add`). Takes minutes per
#   example: run it in the background with its output in a log.
set -euo pipefail

RUNS="${1:-1}"
shift || true
root="$(cd "$(dirname "$0")/.." && pwd)"
cli="$root/dist/cli/main.js"
if [ "$#" -gt 0 ]; then examples=("$@"); else
  examples=()
  for dir in "$root"/test/fixtures/bench/*/; do examples+=("$(basename "$dir")"); done
fi

log() { echo "bench/examples: $*" >&2; }

# No registry here: the official python images are replaced by local stand-ins (see scripts/make-base-image).
slim="$("$root/scripts/make-base-image" bookworm slim)"
full="$("$root/scripts/make-base-image" bookworm full)"

notes=(
  "Machine and engine: this benchmark ran buildah as root with overlay storage and chroot isolation (RUN steps share the host network); Docker with BuildKit was not available here, and the seed's figures were measured with Docker, so compare the shape (which strategy wins what) rather than absolute seconds."
  "Base images: no registry is reachable here, so the official python images were replaced by local stand-ins made by scripts/make-base-image: slim ($slim) is Debian bookworm debootstrapped with Debian's own CPython 3.11 in /usr (the official image builds CPython into /usr/local) plus python3-dev and libc6-dev (the official slim image has Python headers but not libc6-dev); full ($full) is that plus build-essential and common -dev packages, smaller than the official python:3.11-bookworm (buildpack-deps, about 1 GB, with e.g. ImageMagick, Kerberos and VCS tools). Absolute image sizes therefore differ from the official images; the bytes above the base image compare better."
  "Both stand-ins carry the host's CA bundle and a sitecustomize that makes Poetry use PyPI's simple API (this network blocks PyPI's per-version JSON API); the generated Dockerfiles are unchanged by either."
  "Uncached build: --no-cache turns the layer cache off, but cache mounts (RUN --mount=type=cache in optimal and slim-buildkit) keep what earlier builds put there, as with docker build --no-cache. Rebuilds follow each other in one copy of the project: the cache-busting comment, then the added dependency (requests 2.32.3, locked by Poetry 1.8.5), then a comment appended to a source file."
)
note_args=()
for n in "${notes[@]}"; do note_args+=(--note "$n"); done

for example in "${examples[@]}"; do
  out="$root/docs/bench-$example"
  log "$example: $RUNS run(s) of every strategy (logs of each build are named in the output)"
  node "$cli" bench "$root/examples/$example" --engine buildah --network host \
    --python-image "$slim" --full-python-image "$full" \
    --dep-change "$root/test/fixtures/bench/$example" --runs "$RUNS" \
    --format json --output "$out.json" "${note_args[@]}"
  node "$cli" bench --from-json "$out.json" --format table --output "$out.md"
  node "$cli" bench --from-json "$out.json" --format html --output "$out.html"
  log "$example: wrote ${out#"$root"/}.json, .md and .html"
done
