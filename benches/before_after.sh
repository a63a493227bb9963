#!/usr/bin/env bash
# Before/after: two strata binaries timed on the same workload, interleaved.
#
#   benches/before_after.sh BEFORE_BIN AFTER_BIN [ROUNDS] [PATIENTS]
#
# Times `validate`, `features` and `run` (the commands of benches/e2e.sh) with
# each binary in turn, round after round (default 3 rounds, 1,000,000 people),
# so drift in a shared host hits both alike, then prints the median wall
# seconds, CPU seconds and peak RSS per stage and binary, and the after/before
# ratio of the CPU medians. Uses the workload e2e.sh generates (generated here
# with BEFORE_BIN if missing). Appends the table to benches/RESULTS.md unless
# BA_NO_RECORD=1; BA_LABEL names the comparison in the heading.
set -euo pipefail
BEFORE="$1"; AFTER="$2"; ROUNDS="${3:-3}"; PATIENTS="${4:-1000000}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DATA="${BENCH_DATA:-$ROOT/target/bench-data}/$PATIENTS"
AS_OF="2026-03-31"
MODEL="$ROOT/models/emergency_admission.json"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/strata-ba-XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
if [ ! -f "$DATA/.complete" ]; then
  mkdir -p "$DATA"
  "$BEFORE" -q generate --patients "$PATIENTS" --seed 42 --years 3 --as-of "$AS_OF" --out "$DATA/extract" >/dev/null
  touch "$DATA/.complete"
fi
time_stage() { # BIN STAGE -> "wall cpu peak_mib"
  local bin="$1" stage="$2" t="$WORK/time"
  rm -rf "$WORK/out" "$WORK/features.parquet"
  case "$stage" in
    validate) /usr/bin/time -f "%e %U %S %M" -o "$t" "$bin" -q validate --input "$DATA/extract" >/dev/null ;;
    features) /usr/bin/time -f "%e %U %S %M" -o "$t" "$bin" -q features --input "$DATA/extract" --index-date "$AS_OF" --out "$WORK/features.parquet" >/dev/null ;;
    run) /usr/bin/time -f "%e %U %S %M" -o "$t" "$bin" -q run --input "$DATA/extract" --as-of "$AS_OF" --model "$MODEL" --out "$WORK/out" >/dev/null ;;
  esac
  awk '{printf "%.2f %.2f %.0f\n", $1, $2 + $3, $4 / 1024}' "$t"
}
for r in $(seq 1 "$ROUNDS"); do
  for stage in validate features run; do
    for which in before after; do
      bin="$BEFORE"; [ "$which" = after ] && bin="$AFTER"
      echo "$stage $which $(time_stage "$bin" "$stage")" | tee -a "$WORK/samples" >&2
    done
  done
done
TABLE="$(python3 - "$WORK/samples" <<'PY'
import sys, statistics as st, collections
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    stage, which, wall, cpu, peak = line.split()
    rows[(stage, which)].append((float(wall), float(cpu), float(peak)))
print("| stage | before: wall s, CPU s, peak MiB | after: wall s, CPU s, peak MiB | CPU after/before |")
print("|---|---|---|---:|")
for stage in ["validate", "features", "run"]:
    m = {w: [st.median(c) for c in zip(*rows[(stage, w)])] for w in ["before", "after"]}
    f = lambda v: f"{v[0]:.1f}, {v[1]:.1f}, {v[2]:,.0f}"
    print(f"| {stage} | {f(m['before'])} | {f(m['after'])} | {m['after'][1] / m['before'][1]:.3f} |")
PY
)"
echo "$TABLE"
if [ -z "${BA_NO_RECORD:-}" ]; then
  {
    echo
    echo "## $(date -u '+%Y-%m-%d %H:%M') UTC: before/after${BA_LABEL:+, $BA_LABEL} ($PATIENTS people, medians of $ROUNDS interleaved rounds)"
    echo
    echo "- machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB RAM, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -r)"
    echo "- method: \`benches/before_after.sh\`; binaries: before \`$BEFORE\`, after \`$AFTER\`"
    echo
    echo "$TABLE"
  } >> "$ROOT/benches/RESULTS.md"
fi
