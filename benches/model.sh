#!/usr/bin/env bash
# Model benchmark and quality bar (issue 5).
#
#   benches/model.sh [PATIENTS]          # default 100000
#
# 1. builds the release binary if needed (skipped when STRATA_BIN is set);
# 2. generates two populations of PATIENTS people with different seeds
#    (A: seed 42, the e2e reference workload; B: seed 7), 3 years to
#    2026-03-31, into target/bench-data/PATIENTS[-seed7]/ unless already there;
# 3. times `strata train` on A at index 2025-03-31 (outcome in the extract's
#    last year) with /usr/bin/time -v;
# 4. evaluates that model on B at 2026-03-31, against B's truth.parquet
#    (outcomes drawn from the generator's true risks in the following year);
# 5. prints the quality bar — AUC against the oracle AUC (true risks) and the
#    record oracle AUC (true risks without the unobserved person effect), and
#    the calibration slope — and appends it with the date, commit and machine
#    to benches/RESULTS.md (MODEL_NO_RECORD=1 to only print).
#
# Quality bar of issue 5 at 100,000: AUC within 0.02 of the oracle AUC,
# calibration slope in 0.9–1.1. Training at 1,000,000: under 2 minutes.
set -euo pipefail

PATIENTS="${1:-100000}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="${STRATA_BIN:-$ROOT/target/release/strata}"
DATA_ROOT="${BENCH_DATA:-$ROOT/target/bench-data}"
RESULTS="$ROOT/benches/RESULTS.md"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/strata-model-XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

if ! [[ "$PATIENTS" =~ ^[0-9]+$ ]]; then
  echo "usage: benches/model.sh [PATIENTS]" >&2
  exit 2
fi
if [ -z "${STRATA_BIN:-}" ]; then
  echo "building release binary (a cold build takes about 20 minutes)..." >&2
  (cd "$ROOT" && cargo build --release --quiet --bin strata)
fi

population() { # folder, seed
  local dir="$1" seed="$2"
  if [ ! -f "$dir/.complete" ]; then
    echo "generating $PATIENTS people (seed $seed) into $dir ..." >&2
    rm -rf "$dir"
    mkdir -p "$dir"
    "$BIN" generate --patients "$PATIENTS" --seed "$seed" --years 3 --as-of 2026-03-31 \
      --out "$dir/extract" > "$dir/generate.out" 2> "$dir/generate.err"
    touch "$dir/.complete"
  fi
}
A="$DATA_ROOT/$PATIENTS"
B="$DATA_ROOT/$PATIENTS-seed7"
population "$A" 42
population "$B" 7

echo "training on A ($PATIENTS people, seed 42) at 2025-03-31 ..." >&2
/usr/bin/time -v -o "$WORK/train.time" "$BIN" train --input "$A/extract" \
  --index-date 2025-03-31 --out "$WORK/model.json" --synthetic > "$WORK/train.out" 2> "$WORK/train.err" || {
  tail -n 20 "$WORK/train.err" >&2
  exit 1
}
cat "$WORK/train.out" >&2
echo "evaluating on B ($PATIENTS people, seed 7) at 2026-03-31 ..." >&2
"$BIN" evaluate --input "$B/extract" --model "$WORK/model.json" --index-date 2026-03-31 \
  --out "$WORK/evaluation.json" > "$WORK/evaluate.out" 2> "$WORK/evaluate.err" || {
  tail -n 20 "$WORK/evaluate.err" >&2
  exit 1
}

REPORT=$(python3 - "$WORK/train.time" "$WORK/model.json" "$WORK/evaluation.json" <<'EOF'
import json, sys
time_file, model_file, eval_file = sys.argv[1:4]
t = {}
for line in open(time_file):
    key, _, value = line.strip().rpartition(": ")
    t[key] = value
clock = [float(x) for x in t["Elapsed (wall clock) time (h:mm:ss or m:ss)"].split(":")]
wall = clock[0] * 3600 + clock[1] * 60 + clock[2] if len(clock) == 3 else clock[0] * 60 + clock[1]
cpu = float(t["User time (seconds)"]) + float(t["System time (seconds)"])
rss = int(t["Maximum resident set size (kbytes)"]) / 1024
m = json.load(open(model_file))
e = json.load(open(eval_file))
o = e["overall"]
auc = o["auc"]["auc"]
oracle = (e.get("oracle_auc") or {}).get("auc")
record = (e.get("record_oracle_auc") or {}).get("auc")
slope = o["calibration"]["slope"]
fmt = lambda x: "–" if x is None else f"{x:.4f}"
gap = lambda ref: "–" if ref is None else f"{auc - ref:+.4f}"
print(f"| train on A (seed 42) at 2025-03-31 | {wall:.1f} s wall, {cpu:.1f} CPU-s, {rss:,.0f} MiB peak; "
      f"{m['training']['n_train']:,} fitted, {m['training']['n_holdout']:,} held out; holdout AUC {m['holdout']['auc']:.4f} |")
print(f"| evaluate on B (seed 7) at 2026-03-31 | n {o['n']:,}, events {o['events']:,} |")
print(f"| AUC (95% CI) | {auc:.4f} ({o['auc']['lower']:.4f}–{o['auc']['upper']:.4f}) |")
print(f"| oracle AUC (true risks) | {fmt(oracle)} (model {gap(oracle)}) |")
print(f"| record oracle AUC (true risks without the unobserved effect) | {fmt(record)} (model {gap(record)}) |")
print(f"| calibration slope / intercept | {fmt(slope)} / {fmt(o['calibration']['intercept'])} |")
print(f"| observed / expected | {fmt(o['observed_expected'])} |")
EOF
)

CPU_MODEL=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
MEM_GIB=$(awk '/MemTotal/ {printf "%.1f", $2 / 1048576}' /proc/meminfo)
COMMIT="$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)"
HEADING="### Model quality bar, $PATIENTS people — $(date -u +%Y-%m-%d), commit $COMMIT, $(nproc) cores ($CPU_MODEL), $MEM_GIB GiB, load $(cut -d' ' -f1-3 /proc/loadavg)"
TABLE=$(printf '%s\n\n| | |\n|---|---|\n%s\n' "$HEADING" "$REPORT")
echo "$TABLE"
if [ -z "${MODEL_NO_RECORD:-}" ]; then
  printf '\n%s\n' "$TABLE" >> "$RESULTS"
  echo "appended to benches/RESULTS.md" >&2
fi
