package models

import (
	"errors"
	"fmt"
	"math"

	"github.com/liesweep/liesweep/datasets"
	"github.com/liesweep/liesweep/models/ops"
	G "gorgonia.org/gorgonia"
)

// GradCheck compares gorgonia's gradient of a scalar loss L with central
// finite differences at every entry p_j of every (float64) parameter in
// params:
//
//	∂L/∂p_j ≈ (L(p + h e_j) − L(p − h e_j)) / 2h,  h = 1e-6,
//
// truncation O(h²), rounding O(1e-16/h); an entry fails when the two differ
// by more than 1e-5·max(1, |finite difference|). build puts L into the new
// graph g, param giving the node of a parameter in g as for
// GraphOracle.Build. GradCheck returns an error naming every failing entry,
// or why the graph could not be built or run; the parameters keep their
// values. It is the check behind the gradient tests of models and
// models/onnx.
func GradCheck(params Params, build func(g *G.ExprGraph, param func(*Param) *G.Node) (*G.Node, error)) error {
	return checkGradients(params, func(b *binder) (*G.Node, error) { return build(b.g, b.node) })
}

// GeneratorGradCheck checks with GradCheck that the generators' invariance
// loss L_inv (eq. 10, as buildLoss builds it) differentiates through ψ = o
// into the generators: two linear generators on R^ℓ (seed 7) at six
// standard normal points (seed 3), ε = 1e-3, pointwise normalisation. ψ's
// own parameters are not among those checked: they stay frozen.
func GeneratorGradCheck(o Oracle) error {
	s, err := NewGeneratorSet(GenLinear, o.InDim(), 2, nil, 7)
	if err != nil {
		return err
	}
	z := datasets.GaussianSamples(6, o.InDim(), 3, 0)
	cfg := GenConfig{Kind: GenLinear, N: 2, Normalization: NormPointwise, Epsilon: 1e-3}
	return checkGradients(s.Params, func(b *binder) (*G.Node, error) {
		ln, err := buildLoss(b, o, s, nil, cfg, matrixNode(b.g, "z", z))
		if err != nil {
			return nil, err
		}
		return ln.inv, nil
	})
}

func checkGradients(params Params, build func(b *binder) (*G.Node, error)) error {
	g := G.NewGraph()
	b := newBinder(g)
	loss, err := build(b)
	if err != nil {
		return fmt.Errorf("gradient check: build: %w", err)
	}
	nodes := b.all(params)
	if _, err := G.Grad(loss, nodes...); err != nil {
		return fmt.Errorf("gradient check: %w", err)
	}
	var lv G.Value
	G.Read(loss, &lv)
	vm := G.NewTapeMachine(g, G.BindDualValues(nodes...))
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		return fmt.Errorf("gradient check: run: %w", err)
	}
	var grads [][]float64
	for _, n := range nodes {
		gv, err := n.Grad()
		if err != nil {
			return fmt.Errorf("gradient check: %w", err)
		}
		grads = append(grads, append([]float64(nil), gv.Data().([]float64)...))
	}
	vm.Reset()
	eval := func() (float64, error) {
		if err := vm.RunAll(); err != nil {
			return 0, fmt.Errorf("gradient check: run: %w", err)
		}
		v := ops.Scalar(lv)
		vm.Reset()
		return v, nil
	}
	const h = 1e-6
	var errs []error
	checked := 0
	for i, p := range params {
		w := p.Float64s()
		for j := range w {
			orig := w[j]
			w[j] = orig + h
			up, errUp := eval()
			w[j] = orig - h
			down, errDown := eval()
			w[j] = orig
			if err := errors.Join(errUp, errDown); err != nil {
				return err
			}
			fd := (up - down) / (2 * h)
			if diff := math.Abs(fd - grads[i][j]); diff > 1e-5*math.Max(1, math.Abs(fd)) {
				errs = append(errs, fmt.Errorf("%s[%d]: autodiff %.10g, finite difference %.10g", p.Name, j, grads[i][j], fd))
			}
			checked++
		}
	}
	if checked == 0 {
		return errors.New("gradient check: no parameter checked")
	}
	return errors.Join(errs...)
}
