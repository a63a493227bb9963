#!/usr/bin/env bash
# Benchmark of the synthetic generator (issue 3): wall time and peak RSS of
# `strata generate` at a given size, measured with GNU time.
#
#   benches/generate.sh [PATIENTS] [FORMAT] [THREADS]
#
# Defaults: 1,000,000 patients, parquet, all cores. Target on the 2-core,
# 24 GiB reference machine: 1M patients in under 60 s and under 2 GiB peak RSS.
# Builds the release binary first (about 19 minutes from cold).
set -euo pipefail

PATIENTS="${1:-1000000}"
FORMAT="${2:-parquet}"
THREADS="${3:-}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="${STRATA_BIN:-$ROOT/target/release/strata}"
OUT="$(mktemp -d "${TMPDIR:-/tmp}/strata-generate-XXXXXX")"
trap 'rm -rf "$OUT"' EXIT

if [ -z "${STRATA_BIN:-}" ]; then
  (cd "$ROOT" && cargo build --release --quiet)
fi
if [ -n "$THREADS" ]; then export RAYON_NUM_THREADS="$THREADS"; fi

/usr/bin/time -v "$BIN" generate --patients "$PATIENTS" --seed 42 --format "$FORMAT" --out "$OUT/extract" \
  > "$OUT/stdout.txt" 2> "$OUT/time.txt"

wall=$(grep "Elapsed (wall clock)" "$OUT/time.txt" | awk '{print $NF}')
rss_kb=$(grep "Maximum resident set size" "$OUT/time.txt" | awk '{print $NF}')
cpu=$(grep "Percent of CPU" "$OUT/time.txt" | awk '{print $NF}')
size=$(du -sh "$OUT/extract" | cut -f1)
rows=$(python3 -c "import json,sys; r=json.load(open('$OUT/extract/generation-report.json'))['rows']; print(sum(v for k,v in r.items() if k not in ('truth','lsoa_imd')))" 2>/dev/null || echo "?")
echo "date:        $(date -u +%Y-%m-%d)"
echo "machine:     $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -sr)"
echo "patients:    $PATIENTS ($FORMAT, threads ${THREADS:-all})"
echo "wall:        $wall"
echo "peak RSS:    $((rss_kb / 1024)) MiB"
echo "CPU:         $cpu"
echo "rows:        $rows (extract tables)"
echo "output size: $size"
