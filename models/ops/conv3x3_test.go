package ops

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func randF32(r *rand.Rand, n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(r.NormFloat64())
	}
	return out
}

// convCase evaluates L = Σ R ⊙ f(x, w, b) and its gradients with either the
// custom ops or gorgonia's stock Conv2d + BroadcastAdd (+ Upsample2D).
func convCase(t *testing.T, custom, upsample bool, stride int, xs, ws []int, x, w, b, r []float32) (y []float32, loss float64, grads [3][]float32) {
	t.Helper()
	g := G.NewGraph()
	xn := G.NewTensor(g, tensor.Float32, 4, G.WithName("x"), G.WithShape(xs...), G.WithValue(tensor.New(tensor.WithShape(xs...), tensor.WithBacking(append([]float32(nil), x...)))))
	wn := G.NewTensor(g, tensor.Float32, 4, G.WithName("w"), G.WithShape(ws...), G.WithValue(tensor.New(tensor.WithShape(ws...), tensor.WithBacking(append([]float32(nil), w...)))))
	bn := G.NewTensor(g, tensor.Float32, 4, G.WithName("b"), G.WithShape(1, ws[0], 1, 1), G.WithValue(tensor.New(tensor.WithShape(1, ws[0], 1, 1), tensor.WithBacking(append([]float32(nil), b...)))))
	in := xn
	var err error
	if upsample {
		if custom {
			in, err = Upsample2x(xn)
		} else {
			in, err = G.Upsample2D(xn, 2)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	var out *G.Node
	if custom {
		out, err = Conv3x3(in, wn, bn, stride)
	} else {
		c := G.Must(G.Conv2d(in, wn, tensor.Shape{3, 3}, []int{1, 1}, []int{stride, stride}, []int{1, 1}))
		out, err = G.BroadcastAdd(c, bn, nil, []byte{0, 2, 3})
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(r) != out.Shape().TotalSize() {
		t.Fatalf("R has %d values, output %v", len(r), out.Shape())
	}
	rn := G.NewTensor(g, tensor.Float32, 4, G.WithName("r"), G.WithShape(out.Shape()...), G.WithValue(tensor.New(tensor.WithShape(out.Shape()...), tensor.WithBacking(r))))
	cost := G.Must(G.Sum(G.Must(G.HadamardProd(out, rn))))
	y, loss, gs := evalTwice(t, g, out, cost, xn, wn, bn)
	copy(grads[:], gs)
	return y, loss, grads
}

// evalTwice differentiates cost with respect to wrt and runs the graph
// twice (the second run writes into the values the first preallocated). It
// returns out's values (nil unless float32), the cost and the gradients.
func evalTwice(t *testing.T, g *G.ExprGraph, out, cost *G.Node, wrt ...*G.Node) (y []float32, loss float64, grads [][]float32) {
	t.Helper()
	if _, err := G.Grad(cost, wrt...); err != nil {
		t.Fatal(err)
	}
	var yv, cv G.Value
	G.Read(out, &yv)
	G.Read(cost, &cv)
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	for run := 0; run < 2; run++ {
		vm.Reset()
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range wrt {
		gv, err := n.Grad()
		if err != nil {
			t.Fatal(err)
		}
		grads = append(grads, slices.Clone(gv.Data().([]float32)))
	}
	if d, ok := yv.Data().([]float32); ok {
		y = slices.Clone(d)
	}
	return y, Scalar(cv), grads
}

func maxRelDiff(a, b []float32) float64 {
	var num, den float64
	for i := range a {
		num = math.Max(num, math.Abs(float64(a[i]-b[i])))
		den = math.Max(den, math.Abs(float64(b[i])))
	}
	return num / math.Max(den, 1e-30)
}

// The custom convolution (stride 1 and 2, with and without the custom
// upsampling in front) matches gorgonia's stock ops in value and in every
// gradient, and its gradients match finite differences.
func TestConvOpsMatchStock(t *testing.T) {
	cases := []struct {
		name     string
		upsample bool
		stride   int
		xs, ws   []int
	}{
		{"stride2", false, 2, []int{3, 2, 7, 6}, []int{4, 2, 3, 3}},
		{"stride1", false, 1, []int{2, 3, 5, 5}, []int{2, 3, 3, 3}},
		{"stride1-narrow", false, 1, []int{2, 2, 4, 2}, []int{3, 2, 3, 3}},
		{"stride1-column", false, 1, []int{2, 2, 3, 1}, []int{3, 2, 3, 3}},
		{"stride2-column", false, 2, []int{2, 2, 5, 1}, []int{3, 2, 3, 3}},
		{"stride2-odd", false, 2, []int{2, 2, 5, 3}, []int{3, 2, 3, 3}},
		{"upsample+stride1", true, 1, []int{2, 3, 4, 3}, []int{5, 3, 3, 3}},
		{"encoder-like", false, 2, []int{5, 1, 28, 28}, []int{16, 1, 3, 3}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			nx, nw := c.xs[0]*c.xs[1]*c.xs[2]*c.xs[3], c.ws[0]*c.ws[1]*9
			x, w, b := randF32(r, nx), randF32(r, nw), randF32(r, c.ws[0])
			h, wd := c.xs[2], c.xs[3]
			if c.upsample {
				h, wd = 2*h, 2*wd
			}
			ny := c.xs[0] * c.ws[0] * ((h-1)/c.stride + 1) * ((wd-1)/c.stride + 1)
			rr := randF32(r, ny)
			y1, l1, g1 := convCase(t, true, c.upsample, c.stride, c.xs, c.ws, x, w, b, rr)
			y2, _, g2 := convCase(t, false, c.upsample, c.stride, c.xs, c.ws, x, w, b, rr)
			if d := maxRelDiff(y1, y2); d > 1e-5 {
				t.Errorf("forward differs from stock by %.2g (relative)", d)
			}
			for i, name := range []string{"x", "w", "b"} {
				if d := maxRelDiff(g1[i], g2[i]); d > 1e-5 {
					t.Errorf("∂L/∂%s differs from stock by %.2g (relative)", name, d)
				}
			}
			// finite differences (L is linear in each input: central
			// differences are exact up to float32 rounding)
			vals := [3][]float32{x, w, b}
			for i, name := range []string{"x", "w", "b"} {
				for trial := 0; trial < 5; trial++ {
					k := r.IntN(len(vals[i]))
					const h = 0.5
					orig := vals[i][k]
					vals[i][k] = orig + h
					_, lp, _ := convCase(t, true, c.upsample, c.stride, c.xs, c.ws, vals[0], vals[1], vals[2], rr)
					vals[i][k] = orig - h
					_, lm, _ := convCase(t, true, c.upsample, c.stride, c.xs, c.ws, vals[0], vals[1], vals[2], rr)
					vals[i][k] = orig
					fd := (lp - lm) / (2 * h)
					if math.Abs(fd-float64(g1[i][k])) > 2e-3*math.Max(1, math.Abs(l1)) {
						t.Errorf("∂L/∂%s[%d]: op %g, finite difference %g", name, k, g1[i][k], fd)
					}
				}
			}
		})
	}
}
