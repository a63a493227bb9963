#!/usr/bin/env bash
# Executes every analyst notebook headless against a run, so they cannot rot silently.
#
#   notebooks/run.sh                      # the sample run: out/latest and out/evaluation.json
#   STRATA_RUN_DIR=out/runs/<id> STRATA_EVALUATION=eval.json notebooks/run.sh
#
# Environment (paths relative to the repository root, or absolute):
#   STRATA_RUN_DIR      a published run directory          (default: out/latest)
#   STRATA_EVALUATION   evaluation JSON of `strata evaluate` (default: out/evaluation.json)
#   STRATA_MODEL        model file                         (default: models/emergency_admission.json)
#   STRATA_IMD_TABLE    LSOA → IMD decile table            (default: sample-data/lsoa_imd.parquet)
#   NOTEBOOK_OUT        where executed copies are written  (default: target/notebooks)
#   JUPYTER             the jupyter command                (default: jupyter on PATH)
# Needs the packages of notebooks/requirements.txt. Exits non-zero if any cell fails.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
absolute() { case "$1" in /*) echo "$1" ;; *) echo "$root/$1" ;; esac; }

export STRATA_RUN_DIR="$(absolute "${STRATA_RUN_DIR:-out/latest}")"
export STRATA_EVALUATION="$(absolute "${STRATA_EVALUATION:-out/evaluation.json}")"
export STRATA_MODEL="$(absolute "${STRATA_MODEL:-models/emergency_admission.json}")"
export STRATA_IMD_TABLE="$(absolute "${STRATA_IMD_TABLE:-sample-data/lsoa_imd.parquet}")"
out="$(absolute "${NOTEBOOK_OUT:-target/notebooks}")"
jupyter="${JUPYTER:-jupyter}"

[ -f "$STRATA_RUN_DIR/manifest.json" ] || { echo "notebooks/run.sh: no run at $STRATA_RUN_DIR (run: cargo run -- run)" >&2; exit 1; }
[ -f "$STRATA_EVALUATION" ] || { echo "notebooks/run.sh: no evaluation at $STRATA_EVALUATION (run: cargo run -- evaluate ... --out $STRATA_EVALUATION)" >&2; exit 1; }
mkdir -p "$out"

for notebook in tonights_cohorts model_deep_dive; do
  echo "executing notebooks/$notebook.ipynb"
  # Cells run with the notebook's folder as working directory; a failing cell fails the command.
  "$jupyter" nbconvert --to notebook --execute \
    --ExecutePreprocessor.timeout=600 \
    --output-dir "$out" --output "$notebook" \
    "$root/notebooks/$notebook.ipynb"
done
echo "executed notebooks written to $out"
