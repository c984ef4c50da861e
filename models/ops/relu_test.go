package ops

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// elemCase evaluates L = Σ R ⊙ f(a) (or L = f(a, t) when f is a loss) and
// ∂L/∂a for a float32 input a of shape s.
func elemCase(t *testing.T, f func(a, tg *G.Node) (*G.Node, error), s []int, a, tg, r []float32) (y []float32, loss float64, grad []float32) {
	t.Helper()
	g := G.NewGraph()
	val := func(name string, v []float32) *G.Node {
		return G.NewTensor(g, tensor.Float32, len(s), G.WithName(name), G.WithShape(s...), G.WithValue(tensor.New(tensor.WithShape(s...), tensor.WithBacking(slices.Clone(v)))))
	}
	an, tn := val("a", a), val("t", tg)
	out, err := f(an, tn)
	if err != nil {
		t.Fatal(err)
	}
	cost := out
	if out.Shape().Dims() > 0 {
		cost = G.Must(G.Sum(G.Must(G.HadamardProd(out, val("r", r)))))
	}
	y, loss, gs := evalTwice(t, g, out, cost, an)
	return y, loss, gs[0]
}

// ReLU equals gorgonia's Rectify in value and gradient (no input is
// exactly 0, where the two conventions differ), and its gradient is 0 at 0.
func TestReLUMatchesRectify(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	s := []int{3, 2, 5, 7}
	n := 3 * 2 * 5 * 7
	a, rr := randF32(r, n), randF32(r, n)
	relu := func(a, _ *G.Node) (*G.Node, error) { return ReLU(a) }
	rect := func(a, _ *G.Node) (*G.Node, error) { return G.Rectify(a) }
	y1, _, g1 := elemCase(t, relu, s, a, a, rr)
	y2, _, g2 := elemCase(t, rect, s, a, a, rr)
	if !slices.Equal(y1, y2) || !slices.Equal(g1, g2) {
		t.Errorf("ReLU differs from Rectify:\n%v\n%v\ngradients\n%v\n%v", y1, y2, g1, g2)
	}
	a[0], a[1] = 0, -1
	_, _, g := elemCase(t, relu, s, a, a, rr)
	if g[0] != 0 || g[1] != 0 {
		t.Errorf("gradient at 0 and −1: %v, %v; want 0, 0", g[0], g[1])
	}
}

// BCEWithLogits equals gorgonia's mean(softplus(l) − x·l) in value and
// gradient up to float32 rounding (the op sums in float64: 1e-5 relative),
// over logits from −20 to 20 (both of softplus's cut-offs inside), and its
// gradient matches central differences of its value.
func TestBCEWithLogitsMatchesComposition(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	s := []int{4, 1, 6, 5}
	n := 4 * 6 * 5
	l, x := make([]float32, n), make([]float32, n)
	for i := range l {
		l[i] = float32(r.Float64()*40 - 20)
		x[i] = float32(r.Float64())
	}
	bce := func(l, x *G.Node) (*G.Node, error) { return BCEWithLogits(l, x) }
	ref := func(l, x *G.Node) (*G.Node, error) {
		return G.Mean(G.Must(G.Sub(G.Must(G.Softplus(l)), G.Must(G.HadamardProd(x, l)))))
	}
	_, l1, g1 := elemCase(t, bce, s, l, x, nil)
	_, l2, g2 := elemCase(t, ref, s, l, x, nil)
	if math.Abs(l1-l2) > 1e-5*math.Abs(l2) {
		t.Errorf("loss %v, composition %v", l1, l2)
	}
	if d := maxRelDiff(g1, g2); d > 1e-5 {
		t.Errorf("gradient differs from the composition by %.2g (relative)", d)
	}
	for trial := 0; trial < 8; trial++ {
		k := r.IntN(n)
		const h = 0.5
		orig := l[k]
		l[k] = orig + h
		_, lp, _ := elemCase(t, bce, s, l, x, nil)
		l[k] = orig - h
		_, lm, _ := elemCase(t, bce, s, l, x, nil)
		l[k] = orig
		// gradients are (σ(l) − x)/N, |·| ≲ 1/120; the loss (≈ 5) is rounded
		// to float32 (~5e-7), which gives the quotient ~5e-7 of error, and
		// the truncation error h²/6·max|σ''|/N is below 4e-5
		if fd := (lp - lm) / (2 * h); math.Abs(fd-float64(g1[k])) > 5e-5 {
			t.Errorf("∂L/∂l[%d]: op %g, finite difference %g", k, g1[k], fd)
		}
	}
}

// TestReshapeCopy checks ReshapeCopy in float32 and float64: its value is
// the input's data in the new shape (a column of a matrix, a view, too), and
// the gradient of L = Σ reshape(tanh(a))² is 2·tanh(a)·(1 − tanh²(a)).
// With gorgonia's Reshape in its place the test fails: Square's gradient
// works in place on the reshape, a view, and so overwrites tanh's output
// (here the reshape's value read after the run comes out doubled).
func TestReshapeCopy(t *testing.T) {
	a := []float64{0.3, -1.2, 0.8, 2.0, 0.1, -0.5, 1.5, -0.7, 0.05, -2.2, 0.9, 0.4}
	f64 := func(t *testing.T, v G.Value) []float64 {
		switch d := v.Data().(type) {
		case []float32:
			out := make([]float64, len(d))
			for i, x := range d {
				out[i] = float64(x)
			}
			return out
		case []float64:
			return slices.Clone(d)
		}
		t.Fatalf("data %T", v.Data())
		return nil
	}
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		t.Run(dt.String(), func(t *testing.T) {
			g := G.NewGraph()
			back := tensor.New(tensor.WithShape(3, 4), tensor.WithBacking(slices.Clone(a)))
			tol := 1e-14
			if dt == tensor.Float32 {
				a32 := make([]float32, len(a))
				for i, v := range a {
					a32[i] = float32(v)
				}
				back, tol = tensor.New(tensor.WithShape(3, 4), tensor.WithBacking(a32)), 1e-6
			}
			an := G.NewMatrix(g, dt, G.WithName("a"), G.WithShape(3, 4), G.WithValue(back))
			r := G.Must(ReshapeCopy(G.Must(G.Tanh(an)), tensor.Shape{2, 3, 2}))
			col := G.Must(ReshapeCopy(G.Must(G.Slice(an, nil, G.S(1))), tensor.Shape{3, 1}))
			cost := G.Must(G.Sum(G.Must(G.Square(r))))
			if _, err := G.Grad(cost, an); err != nil {
				t.Fatal(err)
			}
			var rv, cv G.Value
			G.Read(r, &rv)
			G.Read(col, &cv)
			vm := G.NewTapeMachine(g, G.BindDualValues(an))
			defer vm.Close()
			var d []float64
			for run := 0; run < 2; run++ { // the second reuses the ops' buffers
				vm.Reset()
				if err := vm.RunAll(); err != nil {
					t.Fatal(err)
				}
				if run == 0 { // each run adds to the bound gradient
					gv, err := an.Grad()
					if err != nil {
						t.Fatal(err)
					}
					d = f64(t, gv)
				}
			}
			if !rv.Shape().Eq(tensor.Shape{2, 3, 2}) || !cv.Shape().Eq(tensor.Shape{3, 1}) {
				t.Fatalf("shapes %v and %v", rv.Shape(), cv.Shape())
			}
			y, c := f64(t, rv), f64(t, cv)
			for i, v := range a {
				th := math.Tanh(v)
				if math.Abs(y[i]-th) > tol {
					t.Errorf("value %d: %g, want %g", i, y[i], th)
				}
				if want := 2 * th * (1 - th*th); math.Abs(d[i]-want) > 10*tol {
					t.Errorf("gradient %d: %g, want %g", i, d[i], want)
				}
			}
			for i, want := range []float64{a[1], a[5], a[9]} {
				if math.Abs(c[i]-want) > tol {
					t.Errorf("column value %d: %g, want %g", i, c[i], want)
				}
			}
		})
	}
}
