#!/usr/bin/env bash
# make demo: start the local stack (Temporal dev server + MinIO, state in
# $LIESWEEP_STATE_DIR), a worker, run the demo sweeps of examples/ on
# Temporal with progress, print their verdicts, write each sweep's report
# with plots to $LIESWEEP_STATE_DIR/reports/, stop what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
state=${LIESWEEP_STATE_DIR:-.liesweep}
mkdir -p "$state/logs"
ls=./bin/liesweep
$ls dev up
worker_pid=
cleanup() {
  [ -n "$worker_pid" ] && kill "$worker_pid" 2>/dev/null && wait "$worker_pid" 2>/dev/null || true
  $ls dev down || true
}
trap cleanup EXIT
$ls worker --slots 2 >> "$state/logs/worker.log" 2>&1 &
worker_pid=$!
stamp=$(date -u +%Y%m%d-%H%M%S)
specs=${DEMO_SPECS:-mnist01_l2-demo mnist01_l3-demo so3-demo}
# start every sweep (the MNIST ones first: theirs is the longest chain,
# autoencoder → generators), so the worker's two training slots stay busy, then
# follow each to its verdict
for s in $specs; do
  $ls sweep start --spec "examples/$s.yaml" --id "$s-$stamp"
done
for s in $specs; do
  echo "== examples/$s.yaml"
  $ls sweep watch "$s-$stamp"
  $ls sweep report "$s-$stamp" --format md --out "$state/reports/$s-$stamp" > /dev/null
done
echo "reports with plots (open report.html in a browser):"
for s in $specs; do
  echo "  $state/reports/$s-$stamp/report.html"
done
echo "list the sweeps with '$ls sweep list' (after '$ls dev up'); the stack's data stays in $state"
