package ops

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
)

// MovedPoints gives x + ε x G_αᵀ, block by block (equal up to rounding,
// 1e-13 relative), and its gradient with respect to the generators matches
// central differences.
func TestMovedPoints(t *testing.T) {
	const N, m, n, eps = 3, 5, 4, 0.3
	r := rand.New(rand.NewPCG(2, 3))
	x, p := randF64(r, m*n), randF64(r, N*n*n)
	got := gradCheck64(t, func(in ...*G.Node) (*G.Node, error) { return MovedPoints(in[0], in[1], N, eps) },
		[][]float64{x, p}, [][]int{{m, n}, {N * n, n}}, []bool{false, true})
	for a := 0; a < N; a++ {
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				want := x[i*n+j]
				for k := 0; k < n; k++ {
					want += eps * p[a*n*n+j*n+k] * x[i*n+k]
				}
				if v := got[(a*m+i)*n+j]; math.Abs(v-want) > 1e-13*math.Max(1, math.Abs(want)) {
					t.Errorf("moved point %d of generator %d, coordinate %d: %g, want %g", i, a, j, v, want)
				}
			}
		}
	}
}
