package models

import (
	"fmt"
	"math"
	"testing"

	"github.com/liesweep/liesweep/datasets"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// useStacked selects the stacked (or the per-pair) field graph for every
// N_g, and the field graph for linear generators too; the returned
// function restores the defaults.
func useStacked(stacked bool) func() {
	oldL, oldF := vectorisedLinear, stackedFieldsFrom
	vectorisedLinear, stackedFieldsFrom = false, 0
	if !stacked {
		stackedFieldsFrom = math.MaxInt
	}
	return func() { vectorisedLinear, stackedFieldsFrom = oldL, oldF }
}

// fieldTerms builds the loss of cfg on the stacked or on the per-pair
// field graph.
func fieldTerms(t *testing.T, stacked bool, cfg GenConfig, dim int) (map[string]float64, map[string][]float64, int) {
	t.Helper()
	defer useStacked(stacked)()
	return lossAndGradsCfg(t, cfg, dim)
}

// TestStackedFieldTermsMatchPerPair: the stacked field terms give the
// same losses and gradients as the per-pair graph, for MLP and linear
// generators, global and local orthogonality, pointwise and Frobenius
// normalisation, joint and post-hoc closure.
func TestStackedFieldTermsMatchPerPair(t *testing.T) {
	for _, c := range []struct {
		kind, ortho, norm string
		n, dim            int
		joint             bool
	}{
		{GenMLP, OrthoGlobal, NormPointwise, 1, 2, true},
		{GenMLP, OrthoGlobal, NormPointwise, 3, 3, true},
		{GenMLP, OrthoPointwise, NormPointwise, 4, 3, true},
		{GenMLP, OrthoPointwise, NormPointwise, 2, 4, false},
		{GenLinear, OrthoPointwise, NormPointwise, 3, 3, true},
		{GenLinear, OrthoGlobal, NormFrobenius, 4, 3, true},
	} {
		cfg := GenConfig{Kind: c.kind, Hidden: []int{7}, N: c.n, Orthogonality: c.ortho, Normalization: c.norm, Closure: ClosurePostHoc, Epsilon: 1e-3, HNorm: 1.3, HOrtho: 0.7, HClosure: 1.9, Seed: 3}
		if c.joint {
			cfg.Closure = ClosureJoint
		}
		t.Run(fmt.Sprintf("%s-%s-%s-N%d-n%d-joint%v", c.kind, c.ortho, c.norm, c.n, c.dim, c.joint), func(t *testing.T) {
			ls, gs, _ := fieldTerms(t, true, cfg, c.dim)
			lp, gp, _ := fieldTerms(t, false, cfg, c.dim)
			sameTerms(t, "stacked", "per pair", ls, lp, gs, gp, 1e-9, 1e-7)
		})
	}
}

// TestStackedFieldGraphGrowsLinearly: the stacked graph of MLP generators
// grows with N_g, not with the N_g(N_g−1)/2 pairs (nor with N_g³ as the
// per-pair graph's coefficients do): from N_g = 4 to 16 its node count grows
// at most 5× (16/4 = 4 generators' passes), where the per-pair graph grows
// more than 16×.
func TestStackedFieldGraphGrowsLinearly(t *testing.T) {
	cfg := func(n int) GenConfig {
		return GenConfig{Kind: GenMLP, Hidden: []int{8}, N: n, Orthogonality: OrthoGlobal, Normalization: NormPointwise, Closure: ClosureJoint, Epsilon: 1e-3, HNorm: 1, HOrtho: 1, HClosure: 1, Seed: 1}
	}
	nodes := func(stacked bool, c GenConfig) int {
		defer useStacked(stacked)()
		exprs, err := datasets.AnalyticOracle("norm", 3, nil)
		if err != nil {
			t.Fatal(err)
		}
		s, err := NewGeneratorSet(c.Kind, 3, c.N, c.Hidden, c.Seed)
		if err != nil {
			t.Fatal(err)
		}
		ps, err := GeneratorParams(c, 3)
		if err != nil {
			t.Fatal(err)
		}
		g := G.NewGraph()
		b := newBinder(g)
		x := G.NewMatrix(g, tensor.Float64, G.WithName("z"), G.WithShape(16, 3))
		ln, err := buildLoss(b, NewExprOracle(3, exprs), s, ps.ByName("closure.coeffs"), c, x)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := G.Grad(ln.total, b.all(s.Params)...); err != nil {
			t.Fatal(err)
		}
		return len(g.AllNodes())
	}
	s4, s16, p4, p16 := nodes(true, cfg(4)), nodes(true, cfg(16)), nodes(false, cfg(4)), nodes(false, cfg(16))
	t.Logf("nodes: stacked %d → %d, per pair %d → %d (N_g 4 → 16)", s4, s16, p4, p16)
	if float64(s16) > 5*float64(s4) {
		t.Errorf("stacked graph grew %.1f× from N_g = 4 to 16 (%d → %d nodes): more than linear", float64(s16)/float64(s4), s4, s16)
	}
	if float64(p16) < 16*float64(p4) {
		t.Errorf("per-pair graph grew only %.1f× (%d → %d): the comparison no longer shows anything", float64(p16)/float64(p4), p4, p16)
	}
}
