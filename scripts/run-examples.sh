#!/usr/bin/env bash
# Runs the example sweeps on this machine with `liesweep run` (no Temporal,
# no S3) and prints their verdict tables. State goes under ${LIESWEEP_STATE_DIR:-.liesweep}/examples;
# a second run reuses every finished stage.
set -euo pipefail
cd "$(dirname "$0")/.."
state=${LIESWEEP_STATE_DIR:-.liesweep}/examples
specs=${EXAMPLES:-"so3 mnist01_l2 mnist01_l3"}
for s in $specs; do
  echo "== examples/$s.yaml"
  start=$(date +%s)
  ./bin/liesweep run --spec "examples/$s.yaml" --out "$state/$s" --parallel 2 2> "$state-$s.log" || { tail -20 "$state-$s.log"; exit 1; }
  echo "   ($(( $(date +%s) - start )) s; log: $state-$s.log, results: $state/$s)"
done
