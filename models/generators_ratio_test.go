package models

import (
	"math"
	"testing"

	"github.com/liesweep/liesweep/datasets"
	G "gorgonia.org/gorgonia"
)

// TestInvRatioLossIsTheMetric: with inv_loss ratio the invariance term of
// a linear generator on the norm oracle equals its definition computed
// outside the graph (to rounding); it agrees with the inv_ratio the
// analysis reports, which draws its own random directions (each
// denominator is a Monte Carlo mean of |∇ψ|²cos² over 4000 points with a
// relative sd of ~3 % for |x|² in R³, so two agree to 10 % at 2.4σ); and
// it does not change when the generator is scaled (scale-free).
func TestInvRatioLossIsTheMetric(t *testing.T) {
	ex, err := datasets.AnalyticOracle("norm", 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	o := NewExprOracle(3, ex)
	z := datasets.GaussianSamples(4000, 3, 1, 0)
	s, err := NewGeneratorSet(GenLinear, 3, 1, nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	cfg := GenConfig{Kind: GenLinear, N: 1, Epsilon: 1e-4, Normalization: NormFrobenius, Orthogonality: OrthoGlobal, InvLoss: InvRatio}
	if cfg.InvScale, err = RandomChange(o, z, cfg.Epsilon, 7); err != nil {
		t.Fatal(err)
	}
	loss := func() float64 {
		out, err := evalGraph(func(g *G.ExprGraph) ([]*G.Node, error) {
			ln, err := buildLoss(newBinder(g), o, s, nil, cfg, matrixNode(g, "z", z))
			if err != nil {
				return nil, err
			}
			return []*G.Node{ln.inv}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return out[0][0]
	}
	l1 := loss()
	// the same quantity computed outside the graph, from its definition:
	// 1/(m ε² c) Σ_i ‖ψ(z_i + ε ĝ(z_i)) − ψ(z_i)‖², ĝ = G z/‖G z‖
	g := s.Matrix(0)
	moved := make([][]float64, len(z))
	for i, zi := range z {
		f := make([]float64, 3)
		for r := range f {
			for c := range zi {
				f[r] += g[r][c] * zi[c]
			}
		}
		moved[i] = step(zi, unit(f), cfg.Epsilon)
	}
	psi0, err := EvalOracle(o, z)
	if err != nil {
		t.Fatal(err)
	}
	psi1, err := EvalOracle(o, moved)
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for i := range z {
		d := psi1[i][0] - psi0[i][0]
		sum += d * d
	}
	// float64 differences of size ε·|∇ψ| summed over 4000 points: 1e-9
	if want := sum / (float64(len(z)) * cfg.Epsilon * cfg.Epsilon * cfg.InvScale); math.Abs(l1-want) > 1e-9*want {
		t.Errorf("ratio loss %.15g, from its definition %.15g", l1, want)
	}
	an, err := Analyze(o, s, z, cfg, 3)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(l1-an.Metrics.InvRatio) > 0.10*an.Metrics.InvRatio {
		t.Errorf("ratio loss %v, analysis inv_ratio %v", l1, an.Metrics.InvRatio)
	}
	w := s.Params[0].Float64s()
	for i := range w {
		w[i] *= 10
	}
	if l2 := loss(); math.Abs(l2-l1) > 1e-3*l1 {
		t.Errorf("scaling the generator ×10 moved the ratio loss %v → %v", l1, l2)
	}
}
