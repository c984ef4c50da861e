package ops

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
)

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
