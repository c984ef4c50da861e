package models

import (
	"testing"

	"github.com/liesweep/liesweep/datasets"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestExprOracleReshapeGradients checks, against central finite
// differences, the gradient of L = Σ ψ(x)² with respect to the points and
// of the invariance loss (plain and inv_ratio, whose unit fields pass
// through a Sqrt and a reshape of its output) with respect to linear
// generators, for expression oracles whose outermost function's gradient
// reads its own output (tanh, exp, sqrt). ExprOracle reshapes each
// expression's [N] values to a column [N, 1]: with gorgonia's Reshape, a
// view, the loss's Sub or Square's gradient overwrote tanh's output in
// place before tanh's gradient read it.
func TestExprOracleReshapeGradients(t *testing.T) {
	for _, exprs := range [][]string{
		{"tanh(x0*x1 + x2)"},
		{"exp(x2/2)"},
		{"sqrt(x0^2 + 1)"},
		{"tanh(x0*x1)", "exp(x1/2)"},
	} {
		t.Run(exprs[0], func(t *testing.T) {
			ex, err := datasets.AnalyticOracle("expr", 3, exprs)
			if err != nil {
				t.Fatal(err)
			}
			o := NewExprOracle(3, ex)
			pts := datasets.GaussianSamples(5, 3, 11, 0)
			t.Run("points", func(t *testing.T) { pointsGradCheck(t, o, pts) })
			t.Run("generators", func(t *testing.T) {
				if err := GeneratorGradCheck(o); err != nil {
					t.Error(err)
				}
			})
			t.Run("ratio", func(t *testing.T) {
				s, err := NewGeneratorSet(GenLinear, 3, 2, nil, 7)
				if err != nil {
					t.Fatal(err)
				}
				z := datasets.GaussianSamples(6, 3, 3, 0)
				cfg := GenConfig{Kind: GenLinear, N: 2, Normalization: NormPointwise, Epsilon: 1e-3, InvLoss: InvRatio, InvScale: 2}
				gradCheck(t, s.Params, func(b *binder) (*G.Node, error) {
					ln, err := buildLoss(b, o, s, nil, cfg, matrixNode(b.g, "z", z))
					if err != nil {
						return nil, err
					}
					return ln.inv, nil
				})
			})
		})
	}
}

// pointsGradCheck checks the gradient of Σ ψ(x)² with respect to the
// points x against central differences.
func pointsGradCheck(t *testing.T, o Oracle, pts [][]float64) {
	t.Helper()
	x := &Param{Name: "x", Dense: tensor.New(tensor.WithShape(len(pts), len(pts[0])), tensor.WithBacking(flatten(pts)))}
	gradCheck(t, Params{x}, func(b *binder) (*G.Node, error) {
		y, err := o.apply(b, b.node(x))
		if err != nil {
			return nil, err
		}
		return G.Sum(G.Must(G.Square(y)))
	})
}
