package models

import (
	"math"
	"testing"

	"github.com/liesweep/liesweep/datasets"
)

// TestBootstrapTermsReproduceMetrics: the per-point terms the bootstrap
// reweights give back Analyze's own metrics with every point once (to
// 1e-9 relative), for untrained MLP generators in pointwise and global
// modes and for linear generators that do not close; the 95 % intervals
// hold the point estimate's neighbourhood and narrow as the evaluation
// points grow.
func TestBootstrapTermsReproduceMetrics(t *testing.T) {
	ex, err := datasets.AnalyticOracle("norm", 4, nil)
	if err != nil {
		t.Fatal(err)
	}
	o := NewExprOracle(4, ex)
	close := func(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }
	for _, c := range []struct {
		kind, ortho, norm string
	}{
		{GenMLP, OrthoPointwise, NormPointwise},
		{GenMLP, OrthoGlobal, NormPointwise},
		{GenLinear, OrthoGlobal, NormFrobenius},
		{GenLinear, OrthoPointwise, NormPointwise},
		{GenMLP, OrthoGlobal, NormMean},
	} {
		s, err := NewGeneratorSet(c.kind, 4, 3, []int{8}, 5)
		if err != nil {
			t.Fatal(err)
		}
		cfg := GenConfig{Kind: c.kind, N: 3, Orthogonality: c.ortho, Normalization: c.norm, Epsilon: 1e-3}
		width := map[int]float64{}
		for _, m := range []int{100, 1600} {
			an, err := Analyze(o, s, datasets.GaussianSamples(m, 4, 9, 1), cfg, 1)
			if err != nil {
				t.Fatal(err)
			}
			got, want := an.points.metrics(nil), an.Metrics
			if !close(got.InvRatio, want.InvRatio) || !close(got.OrthoCos2, want.OrthoCos2) || !close(got.NormDev, want.NormDev) || !close(got.ClosureRel, want.ClosureRel) {
				t.Errorf("%v m=%d: per-point terms give %+v, Analyze %+v", c, m, got, want)
			}
			iv := an.Intervals
			if iv == nil || iv.Rounds != BootstrapRounds {
				t.Fatalf("%v: intervals %+v", c, iv)
			}
			for name, p := range map[string]struct {
				ci [2]float64
				v  float64
			}{"inv_ratio": {iv.InvRatio, want.InvRatio}, "closure_rel": {iv.ClosureRel, want.ClosureRel}, "norm_dev": {iv.NormDev, want.NormDev}} {
				// the estimate lies within its interval widened by half its width
				w := p.ci[1] - p.ci[0]
				if p.ci[0] > p.ci[1] || p.v < p.ci[0]-w/2-1e-12 || p.v > p.ci[1]+w/2+1e-12 {
					t.Errorf("%v m=%d %s: interval %v far from the estimate %v", c, m, name, p.ci, p.v)
				}
			}
			width[m] = iv.InvRatio[1] - iv.InvRatio[0]
		}
		if !(width[1600] < width[100]) {
			t.Errorf("%v: the inv_ratio interval did not narrow with 16× the points: %v", c, width)
		}
	}
}

// TestNormMeanRotation: under normalization mean a unit rotation generator
// (‖L‖_F² = 2) on standard Gaussian points has norm_dev ≈ 0, though its
// pointwise length |Lz| varies (pointwise norm_dev is far from 0).
func TestNormMeanRotation(t *testing.T) {
	ex, err := datasets.AnalyticOracle("norm", 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := linearSet(t, [][][]float64{{{0, -1, 0}, {1, 0, 0}, {0, 0, 0}}})
	z := datasets.GaussianSamples(4000, 3, 2, 1)
	dev := map[string]float64{}
	for _, norm := range []string{NormMean, NormPointwise} {
		an, err := Analyze(NewExprOracle(3, ex), s, z, GenConfig{Kind: GenLinear, N: 1, Orthogonality: OrthoGlobal, Normalization: norm, Epsilon: 1e-3}, 1)
		if err != nil {
			t.Fatal(err)
		}
		dev[norm] = an.Metrics.NormDev
	}
	// E|Lz|² = 2 for z ~ N(0, I); 4000 points leave (±0.045)² ≈ 0.002
	if dev[NormMean] > 0.01 || dev[NormPointwise] < 0.1 {
		t.Errorf("norm_dev of a unit rotation: mean %.4g (want ≈ 0), pointwise %.4g (want ≫ 0)", dev[NormMean], dev[NormPointwise])
	}
}
