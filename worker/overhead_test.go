package worker_test

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// sweep100 is 100 tiny analytic trials: N_g 1–4 × 25 seeds of the norm
// oracle in R³, about two seconds of training each (so3Small of the integration tests).
var sweep100 = `name: overhead-100
dataset: {kind: analytic, oracle: norm, dim: 3, samples: 100}
ng: [1, 2, 3, 4]
seeds: [` + seedList(25) + `]
generator: {kind: linear, orthogonality: global, normalization: frobenius, closure: joint}
train: {epochs: 1500, lr: 1.0e-2, checkpoint_every: 500, eval_points: 100}
concurrency: 4
`

func seedList(n int) string {
	s := make([]string, n)
	for i := range s {
		s[i] = fmt.Sprint(i + 1)
	}
	return strings.Join(s, ", ")
}

// BenchmarkSweepOverhead runs a sweep of 100 tiny trials on the local stack
// (Temporal dev server + MinIO, one worker with 2 training slots) and
// reports its wall time against the compute its activities did: the sum of
// every trial's stage times divided by the slots. overhead-% is
// wall / (compute / slots) − 1: what Temporal scheduling, heartbeats, S3
// checkpoints and results, and aggregation cost on top of the training.
// Run it with `make bench-orchestration`.
func BenchmarkSweepOverhead(b *testing.B) {
	if testing.Short() {
		b.Skip("needs the Temporal dev server and MinIO")
	}
	const slots = 2
	for i := 0; i < b.N; i++ {
		bucket := fmt.Sprintf("bench-overhead-%d", time.Now().UnixNano())
		startWorker(b, bucket, "w-bench", "--slots", fmt.Sprint(slots))
		spec := writeSpec(b, sweep100)
		start := time.Now()
		if out, err := cli(b, bucket, "sweep", "start", "--spec", spec, "--id", "overhead", "--wait"); err != nil {
			b.Fatalf("sweep start --wait: %v\n%s", err, out)
		}
		wall := time.Since(start).Seconds()
		r := getReport(b, bucket, "overhead")
		var compute float64
		trials := 0
		for _, g := range r.Groups {
			for _, lv := range g.Levels {
				for _, t := range lv.Trials {
					trials++
					for _, st := range t.Stages {
						compute += st.Seconds
					}
				}
			}
		}
		if trials != 100 {
			b.Fatalf("%d trials in the verdict, want 100", trials)
		}
		ideal := compute / slots
		b.ReportMetric(wall, "wall-s")
		b.ReportMetric(compute, "compute-s")
		b.ReportMetric(100*(wall/ideal-1), "overhead-%")
		perTrial := (wall - ideal) * slots / float64(trials)
		b.ReportMetric(1000*perTrial, "overhead-ms/trial")
		b.Logf("100 trials: wall %.1f s, Σ activity compute %.1f s over %d slots = %.1f s, overhead %.1f%% (%.0f ms of slot time per trial)", wall, compute, slots, ideal, 100*(wall/ideal-1), 1000*perTrial)
	}
}
