#!/usr/bin/env bash
# Build (once) the corpus of real images that bench/inspect-vs-dive.mjs times: the examples and public Poetry
# projects built here with couplet, each saved as a docker-archive and as OCI archives with gzip and zstd layers.
#
# usage: npm run build && bench/inspect-corpus.sh [NAME...]
#   Archives go to $COUPLET_CACHE/inspect-corpus (default .cache/inspect-corpus), NAME.docker.tar, NAME.oci-gzip.tar
#   and NAME.oci-zstd.tar; an image whose three archives exist is not rebuilt. The public projects are looked for
#   in $COUPLET_REAL (default /work/real), cloned at the commits docs/real-projects.md names; missing ones are
#   skipped with a line on stderr. Prints one line per image ready: NAME<TAB>what it is.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cache="${COUPLET_CACHE:-$root/.cache}"
out="$cache/inspect-corpus"
real="${COUPLET_REAL:-/work/real}"
cli="$root/dist/cli/main.js"
B=(buildah --storage-driver overlay)
mkdir -p "$out"

log() { echo "inspect-corpus: $*" >&2; }

# name | project folder | strategy | Debian release (CPython 3.11 on bookworm, 3.13 on trixie) | description
corpus=(
  "cli-tool|$root/examples/cli-tool|optimal|trixie|examples/cli-tool, optimal strategy"
  "fastapi-app|$root/examples/fastapi-app|optimal|bookworm|examples/fastapi-app, optimal strategy"
  "flask-uwsgi|$root/examples/flask-uwsgi|optimal|bookworm|examples/flask-uwsgi, optimal strategy"
  "commitizen|$real/commitizen|optimal|trixie|commitizen-tools/commitizen 6990d51c, optimal strategy"
  "shark|$real/shark|optimal|trixie|bikeshedder/shark 11ed194 (Django), optimal strategy"
  "flask-uwsgi-naive|$root/examples/flask-uwsgi|full|bookworm|examples/flask-uwsgi, the seed's naive full strategy (full base, dev groups, caches)"
  "shark-naive|$real/shark|full|trixie|bikeshedder/shark 11ed194, the seed's naive full strategy"
  "scientific|$root/bench/inspect-vs-dive.Containerfile|containerfile|bookworm|bench/inspect-vs-dive.Containerfile: numpy, pandas, scipy, pyarrow in a venv on the full base, a pip cache, a rewritten file"
)

want=("$@")
for item in "${corpus[@]}"; do
  IFS='|' read -r name project strategy debian description <<<"$item"
  if [ "${#want[@]}" -gt 0 ] && [[ " ${want[*]} " != *" $name "* ]]; then continue; fi
  docker_tar="$out/$name.docker.tar" gzip_tar="$out/$name.oci-gzip.tar" zstd_tar="$out/$name.oci-zstd.tar"
  if [ -s "$docker_tar" ] && [ -s "$gzip_tar" ] && [ -s "$zstd_tar" ]; then
    printf '%s\t%s\n' "$name" "$description"
    continue
  fi
  if [ "$strategy" != containerfile ] && [ ! -f "$project/poetry.lock" ]; then
    log "$name: skipped, $project has no poetry.lock (clone it at the commit docs/real-projects.md names)"
    continue
  fi
  flavor=slim
  [ "$strategy" = full ] && flavor=full
  python=3.11
  [ "$debian" = trixie ] && python=3.13
  base="$("$root/scripts/make-base-image" "$debian" "$flavor")"
  tag="localhost/couplet-inspect-corpus:$name"
  [ "$strategy" = containerfile ] && base="$("$root/scripts/make-base-image" "$debian" full)"
  log "$name: building $project ($strategy on $base); log in $out/$name.build.log"
  if [ "$strategy" = containerfile ]; then
    "${B[@]}" bud --isolation chroot --network host --pull=never --layers --build-arg "PYTHON_IMAGE=$base" \
      -f "$project" -t "$tag" "$(dirname "$project")" >"$out/$name.build.log" 2>&1
  else
    node "$cli" build "$project" --engine buildah --network host --no-syntax --strategy "$strategy" \
      --python "$python" --base-image "$base" -t "$tag" >"$out/$name.build.log" 2>&1
  fi || { tail -20 "$out/$name.build.log" >&2; log "$name: build failed"; continue; }
  # Written beside and renamed, so that an interrupted export never leaves a half archive that looks whole.
  rm -f "$docker_tar" "$gzip_tar" "$zstd_tar"
  "${B[@]}" push --quiet "$tag" "docker-archive:$docker_tar.part:$tag" && mv "$docker_tar.part" "$docker_tar"
  "${B[@]}" push --quiet --format oci "$tag" "oci-archive:$gzip_tar.part:$tag" && mv "$gzip_tar.part" "$gzip_tar"
  "${B[@]}" push --quiet --format oci --compression-format zstd "$tag" "oci-archive:$zstd_tar.part:$tag" &&
    mv "$zstd_tar.part" "$zstd_tar"
  printf '%s\t%s\n' "$name" "$description"
done
