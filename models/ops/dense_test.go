package ops

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// denseCase evaluates L = Σ R ⊙ f(x) and its gradients with respect to x
// and every parameter, for the network f of the layers (params[2i] (in ×
// out), params[2i+1] (1 × out)) of the sizes given, with act after every
// layer but the last: the fused Dense ops, or gorgonia's matmul, broadcast
// add and activation when stock. It returns L and the gradients in float64.
func denseCase[T floats](t *testing.T, stock bool, act string, sizes []int, params [][]T, x, r []T, rows int) (float64, [][]float64) {
	t.Helper()
	g := G.NewGraph()
	dt := tensor.Float64
	if _, ok := any(x).([]float32); ok {
		dt = tensor.Float32
	}
	val := func(name string, v []T, shape ...int) *G.Node {
		return G.NewMatrix(g, dt, G.WithName(name), G.WithShape(shape...), G.WithValue(tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))))
	}
	xn := val("x", append([]T(nil), x...), rows, sizes[0])
	wrt := []*G.Node{xn}
	h := xn
	layers := len(sizes) - 1
	for i := 0; i < layers; i++ {
		w := val("w"+string(rune('0'+i)), params[2*i], sizes[i], sizes[i+1])
		b := val("b"+string(rune('0'+i)), params[2*i+1], 1, sizes[i+1])
		wrt = append(wrt, w, b)
		a := ""
		if i+1 < layers {
			a = act
		}
		var err error
		if !stock {
			h, err = Dense(h, w, b, a)
		} else {
			h = G.Must(G.BroadcastAdd(G.Must(G.Mul(h, w)), b, nil, []byte{0}))
			switch a {
			case ActReLU:
				h, err = G.Rectify(h)
			case ActTanh:
				h, err = G.Tanh(h)
			}
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	cost := G.Must(G.Sum(G.Must(G.HadamardProd(h, val("r", r, h.Shape()...)))))
	_, loss, gs := evalTwice[T](t, g, h, cost, wrt...)
	grads := make([][]float64, len(gs))
	for i, d := range gs {
		grads[i] = make([]float64, len(d))
		for j, v := range d {
			grads[i][j] = float64(v)
		}
	}
	return loss, grads
}

// convert returns v in the element type T.
func convert[T, U floats](v []U) []T {
	out := make([]T, len(v))
	for i, x := range v {
		out[i] = T(x)
	}
	return out
}

// The fused Dense layers match gorgonia's matmul + broadcast add +
// activation in value and every gradient (float64 and float32, ReLU and
// tanh) on a 5 → 7 → 6 → 3 network, and their gradients match finite
// differences.
func TestDenseMatchesStock(t *testing.T) {
	for _, act := range []string{ActReLU, ActTanh} {
		t.Run("float64-"+act, func(t *testing.T) { testDense[float64](t, act, 1e-12) })
		t.Run("float32-"+act, func(t *testing.T) { testDense[float32](t, act, 1e-5) })
	}
}

// testDense is TestDenseMatchesStock in the element type T, the values
// agreeing to tol relative and the gradients to 10·tol.
func testDense[T floats](t *testing.T, act string, tol float64) {
	sizes := []int{5, 7, 6, 3}
	// weights and biases as PyTorch's nn.Linear draws them, U(−1/√in, 1/√in)
	pr := rand.New(rand.NewPCG(3, 3))
	var params [][]T
	for i := 0; i+1 < len(sizes); i++ {
		bound := 1 / math.Sqrt(float64(sizes[i]))
		for _, n := range []int{sizes[i] * sizes[i+1], sizes[i+1]} {
			v := make([]float64, n)
			for j := range v {
				v[j] = (2*pr.Float64() - 1) * bound
			}
			params = append(params, convert[T](v))
		}
	}
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
	xt, rt := convert[T](x), convert[T](rr)
	l1, g1 := denseCase(t, false, act, sizes, params, xt, rt, rows)
	l2, g2 := denseCase(t, true, act, sizes, params, xt, rt, rows)
	if math.Abs(l1-l2) > tol*math.Max(1, math.Abs(l2)) {
		t.Errorf("loss %g, stock %g", l1, l2)
	}
	for i := range g1 {
		for j := range g1[i] {
			if math.Abs(g1[i][j]-g2[i][j]) > tol*math.Max(1, math.Abs(g2[i][j]))*10 {
				t.Fatalf("gradient %d[%d]: fused %g, stock %g", i, j, g1[i][j], g2[i][j])
			}
		}
	}
	if _, ok := any(xt).([]float64); !ok {
		return
	}
	// central differences in x and in the second layer's weights
	// (gradient index 0 and 3: x, W0, b0, W1, …)
	const h = 1e-6
	for _, v := range []struct {
		name string
		vals []T
		grad []float64
	}{{"x", xt, g1[0]}, {"W1", params[2], g1[3]}} {
		for k := 0; k < 6; k++ {
			i := r.IntN(len(v.vals))
			orig := v.vals[i]
			v.vals[i] = orig + h
			lp, _ := denseCase(t, false, act, sizes, params, xt, rt, rows)
			v.vals[i] = orig - h
			lm, _ := denseCase(t, false, act, sizes, params, xt, rt, rows)
			v.vals[i] = orig
			if fd := (lp - lm) / (2 * h); math.Abs(fd-v.grad[i]) > 1e-6*math.Max(1, math.Abs(fd)) {
				t.Errorf("∂L/∂%s[%d]: op %g, finite difference %g", v.name, i, v.grad[i], fd)
			}
		}
	}
}
