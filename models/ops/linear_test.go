package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// gradCheck64 compares the gradients of L = Σ R ⊙ f(in…), R fixed and
// random, with respect to the float64 inputs marked in wrt with central
// differences (L(v+h) − L(v−h))/2h at every entry, h = 1e-6: truncation
// O(h²), rounding O(1e-16/h), within 1e-6·max(1, |fd|). It returns f's
// value at vals.
func gradCheck64(t *testing.T, f func(in ...*G.Node) (*G.Node, error), vals [][]float64, shapes [][]int, wrt []bool) []float64 {
	t.Helper()
	eval := func() (y []float64, loss float64, grads [][]float64) {
		g := G.NewGraph()
		var in, diff []*G.Node
		for i, v := range vals {
			n := G.NewTensor(g, tensor.Float64, len(shapes[i]), G.WithName(fmt.Sprint("in", i)), G.WithShape(shapes[i]...),
				G.WithValue(tensor.New(tensor.WithShape(shapes[i]...), tensor.WithBacking(append([]float64(nil), v...)))))
			in = append(in, n)
			if wrt[i] {
				diff = append(diff, n)
			}
		}
		out, err := f(in...)
		if err != nil {
			t.Fatal(err)
		}
		rs := out.Shape()
		rr := rand.New(rand.NewPCG(1, 1))
		r := make([]float64, rs.TotalSize())
		for i := range r {
			r[i] = rr.NormFloat64()
		}
		rn := G.NewTensor(g, tensor.Float64, rs.Dims(), G.WithName("r"), G.WithShape(rs...), G.WithValue(tensor.New(tensor.WithShape(rs...), tensor.WithBacking(r))))
		cost := G.Must(G.Sum(G.Must(G.HadamardProd(out, rn))))
		return evalTwice[float64](t, g, out, cost, diff...)
	}
	y, _, grads := eval()
	k := 0
	for i, v := range vals {
		if !wrt[i] {
			continue
		}
		for j := range v {
			const h = 1e-6
			orig := v[j]
			v[j] = orig + h
			_, lp, _ := eval()
			v[j] = orig - h
			_, lm, _ := eval()
			v[j] = orig
			if fd := (lp - lm) / (2 * h); math.Abs(fd-grads[k][j]) > 1e-6*math.Max(1, math.Abs(fd)) {
				t.Errorf("∂L/∂in%d[%d]: op %.10g, finite difference %.10g", i, j, grads[k][j], fd)
			}
		}
		k++
	}
	return y
}

func randF64(r *rand.Rand, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = r.NormFloat64()
	}
	return out
}

// naiveLinearTerms computes (L_norm, L_ortho, L_closure) of the N
// generators n×n stacked in p from their definitions, pair by pair.
func naiveLinearTerms(p, s, a []float64, N, n int) (terms [3]float64) {
	gen := func(k, i, j int) float64 { return p[k*n*n+i*n+j] }
	for k := 0; k < N; k++ {
		var sq float64
		for _, v := range p[k*n*n : (k+1)*n*n] {
			sq += v * v
		}
		terms[0] += (sq - 2) * (sq - 2)
	}
	pair := 0
	for al := 0; al < N; al++ {
		for be := al + 1; be < N; be++ {
			var dot float64
			for i := 0; i < n*n; i++ {
				dot += p[al*n*n+i] * p[be*n*n+i]
			}
			terms[1] += dot * dot
			if a == nil {
				continue
			}
			// R = −[G_α, G_β] − Σ_γ a_pair,γ G_γ; L_closure += tr(R S Rᵀ)
			rm := make([]float64, n*n)
			for i := 0; i < n; i++ {
				for j := 0; j < n; j++ {
					var c float64
					for l := 0; l < n; l++ {
						c += gen(al, i, l)*gen(be, l, j) - gen(be, i, l)*gen(al, l, j)
					}
					rm[i*n+j] = -c
					for ga := 0; ga < N; ga++ {
						rm[i*n+j] -= a[pair*N+ga] * gen(ga, i, j)
					}
				}
			}
			for i := 0; i < n; i++ {
				for j := 0; j < n; j++ {
					var rs float64
					for l := 0; l < n; l++ {
						rs += rm[i*n+l] * s[l*n+j]
					}
					terms[2] += rs * rm[i*n+j]
				}
			}
			pair++
		}
	}
	return terms
}

// LinearTerms gives the loss terms of their definitions (computed pair by
// pair: equal up to rounding, 1e-12 relative) and its gradients with
// respect to the generators and the structure constants match central
// differences.
func TestLinearTerms(t *testing.T) {
	for _, c := range []struct {
		N, n  int
		joint bool
	}{{1, 2, false}, {2, 3, false}, {2, 2, true}, {3, 3, true}, {4, 2, true}} {
		t.Run(fmt.Sprintf("N%d-n%d-joint%v", c.N, c.n, c.joint), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(c.N), uint64(c.n)))
			np := c.N * (c.N - 1) / 2
			p, x := randF64(r, c.N*c.n*c.n), randF64(r, 7*c.n)
			s := make([]float64, c.n*c.n) // XᵀX/m of 7 points
			for i := 0; i < c.n; i++ {
				for j := 0; j < c.n; j++ {
					for k := 0; k < 7; k++ {
						s[i*c.n+j] += x[k*c.n+i] * x[k*c.n+j] / 7
					}
				}
			}
			vals, shapes, wrt := [][]float64{p, s}, [][]int{{c.N * c.n, c.n}, {c.n, c.n}}, []bool{true, false}
			var a []float64
			if c.joint {
				a = randF64(r, np*c.N)
				vals, shapes, wrt = append(vals, a), append(shapes, []int{np, c.N}), append(wrt, true)
			}
			want := naiveLinearTerms(p, s, a, c.N, c.n)
			got := gradCheck64(t, func(in ...*G.Node) (*G.Node, error) {
				var an *G.Node
				if c.joint {
					an = in[2]
				}
				return LinearTerms(in[0], in[1], an, c.N, c.n)
			}, vals, shapes, wrt)
			for i, name := range []string{"norm", "ortho", "closure"} {
				if math.Abs(got[i]-want[i]) > 1e-12*math.Max(1, math.Abs(want[i])) {
					t.Errorf("L_%s = %.15g, definition %.15g", name, got[i], want[i])
				}
			}
		})
	}
}
