package models

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/liesweep/liesweep/datasets"
	"github.com/liesweep/liesweep/lie"
	"github.com/liesweep/liesweep/models/ops"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// lossAndGrads builds the generator loss for a random set and data and
// returns every loss term and the gradient of the total with respect to
// every parameter.
func lossAndGrads(t *testing.T, vectorised bool, n, dim int, joint bool) (map[string]float64, map[string][]float64, int) {
	t.Helper()
	old := vectorisedLinear
	vectorisedLinear = vectorised
	defer func() { vectorisedLinear = old }()
	cfg := GenConfig{Kind: GenLinear, N: n, Orthogonality: OrthoGlobal, Normalization: NormFrobenius, Closure: ClosurePostHoc, Epsilon: 1e-3, HNorm: 1.3, HOrtho: 0.7, HClosure: 1.9, Seed: 3}
	if joint {
		cfg.Closure = ClosureJoint
	}
	return lossAndGradsCfg(t, cfg, dim)
}

// lossAndGradsCfg is lossAndGrads for any generator configuration, on the
// graph the package variables select.
func lossAndGradsCfg(t *testing.T, cfg GenConfig, dim int) (map[string]float64, map[string][]float64, int) {
	t.Helper()
	n := cfg.N
	joint := cfg.Closure == ClosureJoint
	exprs, err := datasets.AnalyticOracle("norm", dim, nil)
	if err != nil {
		t.Fatal(err)
	}
	o := NewExprOracle(dim, exprs)
	s, err := NewGeneratorSet(cfg.Kind, dim, n, cfg.Hidden, cfg.Seed)
	if err != nil {
		t.Fatal(err)
	}
	params := append(Params(nil), s.Params...)
	var coeffs *Param
	if joint && n > 1 {
		np := len(lie.Pairs(n))
		v := make([]float64, np*n)
		r := rand.New(rand.NewPCG(1, 2))
		for i := range v {
			v[i] = r.NormFloat64()
		}
		coeffs = &Param{Name: "closure.coeffs", Dense: tensor.New(tensor.WithShape(np, n), tensor.WithBacking(v))}
		params = append(params, coeffs)
	}
	const m = 17
	g := G.NewGraph()
	b := newBinder(g)
	x := G.NewMatrix(g, tensor.Float64, G.WithName("z"), G.WithShape(m, dim))
	ln, err := buildLoss(b, o, s, coeffs, cfg, x)
	if err != nil {
		t.Fatal(err)
	}
	learn := b.all(params)
	if _, err := G.Grad(ln.total, learn...); err != nil {
		t.Fatal(err)
	}
	reads := map[string]*G.Value{}
	for name, node := range map[string]*G.Node{"total": ln.total, "inv": ln.inv, "norm": ln.norm, "ortho": ln.ortho, "closure": ln.closure} {
		if node != nil {
			reads[name] = new(G.Value)
			G.Read(node, reads[name])
		}
	}
	vm := G.NewTapeMachine(g, G.BindDualValues(learn...))
	defer vm.Close()
	pts := make([]float64, m*dim)
	r := rand.New(rand.NewPCG(5, 6))
	for i := range pts {
		pts[i] = r.NormFloat64()
	}
	if err := G.Let(x, newDense(pts, m, dim)); err != nil {
		t.Fatal(err)
	}
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	losses := map[string]float64{}
	for name, v := range reads {
		losses[name] = ops.Scalar(*v)
	}
	grads := map[string][]float64{}
	for i, p := range params {
		gv, err := learn[i].Grad()
		if err != nil {
			t.Fatal(err)
		}
		grads[p.Name] = append([]float64(nil), gv.Data().([]float64)...)
	}
	return losses, grads, len(g.AllNodes())
}

// TestLinearTermsMatchFieldGraph: the vectorised linear terms give the
// same losses and gradients as the per-pair graph over the fields (whose
// brackets are central differences: equal to ~1e-8).
func TestLinearTermsMatchFieldGraph(t *testing.T) {
	for _, c := range []struct {
		n, dim int
		joint  bool
	}{{1, 2, true}, {2, 3, false}, {3, 3, true}, {4, 4, true}, {6, 4, true}} {
		t.Run(fmt.Sprintf("N%d-n%d-joint%v", c.n, c.dim, c.joint), func(t *testing.T) {
			lv, gv, _ := lossAndGrads(t, true, c.n, c.dim, c.joint)
			lf, gf, _ := lossAndGrads(t, false, c.n, c.dim, c.joint)
			sameTerms(t, "vectorised", "per pair", lv, lf, gv, gf, 1e-6, 1e-5)
		})
	}
}

// TestLinearGraphSizeIndependentOfPairs: the graph of the vectorised loss
// grows linearly with N_g (the invariance term, one field per generator),
// not with the N_g(N_g−1)/2 pairs.
func TestLinearGraphSizeIndependentOfPairs(t *testing.T) {
	_, _, n10 := lossAndGrads(t, true, 10, 5, true)
	_, _, n40 := lossAndGrads(t, true, 40, 5, true)
	// 4× the generators, 17× the pairs: linear growth allows ≈ 4×.
	if ratio := float64(n40) / float64(n10); ratio > 4.5 {
		t.Errorf("graph nodes %d at N_g = 10, %d at N_g = 40 (×%.1f): grows faster than N_g", n10, n40, ratio)
	}
	_, _, f10 := lossAndGrads(t, false, 10, 5, true)
	t.Logf("graph nodes: vectorised N_g=10 %d, N_g=40 %d; per pair N_g=10 %d", n10, n40, f10)
}

// TestLinearRatioMatchesFieldGraph: inv_loss ratio on the vectorised
// linear graph (movedUnit) gives the per-generator graph's losses and
// gradients.
func TestLinearRatioMatchesFieldGraph(t *testing.T) {
	cfg := GenConfig{Kind: GenLinear, N: 4, Orthogonality: OrthoGlobal, Normalization: NormFrobenius, Closure: ClosureJoint, Epsilon: 1e-3, HNorm: 1.3, HOrtho: 0.7, HClosure: 1.9, Seed: 3, InvLoss: InvRatio, InvScale: 2.3}
	run := func(vectorised bool) (map[string]float64, map[string][]float64) {
		old := vectorisedLinear
		vectorisedLinear = vectorised
		defer func() { vectorisedLinear = old }()
		l, g, _ := lossAndGradsCfg(t, cfg, 4)
		return l, g
	}
	lv, gv := run(true)
	lf, gf := run(false)
	sameTerms(t, "vectorised", "per generator", lv, lf, gv, gf, 1e-6, 1e-5)
}

// sameTerms checks that the losses gotL and gradients gotG of one graph
// (named what) are those of another, wantL and wantG (named ref): each loss
// within lossTol and each gradient entry within gradTol, relative to
// max(1, |want|).
func sameTerms(t *testing.T, what, ref string, gotL, wantL map[string]float64, gotG, wantG map[string][]float64, lossTol, gradTol float64) {
	t.Helper()
	if len(gotL) != len(wantL) {
		t.Fatalf("terms %v %s, %v %s", gotL, what, wantL, ref)
	}
	for name, want := range wantL {
		if got := gotL[name]; math.Abs(got-want) > lossTol*math.Max(1, math.Abs(want)) {
			t.Errorf("%s = %.14g %s, %.14g %s", name, got, what, want, ref)
		}
	}
	for name, want := range wantG {
		got := gotG[name]
		if len(got) != len(want) {
			t.Fatalf("∂/∂%s: %d values %s, %d %s", name, len(got), what, len(want), ref)
		}
		for i := range want {
			if math.Abs(got[i]-want[i]) > gradTol*math.Max(1, math.Abs(want[i])) {
				t.Errorf("∂/∂%s[%d] = %.12g %s, %.12g %s", name, i, got[i], what, want[i], ref)
				break
			}
		}
	}
}
