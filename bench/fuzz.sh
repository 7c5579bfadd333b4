#!/usr/bin/env bash
# The long fuzz run: every property suite in the repo (any test file calling fuzzParameters) with
# COUPLET_FUZZ_RUNS cases in total, split evenly over the properties, and the figures written to docs/fuzz.md.
#   bash bench/fuzz.sh                 100,000 cases, seed 20261130 (test/support/fuzz.ts)
#   TOTAL=20000 COUPLET_FUZZ_SEED=7 bash bench/fuzz.sh
# A failure prints fast-check's seed and path: replay it with COUPLET_FUZZ_SEED and the suite's file.
set -uo pipefail
cd "$(dirname "$0")/.."
TOTAL=${TOTAL:-100000}
SEED=${COUPLET_FUZZ_SEED:-20261130}
OUT=${OUT:-docs/fuzz.md}
LOGS=$(mktemp -d)
trap 'rm -rf "$LOGS"' EXIT

mapfile -t FILES < <(grep -rl --include='*.test.ts' 'fuzzParameters(' src test | sort)
declare -A PROPS
all=0
for f in "${FILES[@]}"; do
  n=$(grep -c 'fuzzParameters(' "$f")
  PROPS[$f]=$n
  all=$((all + n))
done
[ "$all" -gt 0 ] || { echo "no property suites found" >&2; exit 1; }
# Even split: every property gets the same number of cases (a suite with three properties, three shares).
PER=$(((TOTAL + all - 1) / all))
echo "fuzz: ${#FILES[@]} suites, $all properties, $PER cases each (total $((PER * all))), seed $SEED"

npm run build >/dev/null
# A synchronous property blocks Vitest's worker, which gives up after 60 s without news from it; so each
# suite runs in chunks of at most CHUNK cases per property, each chunk with its own seed (SEED, SEED+1, ...).
CHUNK=${CHUNK:-1500}
rows=()
sum_cases=0; sum_secs=0; sum_fail=0; sum_harness=0
for f in "${FILES[@]}"; do
  n=${PROPS[$f]}
  chunks=$(((PER + CHUNK - 1) / CHUNK))
  runs=$(((PER + chunks - 1) / chunks))
  failed=0; harness=0; secs=0
  for ((k = 0; k < chunks; k++)); do
    start=$(date +%s.%N)
    COUPLET_FUZZ_RUNS=$runs COUPLET_FUZZ_SEED=$((SEED + k)) npx vitest run --project unit "$f" \
      --testTimeout=86400000 --hookTimeout=600000 --reporter=json --outputFile="$LOGS/result.json" \
      >"$LOGS/out.txt" 2>&1
    rc=$?
    secs=$(echo "$secs + $(date +%s.%N) - $start" | bc)
    read -r bad < <(node -e '
      const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
      console.log(r.numFailedTests);' "$LOGS/result.json" 2>/dev/null || echo "$n")
    rm -f "$LOGS/result.json"
    if [ "$bad" != "0" ]; then
      failed=$((failed + bad))
      echo "FAILED: $f (seed $((SEED + k)), $runs runs)"; grep -E 'seed|Counterexample|Error' "$LOGS/out.txt" | head -5
    elif [ "$rc" -ne 0 ]; then
      # Every property passed but Vitest reported an error of its own (a worker timeout): counted apart.
      harness=$((harness + 1))
      echo "HARNESS: $f (seed $((SEED + k))): $(grep -m1 -E 'Error' "$LOGS/out.txt")"
    fi
  done
  cases=$((runs * chunks * n))
  printf '  %-40s %7d cases %8.1f s  %s failed, %s harness errors\n' "$f" "$cases" "$secs" "$failed" "$harness"
  rows+=("| \`$f\` | $n | $chunks × $runs | $cases | $(printf '%.1f' "$secs") | $(printf '%.2f' "$(echo "$secs * 1000 / $cases" | bc -l)") | $failed | $harness |")
  sum_cases=$((sum_cases + cases)); sum_secs=$(echo "$sum_secs + $secs" | bc)
  sum_fail=$((sum_fail + failed)); sum_harness=$((sum_harness + harness))
done

{
  echo "# Long fuzz run"
  echo
  echo "Written by \`bench/fuzz.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC') at commit ${FUZZ_COMMIT:-$(git rev-parse --short HEAD)}"
  echo "($(nproc) cores, Node $(node --version)). Every test file that calls \`fuzzParameters()\` is run with"
  echo "$PER cases per property (the total of $TOTAL split evenly over $all properties), in chunks of at most"
  echo "$CHUNK cases with seeds $SEED, $((SEED + 1)), ...; \`npm test\` runs the same properties with their short defaults."
  echo
  echo "| suite | properties | chunks × cases | cases | time (s) | ms/case | failed properties | harness errors |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|"
  printf '%s\n' "${rows[@]}"
  echo "| **all** | **$all** | | **$sum_cases** | **$(printf '%.1f' "$sum_secs")** | | **$sum_fail** | **$sum_harness** |"
  echo
  echo "A failed property prints fast-check's counterexample, seed and path; rerun its file with"
  echo "\`COUPLET_FUZZ_SEED=<seed> COUPLET_FUZZ_RUNS=<runs> npx vitest run <file>\` to replay it."
} >"$OUT"
echo "fuzz: $sum_cases cases in $(printf '%.0f' "$sum_secs") s, $sum_fail failed properties, $sum_harness harness errors; written to $OUT"
[ "$sum_fail" -eq 0 ]
