#!/usr/bin/env bash
# `couplet bench` on Docker BuildKit (the engine the seed measured with) and on buildah, same example, same
# machine, same day, one engine after the other. Writes
# docs/bench-<example>-docker.{json,md,html}, the buildah report as docs/bench-<example>.{json,md,html}, and
# docs/bench-docker-vs-buildah.md with the two side by side.
#
# usage: npm run build && bench/docker-vs-buildah.sh [RUNS] [EXAMPLE]
#   RUNS defaults to 1, EXAMPLE to flask-uwsgi. Needs root, Debian's docker.io (dockerd and its 20.10 client at
#   /usr/bin/docker, which drives the daemon's own BuildKit with DOCKER_BUILDKIT=1) and buildah. Starts a
#   private dockerd on overlay2 with its own roots, and stops it (only it) at the end.
set -euo pipefail

RUNS="${1:-1}"
EXAMPLE="${2:-flask-uwsgi}"
root="$(cd "$(dirname "$0")/.." && pwd)"
cli="$root/dist/cli/main.js"
client="${COUPLET_DOCKER:-/usr/bin/docker}"
log() { echo "bench/docker-vs-buildah: $*" >&2; }

slim="$("$root/scripts/make-base-image" bookworm slim)"
full="$("$root/scripts/make-base-image" bookworm full)"
slim_tar="$("$root/scripts/make-base-image" --tarball bookworm slim)"
full_tar="$("$root/scripts/make-base-image" --tarball bookworm full)"

state="$(mktemp -d /tmp/couplet-bench-dockerd-XXXXXX)"
socket="$state/docker.sock"
export DOCKER_HOST="unix://$socket"
dockerd --storage-driver=overlay2 --iptables=false --ip6tables=false --bridge=none \
  --data-root="$state/data" --exec-root="$state/exec" --pidfile="$state/dockerd.pid" -H "$DOCKER_HOST" \
  >"$state/dockerd.log" 2>&1 &
dockerd_pid=$!
stop_dockerd() {
  kill "$dockerd_pid" 2>/dev/null && wait "$dockerd_pid" 2>/dev/null || true
  # dockerd leaves its overlay2 layers and netns mounted under its roots: unmount (innermost first), then remove.
  awk -v r="$state" 'index($2, r) == 1 { print $2 }' /proc/self/mounts | sort -r | xargs -r -n1 umount -l || true
  rm -rf "$state"
}
trap stop_dockerd EXIT
for _ in $(seq 200); do "$client" version >/dev/null 2>&1 && break; sleep 0.3; done
"$client" version --format 'dockerd {{.Server.Version}}' >&2

# The same configuration the buildah stand-ins carry (docker import drops it): see test/support/base-image.ts.
bundle=/etc/ssl/certs/ca-certificates.crt
changes=(--change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" --change "ENV LANG=C.UTF-8"
  --change "ENV SSL_CERT_FILE=$bundle" --change "ENV REQUESTS_CA_BUNDLE=$bundle" --change "ENV PIP_CERT=$bundle"
  --change 'CMD ["python3"]')
docker_slim=couplet-bench/python:3.11-slim-bookworm
docker_full=couplet-bench/python:3.11-bookworm
"$client" import "${changes[@]}" "$slim_tar" "$docker_slim" >/dev/null
"$client" import "${changes[@]}" "$full_tar" "$docker_full" >/dev/null

load="$(cut -d' ' -f1 /proc/loadavg)"
common_notes=(
  "Base images: no registry is reachable here, so the official python images were replaced by local stand-ins made by scripts/make-base-image (Debian bookworm with Debian's CPython 3.11; the full one adds build-essential and -dev packages). Absolute sizes differ from the official images; the bytes above the base compare better."
  "Both stand-ins carry the host's CA bundle and a sitecustomize that makes Poetry use PyPI's simple API (this network blocks PyPI's per-version JSON API); the generated Dockerfiles are unchanged by either, except that they have no \`# syntax=\` line (--no-syntax): BuildKit would fetch that frontend from Docker Hub, which is not reachable here."
  "Rebuilds follow each other in one copy of the project: the cache-busting comment, then the added dependency, then a comment appended to a source file. Every edit carries a nonce, so no layer cache from earlier runs answers a rebuild."
  "The machine is shared: other builds and tests ran on the same 2 cores (load average $load when the run began) while both engines were measured, so seconds are rough and inflated several times over a quiet machine; compare the two engines' shape, not absolute times. Sizes are exact."
)
note_args=()
for n in "${common_notes[@]}"; do note_args+=(--note "$n"); done

docker_out="$root/docs/bench-$EXAMPLE-docker"
buildah_out="$root/docs/bench-$EXAMPLE"

log "$EXAMPLE on Docker BuildKit ($client, DOCKER_BUILDKIT=1): $RUNS run(s) of every strategy"
node "$cli" bench "$root/examples/$EXAMPLE" --docker "$client" --network host --no-syntax \
  --python-image "$docker_slim" --full-python-image "$docker_full" \
  --dep-change "$root/test/fixtures/bench/$EXAMPLE" --runs "$RUNS" --format json --output "$docker_out.json" \
  "${note_args[@]}" \
  --note "Engine: Docker's daemon BuildKit driven by Debian's docker.io 20.10 client with DOCKER_BUILDKIT=1 (no buildx plugin), overlay2 storage, --network host. Uncached build: --no-cache, under which BuildKit also starts cache mounts empty, so the uncached figures include every download and compile."

# buildah in a storage root of its own, so other builds on the machine cannot remove its cached layers mid-run.
store="$state/buildah"
mkdir -p "$store"
printf '[storage]\ndriver = "overlay"\ngraphroot = "%s/storage"\nrunroot = "%s/run"\n' "$store" "$store" >"$store/storage.conf"
for image in "$slim" "$full"; do
  buildah --storage-driver overlay push --quiet "$image" "containers-storage:[overlay@$store/storage+$store/run]$image"
done
log "$EXAMPLE on buildah: $RUNS run(s) of every strategy"
CONTAINERS_STORAGE_CONF="$store/storage.conf" node "$cli" bench "$root/examples/$EXAMPLE" --engine buildah --network host --no-syntax \
  --python-image "$slim" --full-python-image "$full" \
  --dep-change "$root/test/fixtures/bench/$EXAMPLE" --runs "$RUNS" --format json --output "$buildah_out.json" \
  "${note_args[@]}" \
  --note "Engine: buildah as root, overlay storage (a private storage root, so other builds on the machine cannot remove its cached layers mid-run), chroot isolation (RUN steps share the host network). Uncached build: --no-cache turns the layer cache off, but cache mounts keep what earlier builds put there."

for out in "$docker_out" "$buildah_out"; do
  node "$cli" bench --from-json "$out.json" --format table --output "$out.md"
  node "$cli" bench --from-json "$out.json" --format html --output "$out.html"
done
node "$root/bench/side-by-side.mjs" "$docker_out.json" "$buildah_out.json" >"$root/docs/bench-docker-vs-buildah.md"
log "wrote docs/bench-$EXAMPLE-docker.*, docs/bench-$EXAMPLE.* and docs/bench-docker-vs-buildah.md"
