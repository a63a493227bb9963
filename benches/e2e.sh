#!/usr/bin/env bash
# End-to-end benchmark of the nightly job (issue 7).
#
#   benches/e2e.sh [PATIENTS]          # default 1000000
#
# 1. builds the release binary if needed (skipped when STRATA_BIN is set);
# 2. generates the reference workload (PATIENTS people, seed 42, 3 years of
#    history to 2026-03-31) into target/bench-data/PATIENTS/, unless already
#    there (delete the folder to regenerate);
# 3. times `strata validate`, `strata features` and `strata run` with
#    /usr/bin/time -v (wall time, CPU, peak RSS), one after the other;
# 4. prints a Markdown table, plus the per-stage seconds of `strata run` from
#    its manifest.json, and appends both, with the date, git commit and
#    machine, to benches/RESULTS.md (set E2E_NO_RECORD=1 to only print).
#
# Environment: STRATA_BIN (binary to time), BENCH_DATA (data root, default
# target/bench-data), E2E_ENV (extra VAR=value settings for the timed stages,
# e.g. "POLARS_FORCE_NEW_STREAMING=1"; recorded in the heading),
# E2E_STAGES (which of "validate features run" to time; default all three),
# E2E_KEEP_OUT=1 (keep the run's outputs in target/bench-data/N/out, e.g. for
# benches/read_outputs.py), E2E_LABEL (a note for the heading), E2E_COMMIT (the commit STRATA_BIN was
# built from; default: HEAD).
#
# Targets on the 2-core, 24 GiB reference machine at 1,000,000 people:
# run <= 30 s and <= 4 GiB peak RSS, validate <= 10 s, features <= 15 s.
set -euo pipefail

PATIENTS="${1:-1000000}"
AS_OF="2026-03-31"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="${STRATA_BIN:-$ROOT/target/release/strata}"
DATA_ROOT="${BENCH_DATA:-$ROOT/target/bench-data}"
DATA="$DATA_ROOT/$PATIENTS"
MODEL="$ROOT/models/emergency_admission.json"
RESULTS="$ROOT/benches/RESULTS.md"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/strata-e2e-XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

if ! [[ "$PATIENTS" =~ ^[0-9]+$ ]]; then
  echo "usage: benches/e2e.sh [PATIENTS]" >&2
  exit 2
fi
if [ ! -x /usr/bin/time ]; then
  echo "benches/e2e.sh needs GNU time (/usr/bin/time; apt-get install time)" >&2
  exit 2
fi

if [ -z "${STRATA_BIN:-}" ]; then
  echo "building release binary (a cold build takes about 20 minutes)..." >&2
  (cd "$ROOT" && cargo build --release --quiet --bin strata)
fi

# --- the workload -----------------------------------------------------------
if [ ! -f "$DATA/.complete" ]; then
  echo "generating $PATIENTS people (seed 42, 3 years) into $DATA ..." >&2
  rm -rf "$DATA"
  mkdir -p "$DATA"
  /usr/bin/time -v -o "$DATA/generate.time" \
    "$BIN" generate --patients "$PATIENTS" --seed 42 --years 3 --as-of "$AS_OF" \
    --out "$DATA/extract" > "$DATA/generate.out" 2> "$DATA/generate.err"
  touch "$DATA/.complete"
fi
EXTRACT="$DATA/extract"

# Rows of the extract tables (truth is not part of the extract; lsoa_imd is reference data).
ROWS=$(python3 - "$EXTRACT/generation-report.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))["rows"]
print(sum(v for k, v in r.items() if k not in ("truth", "lsoa_imd")))
EOF
)
ROW_DETAIL=$(python3 - "$EXTRACT/generation-report.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))["rows"]
print(", ".join(f"{k} {v:,}" for k, v in r.items() if k not in ("truth", "lsoa_imd")))
EOF
)
EXTRACT_SIZE=$(du -sm "$EXTRACT" | cut -f1)

# --- timing -------------------------------------------------------------------
# seconds from GNU time's "h:mm:ss" or "m:ss.ss"
to_seconds() {
  awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }' <<< "$1"
}

declare -a LINES=()
timed() { # name, command...
  local name="$1"; shift
  local tfile="$WORK/$name.time"
  local status=0
  # shellcheck disable=SC2086
  env ${E2E_ENV:-} /usr/bin/time -v -o "$tfile" "$@" > "$WORK/$name.out" 2> "$WORK/$name.err" || status=$?
  if [ "$status" -ne 0 ]; then
    echo "strata $name failed (exit $status):" >&2
    tail -n 20 "$WORK/$name.err" >&2
    exit 1
  fi
  local wall rss_kb user sys cpu
  wall=$(to_seconds "$(grep 'Elapsed (wall clock)' "$tfile" | awk '{print $NF}')")
  rss_kb=$(grep 'Maximum resident set size' "$tfile" | awk '{print $NF}')
  user=$(grep 'User time' "$tfile" | awk '{print $NF}')
  sys=$(grep 'System time' "$tfile" | awk '{print $NF}')
  cpu=$(grep 'Percent of CPU' "$tfile" | awk '{print $NF}')
  LINES+=("$(awk -v n="$name" -v w="$wall" -v r="$ROWS" -v p="$PATIENTS" -v m="$rss_kb" \
    -v u="$user" -v s="$sys" -v c="$cpu" \
    'BEGIN { printf "| %s | %.2f | %.0f | %.0f | %.0f | %.1f | %s |", n, w, r / w, p / w, m / 1024, u + s, c }')")
  echo "  $name: ${wall}s, $((rss_kb / 1024)) MiB" >&2
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
echo "timing $PATIENTS people ($ROWS extract rows) ..." >&2
STAGES_TO_TIME="${E2E_STAGES:-validate features run}"
for stage in $STAGES_TO_TIME; do
  case "$stage" in
    validate) timed validate "$BIN" validate --input "$EXTRACT" ;;
    features) timed features "$BIN" features --input "$EXTRACT" --index-date "$AS_OF" --out "$WORK/features.parquet" ;;
    run) timed run "$BIN" -v run --input "$EXTRACT" --as-of "$AS_OF" --model "$MODEL" --out "$WORK/out" ;;
    *) echo "unknown stage in E2E_STAGES: $stage" >&2; exit 2 ;;
  esac
done

MANIFEST="$WORK/out/latest/manifest.json"
if [ ! -f "$MANIFEST" ]; then
  STAGES="(strata run not timed)"
  OUT_SIZE=0
else
STAGES=$(python3 - "$MANIFEST" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
total = sum(s["seconds"] for s in m["stages"])
for s in m["stages"]:
    print(f'| {s["stage"]} | {s["seconds"]:.2f} |')
print(f"| (sum of stages) | {total:.2f} |")
print(f'\npeople scored: {m["people_scored"]:,}')
EOF
)
# One pass per event table inside `strata run` (its -v log): seconds and the
# peak resident memory during that pass.
PASSES=$(python3 - "$WORK/run.err" <<'EOF'
import re, sys
rows = []
for line in open(sys.argv[1], errors="replace"):
    line = re.sub(r"\x1b\[[0-9;]*m", "", line)
    if "table pass finished" not in line:
        continue
    f = dict(re.findall(r'(\w+)=("[^"]*"|\S+)', line))
    rows.append(f'| {f["table"].strip(chr(34))} | {float(f["seconds"]):.2f} | {f.get("peak_mib", "?")} |')
print("\n".join(rows) if rows else "| (no pass logged) | | |")
EOF
)
OUT_SIZE=$(du -sm "$WORK/out/latest/" | cut -f1)
if [ -n "${E2E_KEEP_OUT:-}" ]; then
  rm -rf "$DATA/out"
  cp -rL "$WORK/out/latest" "$DATA/out"
fi
fi

# --- report -------------------------------------------------------------------
CPU_MODEL=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
MEM_GIB=$(awk '/MemTotal/ {printf "%.1f", $2 / 1048576}' /proc/meminfo)
COMMIT="${E2E_COMMIT:-$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)}"
DIRTY=""
if [ -z "${E2E_COMMIT:-}" ] && (cd "$ROOT" && git status --porcelain --untracked-files=no -- src Cargo.toml 2>/dev/null | grep -q .); then
  DIRTY=" (+ uncommitted changes in src/)"
fi

REPORT="$WORK/report.md"
{
  echo
  echo "### e2e: ${PATIENTS} people — $(date -u '+%Y-%m-%d %H:%M UTC')${E2E_LABEL:+ — $E2E_LABEL}"
  echo
  echo "- commit: \`$COMMIT\`$DIRTY; binary: \`${BIN#"$ROOT"/}\`${E2E_ENV:+; environment: \`$E2E_ENV\`}"
  echo "- machine: $(nproc) cores, ${MEM_GIB} GiB RAM, $CPU_MODEL, $(uname -sr); load average before / after: $LOAD_BEFORE / $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- workload: seed 42, 3 years to $AS_OF, $(python3 -c "print(f'{$ROWS:,}')") extract rows ($ROW_DETAIL), ${EXTRACT_SIZE} MiB Parquet; outputs ${OUT_SIZE} MiB"
  echo
  echo "| stage | wall s | rows/s | people/s | peak RSS MiB | CPU s (user+sys) | CPU % |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  printf '%s\n' "${LINES[@]}"
  echo
  echo "Stages inside \`strata run\` (manifest.json \`stages\`):"
  echo
  echo "| run stage | seconds |"
  echo "|---|---:|"
  echo "$STAGES"
  if [ -n "${PASSES:-}" ]; then
    echo
    echo "One pass per event table inside \`strata run\` (validation and features together; its \`-v\` log):"
    echo
    echo "| table | seconds | peak RSS MiB during the pass |"
    echo "|---|---:|---:|"
    echo "$PASSES"
  fi
} > "$REPORT"

cat "$REPORT"
if [ -z "${E2E_NO_RECORD:-}" ]; then
  if [ ! -f "$RESULTS" ]; then
    printf '# Benchmark results\n\nAppended by the scripts in benches/ (see benches/README.md).\n' > "$RESULTS"
  fi
  if ! grep -q '^## End to end' "$RESULTS"; then
    printf '\n## End to end: `benches/e2e.sh` (issue 7)\n\nOne entry per run, newest last. Targets at 1M people (2 cores, 24 GiB): run <= 30 s and <= 4 GiB, validate <= 10 s, features <= 15 s.\n' >> "$RESULTS"
  fi
  cat "$REPORT" >> "$RESULTS"
  echo >&2
  echo "appended to ${RESULTS#"$ROOT"/}" >&2
fi
