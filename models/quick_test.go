package models

import (
	"context"
	"testing"
	"time"

	"github.com/liesweep/liesweep/datasets"
)

func TestQuickSO3(t *testing.T) {
	ex, _ := datasets.AnalyticOracle("norm", 3, nil)
	o := NewExprOracle(3, ex)
	z := datasets.GaussianSamples(300, 3, 1, 0)
	for _, n := range []int{1, 2, 3, 4} {
		cfg := GenConfig{Kind: GenLinear, N: n, Orthogonality: OrthoGlobal, Normalization: NormFrobenius, Closure: ClosureJoint, Epochs: 6000, LR: 1e-3, Epsilon: 1e-3, HNorm: 1, HOrtho: 1, HClosure: 1, Seed: 1}
		st := time.Now()
		r, err := TrainGenerators(context.Background(), o, z, cfg, Hooks{})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("n=%d %v final %v", n, time.Since(st), r.Final())
	}
}

func TestQuickAE(t *testing.T) {
	m, err := datasets.LoadMNIST("")
	if err != nil {
		t.Fatal(err)
	}
	tr, va, err := m.Select([]int{0, 1}, 1, 1024, 512)
	if err != nil {
		t.Fatal(err)
	}
	st := time.Now()
	r, err := TrainAutoencoder(context.Background(), AEConfig{Latent: 2, Epochs: 2, LR: 1e-3, Batch: 128, Seed: 1}, tr.Images, va.Images, Hooks{OnEpoch: func(e EpochReport) { t.Logf("%v %v", e, time.Since(st)) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ae %v mse %v", time.Since(st), r.ValMSE)
	ztr, _ := r.AE.Encode(tr.Images)
	zva, _ := r.AE.Encode(va.Images)
	st = time.Now()
	or, err := TrainOracle(context.Background(), OracleConfig{Classes: 2, Epochs: 20, LR: 1e-3, Batch: 128, Seed: 1, Preserve: "logits"}, ztr, zva, tr.Labels, va.Labels, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("oracle %v acc %v", time.Since(st), or.ValAccuracy)
}
