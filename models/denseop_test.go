package models

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/liesweep/liesweep/models/ops"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// mlpCase evaluates L = Σ R ⊙ MLP(x) and its gradients wrt x and every
// parameter, with the fused Dense ops or gorgonia's stock ones.
func mlpCase(t *testing.T, m *MLP, stock bool, x, r []float64, rows int) (float64, [][]float64) {
	t.Helper()
	g := G.NewGraph()
	b := newBinder(g)
	dt := m.Params[0].Dense.Dtype()
	in := m.Sizes[0]
	var xv *tensor.Dense
	if dt == tensor.Float32 {
		x32 := make([]float32, len(x))
		for i, v := range x {
			x32[i] = float32(v)
		}
		xv = tensor.New(tensor.WithShape(rows, in), tensor.WithBacking(x32))
	} else {
		xv = tensor.New(tensor.WithShape(rows, in), tensor.WithBacking(append([]float64(nil), x...)))
	}
	xn := G.NewMatrix(g, dt, G.WithName("x"), G.WithShape(rows, in), G.WithValue(xv))
	var y *G.Node
	var err error
	if stock {
		y, err = m.applyStock(b, xn)
	} else {
		y, err = m.apply(b, xn)
	}
	if err != nil {
		t.Fatal(err)
	}
	var rv *tensor.Dense
	if dt == tensor.Float32 {
		r32 := make([]float32, len(r))
		for i, v := range r {
			r32[i] = float32(v)
		}
		rv = tensor.New(tensor.WithShape(y.Shape()...), tensor.WithBacking(r32))
	} else {
		rv = tensor.New(tensor.WithShape(y.Shape()...), tensor.WithBacking(r))
	}
	rn := G.NewMatrix(g, dt, G.WithName("r"), G.WithShape(y.Shape()...), G.WithValue(rv))
	cost := G.Must(G.Sum(G.Must(G.HadamardProd(y, rn))))
	wrt := append([]*G.Node{xn}, b.all(m.Params)...)
	if _, err := G.Grad(cost, wrt...); err != nil {
		t.Fatal(err)
	}
	var cv G.Value
	G.Read(cost, &cv)
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	for run := 0; run < 2; run++ {
		vm.Reset()
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
	}
	var grads [][]float64
	for _, n := range wrt {
		gv, err := n.Grad()
		if err != nil {
			t.Fatal(err)
		}
		switch d := gv.Data().(type) {
		case []float64:
			grads = append(grads, append([]float64(nil), d...))
		case []float32:
			f := make([]float64, len(d))
			for i, v := range d {
				f[i] = float64(v)
			}
			grads = append(grads, f)
		}
	}
	return ops.Scalar(cv), grads
}

// The fused Dense layers match gorgonia's matmul + broadcast add +
// activation in value and every gradient (float64 and float32, ReLU and
// tanh), and their gradients match finite differences.
func TestDenseMatchesStock(t *testing.T) {
	for _, c := range []struct {
		name string
		dt   tensor.Dtype
		act  string
		tol  float64
	}{
		{"float64-relu", tensor.Float64, ActReLU, 1e-12},
		{"float64-tanh", tensor.Float64, ActTanh, 1e-12},
		{"float32-relu", tensor.Float32, ActReLU, 1e-5},
		{"float32-tanh", tensor.Float32, ActTanh, 1e-5},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := NewMLP(3, "net", c.dt, c.act, 5, 7, 6, 3)
			r := rand.New(rand.NewPCG(4, 5))
			rows := 9
			x := make([]float64, rows*5)
			for i := range x {
				x[i] = r.NormFloat64()
			}
			rr := make([]float64, rows*3)
			for i := range rr {
				rr[i] = r.NormFloat64()
			}
			l1, g1 := mlpCase(t, m, false, x, rr, rows)
			l2, g2 := mlpCase(t, m, true, x, rr, rows)
			if math.Abs(l1-l2) > c.tol*math.Max(1, math.Abs(l2)) {
				t.Errorf("loss %g, stock %g", l1, l2)
			}
			for i := range g1 {
				for j := range g1[i] {
					if math.Abs(g1[i][j]-g2[i][j]) > c.tol*math.Max(1, math.Abs(g2[i][j]))*10 {
						t.Fatalf("gradient %d[%d]: fused %g, stock %g", i, j, g1[i][j], g2[i][j])
					}
				}
			}
			if c.dt != tensor.Float64 {
				return
			}
			// central differences in x and in the second layer's weights
			// (gradient index 0 and 3: x, W0, b0, W1, …)
			const h = 1e-6
			for _, v := range []struct {
				name string
				vals []float64
				grad []float64
			}{{"x", x, g1[0]}, {"W1", m.Params[2].Float64s(), g1[3]}} {
				for k := 0; k < 6; k++ {
					i := r.IntN(len(v.vals))
					orig := v.vals[i]
					v.vals[i] = orig + h
					lp, _ := mlpCase(t, m, false, x, rr, rows)
					v.vals[i] = orig - h
					lm, _ := mlpCase(t, m, false, x, rr, rows)
					v.vals[i] = orig
					if fd := (lp - lm) / (2 * h); math.Abs(fd-v.grad[i]) > 1e-6*math.Max(1, math.Abs(fd)) {
						t.Errorf("∂L/∂%s[%d]: op %g, finite difference %g", v.name, i, v.grad[i], fd)
					}
				}
			}
		})
	}
}
