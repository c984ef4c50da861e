package models

import (
	"context"
	"errors"
	"testing"

	"github.com/liesweep/liesweep/datasets"
)

func TestPlateauReached(t *testing.T) {
	flat := func(n int, f func(i int) float64) []map[string]float64 {
		h := make([]map[string]float64, n)
		for i := range h {
			h[i] = map[string]float64{"total": 1, "inv": f(i), "norm": 1}
		}
		return h
	}
	p := Plateau{Window: 10, Tol: 0.01}
	if p.Reached(flat(15, func(int) float64 { return 1 })) {
		t.Error("reached with less than two windows of history")
	}
	if !p.Reached(flat(20, func(int) float64 { return 1 })) {
		t.Error("constant losses have plateaued")
	}
	if p.Reached(flat(20, func(i int) float64 { return 1 / float64(1+i) })) {
		t.Error("a falling term (≫ 1 % per window) has not plateaued")
	}
	if !p.Reached(flat(20, func(i int) float64 { return 1 + 0.01*float64(i) })) {
		t.Error("a rising term has nothing left to gain")
	}
}

// TestEarlyStopResumes: training with the plateau rule stops before its
// epochs, and a run interrupted after a checkpoint and resumed stops at the
// same epoch with the same weights — also when the checkpoint is the
// stopping epoch itself.
func TestEarlyStopResumes(t *testing.T) {
	ex, _ := datasets.AnalyticOracle("norm", 2, nil)
	o := NewExprOracle(2, ex)
	z := datasets.GaussianSamples(60, 2, 1, 0)
	cfg := GenConfig{Kind: GenLinear, N: 1, Orthogonality: OrthoGlobal, Normalization: NormFrobenius, Closure: ClosureJoint, Epochs: 3000, LR: 1e-2, Epsilon: 1e-3, HNorm: 1, HOrtho: 1, HClosure: 1, Seed: 2}
	plateau := &Plateau{Window: 100, Tol: 0.01}
	full, err := TrainGenerators(context.Background(), o, z, cfg, Hooks{Plateau: plateau})
	if err != nil {
		t.Fatal(err)
	}
	stop := len(full.Losses)
	if stop >= cfg.Epochs || stop%plateau.Window != 0 {
		t.Fatalf("stopped after %d of %d epochs, want an early stop at a multiple of %d", stop, cfg.Epochs, plateau.Window)
	}
	for _, at := range []int{stop - plateau.Window, stop} {
		ctx, cancel := context.WithCancel(context.Background())
		var saved []byte
		h := stopAfter(50, at, cancel, &saved)
		h.Plateau = plateau
		if _, err := TrainGenerators(ctx, o, z, cfg, h); at != stop && !errors.Is(err, context.Canceled) {
			t.Fatalf("interrupted run: %v", err)
		}
		like, _ := GeneratorParams(cfg, 2)
		c, err := DecodeCheckpoint(saved, "generators", like)
		if err != nil {
			t.Fatal(err)
		}
		resumed, err := TrainGenerators(context.Background(), o, z, cfg, Hooks{Resume: c, Plateau: plateau})
		if err != nil {
			t.Fatal(err)
		}
		if len(resumed.Losses) != stop {
			t.Errorf("resumed from epoch %d: stopped after %d epochs, the uninterrupted run after %d", at, len(resumed.Losses), stop)
		}
		paramsEqual(t, full.Set.Params, resumed.Set.Params)
	}
}
