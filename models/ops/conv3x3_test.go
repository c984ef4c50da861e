package ops

import (
	"math"
	"math/rand/v2"
	"runtime"
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

// evalTwice differentiates cost with respect to wrt and runs the graph
// twice (the second run writes into the values the first preallocated). It
// returns out's values (nil unless of type T), the cost and the gradients.
func evalTwice[T floats](t *testing.T, g *G.ExprGraph, out, cost *G.Node, wrt ...*G.Node) (y []T, loss float64, grads [][]T) {
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
		grads = append(grads, slices.Clone(gv.Data().([]T)))
	}
	if d, ok := yv.Data().([]T); ok {
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

// opCase evaluates L = Σ R ⊙ f(x, w, b) and its gradients for the
// convolution f that build makes (b is 1×Cout×1×1).
func opCase(t *testing.T, build func(x, w, b *G.Node) (*G.Node, error), xs, ws []int, x, w, b, r []float32) (y []float32, loss float64, grads [3][]float32) {
	t.Helper()
	g := G.NewGraph()
	val := func(name string, s []int, v []float32) *G.Node {
		return G.NewTensor(g, tensor.Float32, 4, G.WithName(name), G.WithShape(s...), G.WithValue(tensor.New(tensor.WithShape(s...), tensor.WithBacking(append([]float32(nil), v...)))))
	}
	xn, wn, bn := val("x", xs, x), val("w", ws, w), val("b", []int{1, ws[0], 1, 1}, b)
	out, err := build(xn, wn, bn)
	if err != nil {
		t.Fatal(err)
	}
	if len(r) != out.Shape().TotalSize() {
		t.Fatalf("R has %d values, output %v", len(r), out.Shape())
	}
	cost := G.Must(G.Sum(G.Must(G.HadamardProd(out, val("r", out.Shape(), r)))))
	y, loss, gs := evalTwice[float32](t, g, out, cost, xn, wn, bn)
	copy(grads[:], gs)
	return y, loss, grads
}

// checkConv compares the convolution op with the reference ref (named
// refName) on x (shape xs), w (ws) and b: the values of f and the gradients
// of L = Σ R ⊙ f(x, w, b) agree to 1e-5 relative to the largest, and the
// op's gradients match central differences of L at five random entries of
// each input. L is linear in each input: central differences with h = 0.5
// are exact up to float32 rounding, 2e-3 relative to max(1, |L|).
func checkConv(t *testing.T, r *rand.Rand, op, ref func(x, w, b *G.Node) (*G.Node, error), refName string, xs, ws []int, x, w, b, rr []float32) {
	t.Helper()
	y1, l1, g1 := opCase(t, op, xs, ws, x, w, b, rr)
	y2, _, g2 := opCase(t, ref, xs, ws, x, w, b, rr)
	if d := maxRelDiff(y1, y2); d > 1e-5 {
		t.Errorf("forward differs from %s by %.2g (relative)", refName, d)
	}
	for i, name := range []string{"x", "w", "b"} {
		if d := maxRelDiff(g1[i], g2[i]); d > 1e-5 {
			t.Errorf("∂L/∂%s differs from %s by %.2g (relative)", name, refName, d)
		}
	}
	vals := [3][]float32{x, w, b}
	for i, name := range []string{"x", "w", "b"} {
		for trial := 0; trial < 5; trial++ {
			k := r.IntN(len(vals[i]))
			const h = 0.5
			orig := vals[i][k]
			vals[i][k] = orig + h
			_, lp, _ := opCase(t, op, xs, ws, vals[0], vals[1], vals[2], rr)
			vals[i][k] = orig - h
			_, lm, _ := opCase(t, op, xs, ws, vals[0], vals[1], vals[2], rr)
			vals[i][k] = orig
			fd := (lp - lm) / (2 * h)
			if math.Abs(fd-float64(g1[i][k])) > 2e-3*math.Max(1, math.Abs(l1)) {
				t.Errorf("∂L/∂%s[%d]: op %g, finite difference %g", name, k, g1[i][k], fd)
			}
		}
	}
}

// convBuild makes the convolution of stride s with either the custom ops
// or gorgonia's stock Conv2d + BroadcastAdd (+ Upsample2D in front).
func convBuild(custom, upsample bool, stride int) func(x, w, b *G.Node) (*G.Node, error) {
	return func(x, w, b *G.Node) (*G.Node, error) {
		in := x
		var err error
		if upsample {
			if custom {
				in, err = Upsample2x(x)
			} else {
				in, err = G.Upsample2D(x, 2)
			}
			if err != nil {
				return nil, err
			}
		}
		if custom {
			return Conv3x3(in, w, b, stride)
		}
		c, err := G.Conv2d(in, w, tensor.Shape{3, 3}, []int{1, 1}, []int{stride, stride}, []int{1, 1})
		if err != nil {
			return nil, err
		}
		return G.BroadcastAdd(c, b, nil, []byte{0, 2, 3})
	}
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
			checkConv(t, r, convBuild(true, c.upsample, c.stride), convBuild(false, c.upsample, c.stride), "stock", c.xs, c.ws, x, w, b, rr)
		})
	}
}

// The convolutions give bit-identical values and gradients whatever the
// number of cores: chunks are fixed by the geometry and summed in order.
func TestConvOpsSameOnAnyCores(t *testing.T) {
	xs, ws := []int{40, 4, 14, 14}, []int{3, 4, 3, 3}
	r := rand.New(rand.NewPCG(5, 6))
	x, w, b := randF32(r, 40*4*14*14), randF32(r, 3*4*9), randF32(r, 3)
	for _, c := range []struct {
		name  string
		build func(x, w, b *G.Node) (*G.Node, error)
		ny    int
	}{
		{"conv", func(x, w, b *G.Node) (*G.Node, error) { return Conv3x3(x, w, b, 1) }, 40 * 3 * 14 * 14},
		{"conv/2", func(x, w, b *G.Node) (*G.Node, error) { return Conv3x3(x, w, b, 2) }, 40 * 3 * 7 * 7},
		{"upconv", UpConv3x3, 40 * 3 * 28 * 28},
	} {
		t.Run(c.name, func(t *testing.T) {
			rr := randF32(r, c.ny)
			var ys [][]float32
			var gs [][3][]float32
			for _, procs := range []int{1, 3} {
				old := runtime.GOMAXPROCS(procs)
				y, _, g := opCase(t, c.build, xs, ws, x, w, b, rr)
				runtime.GOMAXPROCS(old)
				ys, gs = append(ys, y), append(gs, g)
			}
			if !slices.Equal(ys[0], ys[1]) {
				t.Error("values differ between 1 and 3 cores")
			}
			for i, name := range []string{"x", "w", "b"} {
				if !slices.Equal(gs[0][i], gs[1][i]) {
					t.Errorf("∂L/∂%s differs between 1 and 3 cores", name)
				}
			}
		})
	}
}

// The weight gradients computed from the patch matrices the forward pass
// kept are bit-identical to those that build them again, and a cache that
// holds another input's matrices is not used.
func TestColsCacheSameWeightGradient(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	g := conv3x3Geom{B: 30, Cin: 3, H: 9, W: 8, Cout: 4, Stride: 2}
	u := upConvGeom{B: 30, Cin: 3, H: 5, W: 6, Cout: 2}
	t.Run("conv", func(t *testing.T) {
		x, w, b := randF32(r, g.B*g.Cin*g.H*g.W), randF32(r, g.Cout*g.K()), randF32(r, g.Cout)
		y, dy := make([]float32, g.B*g.Cout*g.P()), randF32(r, g.B*g.Cout*g.P())
		want, wantb := make([]float32, len(w)), make([]float32, g.Cout)
		g.gradWeightBias(x, dy, want, wantb, nil)
		cc := &colsCache{on: true}
		g.forward(x, w, b, y, cc)
		got, gotb := make([]float32, len(w)), make([]float32, g.Cout)
		g.gradWeightBias(x, dy, got, gotb, cc)
		if !slices.Equal(got, want) || !slices.Equal(gotb, wantb) {
			t.Error("weight gradient from the kept patch matrices differs")
		}
		x2 := slices.Clone(x)
		x2[0]++
		if cc.of(x2, 0, 1, 1) != nil {
			t.Error("cache used for another input")
		}
	})
	t.Run("upconv", func(t *testing.T) {
		x, w, b := randF32(r, u.B*u.Cin*u.H*u.W), randF32(r, u.Cout*u.Cin*9), randF32(r, u.Cout)
		n := u.B * u.Cout * 4 * u.H * u.W
		y, dy := make([]float32, n), randF32(r, n)
		want := make([]float32, len(w))
		u.gradWeight(x, dy, want, nil)
		cc := &colsCache{on: true}
		u.forward(x, w, b, y, cc)
		got := make([]float32, len(w))
		u.gradWeight(x, dy, got, cc)
		if !slices.Equal(got, want) {
			t.Error("weight gradient from the kept patch matrices differs")
		}
	})
}
