#!/usr/bin/env bash
# The table examples with known answers (docs/results.md): writes their data
# with `liesweep data gen` (not kept in git) and runs each spec with
# `liesweep run`, no servers. State goes under ${LIESWEEP_STATE_DIR:-.liesweep}/tables;
# a second run reuses every finished stage.
set -euo pipefail
cd "$(dirname "$0")/.."
ls=./bin/liesweep
state=${LIESWEEP_STATE_DIR:-.liesweep}/tables
mkdir -p "$state"
$ls data gen sphere3 --out examples/tables/sphere3.csv
$ls data gen norm5 --out examples/tables/norm5.parquet
$ls data gen lightcone4 --out examples/tables/lightcone4.npz
$ls data gen teacher3 --out examples/tables/teacher3.csv
$ls data gen teacher8 --out examples/tables/teacher8.csv
for s in ${TABLE_EXAMPLES:-sphere3 norm5 null_teacher3 null_teacher8 null_teacher3_mlp lightcone4}; do
  echo "== examples/tables/$s.yaml"
  start=$(date +%s)
  $ls run --spec "examples/tables/$s.yaml" --out "$state/$s" --parallel 1 2> "$state/$s.log" || { tail -20 "$state/$s.log"; exit 1; }
  echo "   ($(( $(date +%s) - start )) s; log: $state/$s.log, report: $state/$s/report/report.html)"
done
