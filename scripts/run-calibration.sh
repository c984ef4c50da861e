#!/usr/bin/env bash
# Issue 20's calibration of the invariance criterion across ℓ: at ℓ = 2, 4,
# 8, 16 a true symmetry (N_g = 1), one generator too many (N_g = 2) and a
# null (N_g = 1), each on 3 seeds with linear generators — once with the
# formula as ψ (examples/calibration/*.yaml) and once with ψ learned from a
# table labelled by the same formula (examples/calibration/tables/*.yaml,
# data written here by `liesweep data gen expr`) — through `liesweep run`
# without servers. Results go under ${LIESWEEP_STATE_DIR:-.liesweep}/calibration/;
# a second run reuses every finished stage. docs/results.md tabulates them.
set -euo pipefail
cd "$(dirname "$0")/.."
ls=${LIESWEEP:-./bin/liesweep}
state=${LIESWEEP_STATE_DIR:-.liesweep}/calibration
mkdir -p "$state/tables"
run() { # spec out
  start=$(date +%s)
  $ls run --spec "$1" --out "$2" --parallel 1 > "$2.out" 2> "$2.log" || true
  echo "$1 $(( $(date +%s) - start )) s"
}
for l in 2 4 8 16; do
  for c in true null; do
    run "examples/calibration/${c}_l$l.yaml" "$state/${c}_l$l"
  done
done
for l in 2 4 8 16; do
  for c in true null; do
    spec=examples/calibration/tables/${c}_l$l.yaml
    # the data command is the spec's third line
    eval "$(sed -n 3p "$spec" | sed 's/^#  *liesweep/$ls/')" 2>/dev/null
    run "$spec" "$state/tables/${c}_l$l"
  done
done
