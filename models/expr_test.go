package models

import (
	"math"
	"testing"

	"github.com/liesweep/liesweep/datasets"
	G "gorgonia.org/gorgonia"
)

// TestExprOracleCompiled compares the compiled graph with hand-computed
// values and gradients of f = x0² + 2 x1² and g = sin(x2)·x3 − x0/x1:
//
//	∂f = (2x0, 4x1, 0, 0),  ∂g = (−1/x1, x0/x1², cos(x2)·x3, sin(x2)).
func TestExprOracleCompiled(t *testing.T) {
	exprs, err := datasets.AnalyticOracle("expr", 4, []string{"x0^2 + 2*x1^2", "sin(x2) * x3 - x0/x1"})
	if err != nil {
		t.Fatal(err)
	}
	o := NewExprOracle(4, exprs)
	pts := [][]float64{{0.5, -2, 3, 1.5}, {1, 1, 0, -1}}
	want := func(x []float64) ([]float64, [][]float64) {
		f := x[0]*x[0] + 2*x[1]*x[1]
		g := math.Sin(x[2])*x[3] - x[0]/x[1]
		return []float64{f, g}, [][]float64{
			{2 * x[0], 4 * x[1], 0, 0},
			{-1 / x[1], x[0] / (x[1] * x[1]), math.Cos(x[2]) * x[3], math.Sin(x[2])},
		}
	}
	got, err := EvalOracle(o, pts)
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range pts {
		vals, _ := want(x)
		for k := range vals {
			if math.Abs(got[i][k]-vals[k]) > 1e-12 {
				t.Errorf("point %d output %d: %g, want %g", i, k, got[i][k], vals[k])
			}
		}
	}
	// gradients of each output summed over points, w.r.t. the inputs
	for k := 0; k < 2; k++ {
		g := G.NewGraph()
		b := newBinder(g)
		x := matrixNode(g, "x", pts)
		y, err := o.apply(b, x)
		if err != nil {
			t.Fatal(err)
		}
		out := G.Must(G.Sum(G.Must(G.Slice(y, nil, G.S(k)))))
		if _, err := G.Grad(out, x); err != nil {
			t.Fatal(err)
		}
		vm := G.NewTapeMachine(g)
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		gv, err := x.Grad()
		if err != nil {
			t.Fatal(err)
		}
		grad := gv.Data().([]float64)
		for i, p := range pts {
			_, d := want(p)
			for j := range d[k] {
				if math.Abs(grad[i*4+j]-d[k][j]) > 1e-12 {
					t.Errorf("∂out%d/∂x%d at point %d: %g, want %g", k, j, i, grad[i*4+j], d[k][j])
				}
			}
		}
		vm.Close()
	}
}
