#!/usr/bin/env bash
# Issue 20's calibration of the invariance criterion across ℓ: at ℓ = 2, 4,
# 8, 16 a true symmetry (N_g = 1), one generator too many (N_g = 2) and a
# null (N_g = 1), each on 3 seeds, formulas with linear generators
# (examples/calibration/*.yaml), through `liesweep run` without servers.
# Results go under ${LIESWEEP_STATE_DIR:-.liesweep}/calibration/<spec>/; a
# second run reuses every finished stage. docs/results.md tabulates them.
set -euo pipefail
cd "$(dirname "$0")/.."
ls=${LIESWEEP:-./bin/liesweep}
state=${LIESWEEP_STATE_DIR:-.liesweep}/calibration
mkdir -p "$state"
for l in 2 4 8 16; do
  for c in true null; do
    s=${c}_l$l
    start=$(date +%s)
    $ls run --spec "examples/calibration/$s.yaml" --out "$state/$s" --parallel 1 > "$state/$s.out" 2> "$state/$s.log" || true
    echo "$s $(( $(date +%s) - start )) s"
  done
done
