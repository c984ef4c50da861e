package models

import (
	"context"
	"fmt"
	"time"

	"github.com/liesweep/liesweep/datasets"
)

// BenchResult is the throughput of one training workload.
type BenchResult struct {
	Workload   string  `json:"workload"`
	Throughput float64 `json:"throughput"` // items per second
	Unit       string  `json:"unit"`
	FinalLoss  float64 `json:"final_loss"`
	Steps      int     `json:"steps"`
	// PeakRSSMB is the process's own peak resident memory (VmHWM), where
	// it reports one: wait4's figure also counts the parent's peak, which
	// Linux carries into the child across fork and exec.
	PeakRSSMB float64 `json:"peak_rss_mb,omitempty"`
}

// BenchImages are the synthetic images the benchmarks train on (the
// PyTorch side builds the same ones): pixel j of image i is
// ((7i + 13j) mod 17) / 17.
func BenchImages(n int) [][]float32 {
	imgs := make([][]float32, n)
	for i := range imgs {
		imgs[i] = make([]float32, 784)
		for j := range imgs[i] {
			imgs[i][j] = float32((i*7+j*13)%17) / 17
		}
	}
	return imgs
}

// BenchWorkload trains one of the workloads of `make bench` — "autoencoder"
// (ℓ = 16, batch 128), "oracle" (16→128→128→32→10, batch 128) or
// "generators-N" (N tanh 32-32 generators against a frozen oracle, batch
// 128, float64) or "generators-linear-so10" (45 linear generators of so(10),
// full batch, joint closure) — for one warm-up epoch and `epochs` timed ones, and
// returns the timed throughput.
func BenchWorkload(name string, epochs int) (BenchResult, error) {
	var start, end time.Time
	var last map[string]float64
	timed := Hooks{OnEpoch: func(e EpochReport) {
		if e.Epoch == 1 {
			start = time.Now()
		}
		end = time.Now()
		last = e.Losses
	}}
	ctx := context.Background()
	res := BenchResult{Workload: name}
	var items int
	var err error
	switch {
	case name == "autoencoder":
		imgs := BenchImages(512)
		_, err = TrainAutoencoder(ctx, AEConfig{Latent: 16, Epochs: 1 + epochs, LR: 1e-3, Batch: 128, Seed: 1}, imgs, nil, timed)
		items, res.Unit = epochs*512, "img/s"
	case name == "oracle":
		z := datasets.GaussianSamples(8192, 16, 1, 0)
		y := make([]int, len(z))
		for i := range y {
			y[i] = i % 10
		}
		_, err = TrainOracle(ctx, OracleConfig{Classes: 10, Epochs: 1 + epochs, LR: 1e-3, Batch: 128, Seed: 1, Preserve: PreserveLogits}, z, z[:10], y, y[:10], timed)
		items, res.Unit = epochs*8192, "pts/s"
	case name == "generators-linear-so10":
		// so(10): 45 linear generators on R^10 against the norm oracle,
		// full batch of 300 points, joint closure over all 990 pairs.
		ex, e := datasets.AnalyticOracle("norm", 10, nil)
		if e != nil {
			return res, e
		}
		z := datasets.GaussianSamples(300, 10, 1, 0)
		cfg := GenConfig{Kind: GenLinear, N: 45, Orthogonality: OrthoGlobal, Normalization: NormFrobenius, Closure: ClosureJoint, Epochs: 1 + epochs, LR: 1e-2, Epsilon: 1e-3, HNorm: 1, HOrtho: 1, HClosure: 1, Seed: 1}
		_, err = TrainGenerators(ctx, NewExprOracle(10, ex), z, cfg, timed)
		items, res.Unit = epochs, "epochs/s"
	default:
		var ng int
		if _, e := fmt.Sscanf(name, "generators-%d", &ng); e != nil || ng < 1 {
			return res, fmt.Errorf("unknown workload %q (autoencoder, oracle, generators-N)", name)
		}
		o := NewMLPOracle(1, 16, 10, PreserveLogits)
		z := datasets.GaussianSamples(1024, 16, 1, 0)
		cfg := GenConfig{Kind: GenMLP, Hidden: []int{32, 32}, N: ng, Orthogonality: OrthoPointwise, Normalization: NormPointwise, Closure: ClosurePostHoc, Epochs: 1 + epochs, LR: 1e-3, Epsilon: 1e-3, Batch: 128, HNorm: 1, HOrtho: 1, Seed: 1}
		_, err = TrainGenerators(ctx, o, z, cfg, timed)
		items, res.Unit = epochs*1024, "pts/s"
	}
	if err != nil {
		return res, err
	}
	res.Throughput = float64(items) / end.Sub(start).Seconds()
	res.FinalLoss = last["total"]
	res.Steps = epochs
	return res, nil
}
