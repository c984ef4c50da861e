package lie

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// checkConstants validates a as an n×n×n array of finite numbers.
func checkConstants(a [][][]float64) (int, error) {
	n := len(a)
	if n == 0 {
		return 0, errors.New("no structure constants: the algebra is empty")
	}
	for x := range a {
		if len(a[x]) != n {
			return 0, fmt.Errorf("ragged structure constants: a[%d] has %d rows, want %d", x, len(a[x]), n)
		}
		for y := range a[x] {
			if len(a[x][y]) != n {
				return 0, fmt.Errorf("ragged structure constants: a[%d][%d] has %d entries, want %d", x, y, len(a[x][y]), n)
			}
			for z, v := range a[x][y] {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					return 0, fmt.Errorf("non-finite structure constant a[%d][%d][%d] = %v", x, y, z, v)
				}
			}
		}
	}
	return n, nil
}

// zeroCube returns n×n×n structure constants, all zero.
func zeroCube(n int) [][][]float64 {
	a := make([][][]float64, n)
	for x := range a {
		a[x] = make([][]float64, n)
		for y := range a[x] {
			a[x][y] = make([]float64, n)
		}
	}
	return a
}

// antisym returns (a[α][β] − a[β][α]) / 2.
func antisym(a [][][]float64, n int) [][][]float64 {
	b := zeroCube(n)
	for x := range b {
		for y := range b[x] {
			for z := range b[x][y] {
				b[x][y][z] = (a[x][y][z] - a[y][x][z]) / 2
			}
		}
	}
	return b
}

// adjoints returns the adjoint matrices, row-major: (ad_α)_γδ = b[α][δ][γ].
func adjoints(b [][][]float64) [][]float64 {
	n := len(b)
	ads := make([][]float64, n)
	for x := range ads {
		ads[x] = make([]float64, n*n)
		for g := 0; g < n; g++ {
			for d := 0; d < n; d++ {
				ads[x][g*n+d] = b[x][d][g]
			}
		}
	}
	return ads
}

// adOf returns ad_u = Σ_α u_α ad_α.
func adOf(ads [][]float64, u []float64, n int) []float64 {
	out := make([]float64, n*n)
	for x, w := range u {
		if w == 0 {
			continue
		}
		for i, v := range ads[x] {
			out[i] += w * v
		}
	}
	return out
}

// bracketPairs returns the brackets [S_i, S_j], i < j.
func bracketPairs(ads [][]float64, n int, S [][]float64) [][]float64 {
	var out [][]float64
	for i := range S {
		ad := adOf(ads, S[i], n)
		for j := i + 1; j < len(S); j++ {
			out = append(out, matVec(ad, n, S[j]))
		}
	}
	return out
}

// bracketAll returns the brackets [e_α, S_j] for all basis elements e_α.
func bracketAll(ads [][]float64, n int, S [][]float64) [][]float64 {
	var out [][]float64
	for _, ad := range ads {
		for _, s := range S {
			out = append(out, matVec(ad, n, s))
		}
	}
	return out
}

// restrict returns the structure constants of the subalgebra (or of the
// quotient by an ideal orthogonal to it) spanned by the orthonormal rows P:
// c[p][q][r] = P_r · [P_p, P_q].
func restrict(ads [][]float64, n int, P [][]float64) [][][]float64 {
	k := len(P)
	c := make([][][]float64, k)
	for p := range c {
		c[p] = make([][]float64, k)
		ad := adOf(ads, P[p], n)
		for q := range c[p] {
			c[p][q] = make([]float64, k)
			w := matVec(ad, n, P[q])
			for r := range c[p][q] {
				c[p][q][r] = dot(P[r], w)
			}
		}
	}
	return c
}

// AbelianTol is the threshold below which a bracket counts as zero: a pair
// whose bracket has rms‖[J_α,J_β]‖ < AbelianTol · rms‖J_α‖ · rms‖J_β‖ is an
// abelian pair (constants 0, residual 0) rather than 0/0.
const AbelianTol = 1e-3

// Pairs lists the index pairs α < β of n generators in order: the order of
// Constants' brackets and residuals.
func Pairs(n int) [][2]int {
	var out [][2]int
	for a := 0; a < n; a++ {
		for c := a + 1; c < n; c++ {
			out = append(out, [2]int{a, c})
		}
	}
	return out
}

// BracketVanishes reports whether the bracket br of the fields fa and fc,
// each sampled at the same points (flattened, points × dimension values),
// is zero by AbelianTol.
func BracketVanishes(br, fa, fc []float64, points int) bool {
	m := float64(points)
	bb, aa, cc := dot(br, br)/m, dot(fa, fa)/m, dot(fc, fc)/m
	return math.Sqrt(bb) < AbelianTol*math.Sqrt(aa*cc)
}

// Constants solves eqs. (15, 16) of the paper by linear least squares: given
// n fields J_γ and the brackets [J_α, J_β] of every pair in Pairs(n) order,
// each sampled at the same points and flattened (points × dimension
// values), it returns the structure constants a[α][β][γ] minimising
// ‖[J_α, J_β] − Σ_γ a[α][β][γ] J_γ‖² (antisymmetric in α, β) and, per pair,
// the relative residual ‖C_αβ‖² / ‖[J_α, J_β]‖² of that fit: 0 for a closed
// pair, near 1 for a bracket outside the fields' span. A pair whose bracket
// vanishes (BracketVanishes) has constants and residual 0.
//
// The fields must be linearly independent over the points; otherwise the
// error says which pair could not be solved.
func Constants(fields, brackets [][]float64, points int) (a [][][]float64, residuals []float64, err error) {
	n := len(fields)
	pairs := Pairs(n)
	if len(brackets) != len(pairs) {
		return nil, nil, fmt.Errorf("lie: %d brackets for %d fields, want %d (one per pair)", len(brackets), n, len(pairs))
	}
	a = zeroCube(n)
	if len(pairs) == 0 {
		return a, nil, nil
	}
	rows := len(fields[0])
	for c, f := range fields {
		if len(f) != rows {
			return nil, nil, fmt.Errorf("lie: field %d has %d values, field 0 has %d", c, len(f), rows)
		}
	}
	if rows < n {
		return nil, nil, fmt.Errorf("lie: %d fields sampled at only %d values: need at least as many values as fields for the least squares (more points)", n, rows)
	}
	A := mat.NewDense(rows, n, nil)
	for c := 0; c < n; c++ {
		for i, v := range fields[c] {
			A.Set(i, c, v)
		}
	}
	var qr mat.QR
	qr.Factorize(A)
	for pi, p := range pairs {
		br := brackets[pi]
		if len(br) != rows {
			return nil, nil, fmt.Errorf("lie: bracket of pair %v has %d values, the fields %d", p, len(br), rows)
		}
		if BracketVanishes(br, fields[p[0]], fields[p[1]], points) {
			residuals = append(residuals, 0)
			continue
		}
		var x mat.Dense
		if err := qr.SolveTo(&x, false, mat.NewDense(rows, 1, br)); err != nil {
			return nil, nil, fmt.Errorf("structure constants of pair %v: %w (the generators are linearly dependent)", p, err)
		}
		res := append([]float64(nil), br...)
		for c := 0; c < n; c++ {
			coef := x.At(c, 0)
			a[p[0]][p[1]][c] = coef
			a[p[1]][p[0]][c] = -coef
			for i, v := range fields[c] {
				res[i] -= coef * v
			}
		}
		residuals = append(residuals, dot(res, res)/dot(br, br))
	}
	return a, residuals, nil
}
