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

// opCase evaluates L = Σ R ⊙ f(x, w, b) and its gradients for the
// convolution f that build makes.
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
	y, loss, gs := evalTwice(t, g, out, cost, xn, wn, bn)
	copy(grads[:], gs)
	return y, loss, grads
}

func upConvFused(x, w, b *G.Node) (*G.Node, error) { return UpConv3x3(x, w, b) }

// upConvReference is the composition UpConv3x3 replaces.
func upConvReference(x, w, b *G.Node) (*G.Node, error) {
	u, err := Upsample2x(x)
	if err != nil {
		return nil, err
	}
	return Conv3x3(u, w, b, 1)
}

// The fused upsampling convolution equals Upsample2x followed by Conv3x3
// (the reference, itself checked against gorgonia's stock ops in
// TestConvOpsMatchStock) in value and in every gradient, up to float32
// rounding (the phase weights are sums of up to four weights: relative
// differences of a few ulps of the largest value, 1e-5 leaves room), and
// its gradients match finite differences.
func TestUpConvMatchesUpsampleConv(t *testing.T) {
	cases := []struct {
		name   string
		xs, ws []int
	}{
		{"small", []int{2, 3, 4, 3}, []int{5, 3, 3, 3}},
		{"one-pixel", []int{2, 2, 1, 1}, []int{3, 2, 3, 3}},
		{"one-row", []int{3, 2, 1, 5}, []int{2, 2, 3, 3}},
		{"one-column", []int{2, 2, 3, 1}, []int{2, 2, 3, 3}},
		{"decoder1-like", []int{5, 32, 7, 7}, []int{16, 32, 3, 3}},
		{"decoder2-like", []int{3, 16, 14, 14}, []int{1, 16, 3, 3}},
		{"many-chunks", []int{9, 2, 20, 20}, []int{2, 2, 3, 3}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(3, 4))
			nx, nw := c.xs[0]*c.xs[1]*c.xs[2]*c.xs[3], c.ws[0]*c.ws[1]*9
			x, w, b := randF32(r, nx), randF32(r, nw), randF32(r, c.ws[0])
			rr := randF32(r, c.xs[0]*c.ws[0]*4*c.xs[2]*c.xs[3])
			y1, l1, g1 := opCase(t, upConvFused, c.xs, c.ws, x, w, b, rr)
			y2, _, g2 := opCase(t, upConvReference, c.xs, c.ws, x, w, b, rr)
			if d := maxRelDiff(y1, y2); d > 1e-5 {
				t.Errorf("forward differs from Upsample2x+Conv3x3 by %.2g (relative)", d)
			}
			for i, name := range []string{"x", "w", "b"} {
				if d := maxRelDiff(g1[i], g2[i]); d > 1e-5 {
					t.Errorf("∂L/∂%s differs from Upsample2x+Conv3x3 by %.2g (relative)", name, d)
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
					_, lp, _ := opCase(t, upConvFused, c.xs, c.ws, vals[0], vals[1], vals[2], rr)
					vals[i][k] = orig - h
					_, lm, _ := opCase(t, upConvFused, c.xs, c.ws, vals[0], vals[1], vals[2], rr)
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
		{"upconv", upConvFused, 40 * 3 * 28 * 28},
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
	g := convGeom{B: 30, Cin: 3, H: 9, W: 8, Cout: 4, Stride: 2}
	u := upConvGeom{B: 30, Cin: 3, H: 5, W: 6, Cout: 2}
	t.Run("conv", func(t *testing.T) {
		x, w, b := randF32(r, g.B*g.Cin*g.H*g.W), randF32(r, g.Cout*g.K()), randF32(r, g.Cout)
		y, dy := make([]float32, g.B*g.Cout*g.P()), randF32(r, g.B*g.Cout*g.P())
		want, wantb := make([]float32, len(w)), make([]float32, g.Cout)
		g.gradWeight(x, dy, want, wantb, nil)
		cc := &colsCache{on: true}
		g.forward(x, w, b, y, cc)
		got, gotb := make([]float32, len(w)), make([]float32, g.Cout)
		g.gradWeight(x, dy, got, gotb, cc)
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
