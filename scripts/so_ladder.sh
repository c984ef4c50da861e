#!/bin/bash
# The so(n) ladder of docs/performance.md: for n = 3 … 10, train all
# n(n−1)/2 linear generators of so(n) (examples/so10.yaml's settings, seed 1)
# with `liesweep train`, then the PyTorch twin (bench/torch_so.py) for the
# same number of epochs, and print one Markdown row per n.
# usage: scripts/so_ladder.sh [LIESWEEP_BINARY] [N_MIN] [N_MAX]
set -euo pipefail
bin=${1:-bin/liesweep}
lo=${2:-3}
hi=${3:-10}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
echo "| n | N_g | epochs run | liesweep wall (s) | verdict | algebra | PyTorch twin, same epochs (s) |"
echo "|---|---|---|---|---|---|---|"
for n in $(seq "$lo" "$hi"); do
  ng=$(( n * (n - 1) / 2 ))
  sed -e "s/^name: so10/name: so$n/" -e "s/dim: 10/dim: $n/" -e "s/^ng: \[45\]/ng: [$ng]/" examples/so10.yaml > "$dir/so$n.yaml"
  start=$(date +%s.%N)
  "$bin" train --spec "$dir/so$n.yaml" --ng "$ng" --seed 1 --out "$dir/out$n" > "$dir/log$n" 2>&1
  wall=$(echo "$(date +%s.%N) - $start" | bc)
  read -r passed epochs alg < <(python3 -c "
import json; r = json.load(open('$dir/out$n/result.json'))
a = r['algebra']; s = a['killing_signature']
print('passed' if r['passed'] else 'failed:' + ','.join(r['failed_on']), r['epochs_run'], '%s,Killing(%d+,%d-,%d·0)' % (a.get('name', '?').split(' ')[0], s['pos'], s['neg'], s['zero']))")
  twin=$(/usr/bin/python3 bench/torch_so.py "$n" "$epochs" 1e-2 1 | python3 -c "import json,sys; print('%.1f' % json.load(sys.stdin)['seconds'])")
  printf "| %d | %d | %d | %.1f | %s | %s | %s |\n" "$n" "$ng" "$epochs" "$wall" "$passed" "$alg" "$twin"
done
