package ops

import (
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
	y, loss, gs := evalTwice[float32](t, g, out, cost, an)
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
