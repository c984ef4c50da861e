package models

import (
	"fmt"
	"testing"

	"github.com/liesweep/liesweep/datasets"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// gradCheck fails t where the gradient of the loss build makes differs
// from central finite differences (GradCheck).
func gradCheck(t *testing.T, params Params, build func(b *binder) (*G.Node, error)) {
	t.Helper()
	if err := checkGradients(params, build); err != nil {
		t.Error(err)
	}
}

func gradFixture(t *testing.T, kind string, n int) (*GeneratorSet, *ExprOracle, *G.ExprGraph, [][]float64) {
	t.Helper()
	s, err := NewGeneratorSet(kind, 3, n, []int{4}, 7)
	if err != nil {
		t.Fatal(err)
	}
	ex, err := datasets.AnalyticOracle("expr", 3, []string{"x0^2 + sin(x1)*x2", "exp(x2/2) - x0*x1"})
	if err != nil {
		t.Fatal(err)
	}
	return s, NewExprOracle(3, ex), nil, datasets.GaussianSamples(12, 3, 3, 0)
}

// TestLossGradients checks every term of the generator loss (eqs. 10, 11,
// 14, 15) in every variant against finite differences, for both generator
// kinds. Gradients flow through the oracle into the generators only.
func TestLossGradients(t *testing.T) {
	terms := []struct {
		name string
		cfg  GenConfig
		pick func(*lossNodes) *G.Node
	}{
		{"inv", GenConfig{Epsilon: 1e-3}, func(l *lossNodes) *G.Node { return l.inv }},
		{"inv-ratio", GenConfig{Epsilon: 1e-3, InvLoss: InvRatio, InvScale: 3.7}, func(l *lossNodes) *G.Node { return l.inv }},
		{"inv-ratio-frobenius", GenConfig{Epsilon: 1e-3, InvLoss: InvRatio, InvScale: 3.7, Normalization: NormFrobenius, Orthogonality: OrthoGlobal}, func(l *lossNodes) *G.Node { return l.inv }},
		{"norm-pointwise", GenConfig{Normalization: NormPointwise, Epsilon: 1e-3}, func(l *lossNodes) *G.Node { return l.norm }},
		{"norm-frobenius", GenConfig{Normalization: NormFrobenius, Epsilon: 1e-3}, func(l *lossNodes) *G.Node { return l.norm }},
		{"ortho-pointwise", GenConfig{Orthogonality: OrthoPointwise, Epsilon: 1e-3}, func(l *lossNodes) *G.Node { return l.ortho }},
		{"ortho-global", GenConfig{Orthogonality: OrthoGlobal, Epsilon: 1e-3}, func(l *lossNodes) *G.Node { return l.ortho }},
		{"closure-joint", GenConfig{Closure: ClosureJoint, Epsilon: 1e-3}, func(l *lossNodes) *G.Node { return l.closure }},
		{"total", GenConfig{Closure: ClosureJoint, Epsilon: 1e-3, HNorm: 0.5, HOrtho: 2, HClosure: 0.7}, func(l *lossNodes) *G.Node { return l.total }},
	}
	for _, kind := range []string{GenLinear, GenMLP} {
		for _, tc := range terms {
			if kind == GenMLP && tc.cfg.Normalization == NormFrobenius {
				continue
			}
			t.Run(kind+"/"+tc.name, func(t *testing.T) {
				s, o, _, z := gradFixture(t, kind, 3)
				cfg := tc.cfg
				cfg.Kind, cfg.N = kind, 3
				if cfg.Normalization == "" {
					cfg.Normalization = NormPointwise
				}
				params := append(Params(nil), s.Params...)
				var coeffs *Param
				if cfg.Closure == ClosureJoint {
					coeffs = newUniform(5, "closure.coeffs", tensor.Float64, 1, 3, 3)
					params = append(params, coeffs)
				}
				gradCheck(t, params, func(b *binder) (*G.Node, error) {
					ln, err := buildLoss(b, o, s, coeffs, cfg, matrixNode(b.g, "z", z))
					if err != nil {
						return nil, err
					}
					return tc.pick(ln), nil
				})
			})
		}
	}
}

// TestOracleLossGradients checks the oracle's BCE and softmax cross-entropy.
func TestOracleLossGradients(t *testing.T) {
	z := datasets.GaussianSamples(8, 2, 1, 0)
	for _, classes := range []int{2, 3} {
		t.Run(fmt.Sprint(classes, " classes"), func(t *testing.T) {
			o := NewMLPOracle(3, 2, classes, PreserveLogits)
			o.Net = NewMLP(3, "oracle", tensor.Float64, ActTanh, 2, 5, oracleOutputs(classes)) // smooth, so FD is exact
			k := o.OutDim()
			y := make([]float64, 8*k)
			for i := 0; i < 8; i++ {
				if k == 1 {
					y[i] = float64(i % 2)
				} else {
					y[i*k+i%k] = 1
				}
			}
			gradCheck(t, o.Net.Params, func(b *binder) (*G.Node, error) {
				logits, err := o.Net.apply(b, matrixNode(b.g, "z", z))
				if err != nil {
					return nil, err
				}
				yn := G.NewMatrix(b.g, tensor.Float64, G.WithName("y"), G.WithShape(8, k), G.WithValue(newDense(y, 8, k)))
				return oracleLoss(logits, yn)
			})
		})
	}
	t.Run("regression", func(t *testing.T) {
		net := NewMLP(3, "oracle", tensor.Float64, ActTanh, 2, 5, 1)
		y := make([]float64, 8)
		for i := range y {
			y[i] = float64(i) / 4
		}
		gradCheck(t, net.Params, func(b *binder) (*G.Node, error) {
			out, err := net.apply(b, matrixNode(b.g, "z", z))
			if err != nil {
				return nil, err
			}
			yn := G.NewMatrix(b.g, tensor.Float64, G.WithName("y"), G.WithShape(8, 1), G.WithValue(newDense(y, 8, 1)))
			return mseLoss(out, yn)
		})
	})
}
