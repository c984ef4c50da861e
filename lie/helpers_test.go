package lie

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// ltZeros returns the n×n zero matrix.
func ltZeros(n int) [][]float64 {
	m := make([][]float64, n)
	for r := range m {
		m[r] = make([]float64, n)
	}
	return m
}

// ltUnit returns the n×n matrix unit E_ij.
func ltUnit(n, i, j int) [][]float64 {
	m := ltZeros(n)
	m[i][j] = 1
	return m
}

func ltAdd(x, y [][]float64, c float64) [][]float64 {
	out := make([][]float64, len(x))
	for i := range x {
		out[i] = make([]float64, len(x[i]))
		for j := range x[i] {
			out[i][j] = x[i][j] + c*y[i][j]
		}
	}
	return out
}

// ltSO returns the rotation generators L_ij = E_ij − E_ji (i < j) of so(n).
func ltSO(n int) [][][]float64 {
	var out [][][]float64
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			out = append(out, ltAdd(ltUnit(n, i, j), ltUnit(n, j, i), -1))
		}
	}
	return out
}

// ltLorentz returns three rotations of x1..x3 (antisymmetric) and three
// boosts mixing x0 with x_i (symmetric): so(1,3) on R⁴.
func ltLorentz() [][][]float64 {
	out := [][][]float64{
		ltAdd(ltUnit(4, 2, 3), ltUnit(4, 3, 2), -1),
		ltAdd(ltUnit(4, 3, 1), ltUnit(4, 1, 3), -1),
		ltAdd(ltUnit(4, 1, 2), ltUnit(4, 2, 1), -1),
	}
	for i := 1; i <= 3; i++ {
		out = append(out, ltAdd(ltUnit(4, 0, i), ltUnit(4, i, 0), 1))
	}
	return out
}

// ltSU3 returns i λ_a for the eight Gell-Mann matrices λ_a, realified:
// X + iY ↦ [[X, −Y], [Y, X]] (6×6), a faithful representation of su(3).
func ltSU3() [][][]float64 {
	type cm struct{ re, im [3][3]float64 }
	var g [8]cm
	g[0].re = [3][3]float64{{0, 1, 0}, {1, 0, 0}}
	g[1].im = [3][3]float64{{0, -1, 0}, {1, 0, 0}}
	g[2].re = [3][3]float64{{1, 0, 0}, {0, -1, 0}}
	g[3].re = [3][3]float64{{0, 0, 1}, {0, 0, 0}, {1, 0, 0}}
	g[4].im = [3][3]float64{{0, 0, -1}, {0, 0, 0}, {1, 0, 0}}
	g[5].re = [3][3]float64{{0, 0, 0}, {0, 0, 1}, {0, 1, 0}}
	g[6].im = [3][3]float64{{0, 0, 0}, {0, 0, -1}, {0, 1, 0}}
	s := 1 / math.Sqrt(3)
	g[7].re = [3][3]float64{{s, 0, 0}, {0, s, 0}, {0, 0, -2 * s}}
	var out [][][]float64
	for _, l := range g {
		// i λ = −Im λ + i Re λ.
		x, y := l.im, l.re
		m := ltZeros(6)
		for r := 0; r < 3; r++ {
			for c := 0; c < 3; c++ {
				m[r][c], m[r+3][c+3] = -x[r][c], -x[r][c]
				m[r][c+3], m[r+3][c] = -y[r][c], y[r][c]
			}
		}
		out = append(out, m)
	}
	return out
}

// ltSL3 returns E_ij (i ≠ j), E_11 − E_22 and E_22 − E_33.
func ltSL3() [][][]float64 {
	var out [][][]float64
	for i := 0; i < 3; i++ {
		for j := 0; j < 3; j++ {
			if i != j {
				out = append(out, ltUnit(3, i, j))
			}
		}
	}
	out = append(out, ltAdd(ltUnit(3, 0, 0), ltUnit(3, 1, 1), -1), ltAdd(ltUnit(3, 1, 1), ltUnit(3, 2, 2), -1))
	return out
}

// ltBlockDiag embeds each family in its own diagonal block.
func ltBlockDiag(fams ...[][][]float64) [][][]float64 {
	n := 0
	for _, f := range fams {
		n += len(f[0])
	}
	var out [][][]float64
	off := 0
	for _, f := range fams {
		for _, g := range f {
			m := ltZeros(n)
			for i := range g {
				copy(m[off+i][off:], g[i])
			}
			out = append(out, m)
		}
		off += len(f[0])
	}
	return out
}

// ltEuclid3 returns e(3) = so(3) ⋉ R³ as 4×4 affine matrices.
func ltEuclid3() [][][]float64 {
	var out [][][]float64
	for _, g := range ltSO(3) {
		m := ltZeros(4)
		for i := range g {
			copy(m[i], g[i])
		}
		out = append(out, m)
	}
	for i := 0; i < 3; i++ {
		out = append(out, ltUnit(4, i, 3))
	}
	return out
}

// ltGalilei returns the Galilei algebra on (x, t, 1) ∈ R⁵: rotations of x,
// boosts x += v t, translations x += a and time translation t += τ. Its
// radical (boosts, translations, time) is nilpotent and not abelian.
func ltGalilei() [][][]float64 {
	var out [][][]float64
	for _, g := range ltSO(3) {
		m := ltZeros(5)
		for i := range g {
			copy(m[i], g[i])
		}
		out = append(out, m)
	}
	for i := 0; i < 3; i++ {
		out = append(out, ltUnit(5, i, 3), ltUnit(5, i, 4))
	}
	return append(out, ltUnit(5, 3, 4))
}

// ltConstants returns the structure constants of the span of mats,
// [G_α, G_β] = Σ_γ a[α][β][γ] G_γ (the matrix commutator), by Constants'
// least squares with the matrices as fields sampled at one "point" each
// entry.
func ltConstants(t *testing.T, mats [][][]float64) [][][]float64 {
	t.Helper()
	N, n := len(mats), len(mats[0])
	flat := func(m [][]float64) []float64 {
		out := make([]float64, 0, n*n)
		for _, row := range m {
			out = append(out, row...)
		}
		return out
	}
	fields := make([][]float64, N)
	for g, m := range mats {
		fields[g] = flat(m)
	}
	var brackets [][]float64
	for _, ab := range Pairs(N) {
		x, y := mats[ab[0]], mats[ab[1]]
		c := make([]float64, 0, n*n)
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				var v float64
				for k := 0; k < n; k++ {
					v += x[i][k]*y[k][j] - y[i][k]*x[k][j]
				}
				c = append(c, v)
			}
		}
		brackets = append(brackets, c)
	}
	a, res, err := Constants(fields, brackets, 1)
	if err != nil {
		t.Fatal(err)
	}
	for p, r := range res {
		if r > 1e-20 {
			t.Fatalf("pair %v: residual %g, the test algebra does not close", Pairs(N)[p], r)
		}
	}
	return a
}

// ltMix changes basis, J'_α = Σ_β T_αβ J_β with T = O₁ diag(d) O₂ (d in
// [0.7, 1.4], O random orthogonal), and adds Gaussian noise of size noise to
// every constant: a'[α][β][γ] = Σ T_αμ T_βν a[μ][ν][κ] (T⁻¹)_κγ + noise.
func ltMix(t *testing.T, a [][][]float64, seed uint64, noise float64) [][][]float64 {
	t.Helper()
	n := len(a)
	rng := rand.New(rand.NewPCG(seed, 7))
	o1, o2 := randomOrthogonal(rng, n), randomOrthogonal(rng, n)
	d := make([]float64, n)
	for k := range d {
		d[k] = 0.7 + 0.7*rng.Float64()
	}
	T := mat.NewDense(n, n, nil)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for k := 0; k < n; k++ {
				s += o1[i][k] * d[k] * o2[k][j]
			}
			T.Set(i, j, s)
		}
	}
	var Ti mat.Dense
	if err := Ti.Inverse(T); err != nil {
		t.Fatal(err)
	}
	cube := func() [][][]float64 {
		c := make([][][]float64, n)
		for i := range c {
			c[i] = make([][]float64, n)
			for j := range c[i] {
				c[i][j] = make([]float64, n)
			}
		}
		return c
	}
	t1, t2, out := cube(), cube(), cube()
	for al := 0; al < n; al++ {
		for mu := 0; mu < n; mu++ {
			if w := T.At(al, mu); w != 0 {
				for nu := 0; nu < n; nu++ {
					for k := 0; k < n; k++ {
						t1[al][nu][k] += w * a[mu][nu][k]
					}
				}
			}
		}
	}
	for al := 0; al < n; al++ {
		for be := 0; be < n; be++ {
			for nu := 0; nu < n; nu++ {
				if w := T.At(be, nu); w != 0 {
					for k := 0; k < n; k++ {
						t2[al][be][k] += w * t1[al][nu][k]
					}
				}
			}
		}
	}
	for al := 0; al < n; al++ {
		for be := 0; be < n; be++ {
			for k := 0; k < n; k++ {
				if w := t2[al][be][k]; w != 0 {
					for g := 0; g < n; g++ {
						out[al][be][g] += w * Ti.At(k, g)
					}
				}
			}
			for g := 0; g < n; g++ {
				out[al][be][g] += noise * rng.NormFloat64()
			}
		}
	}
	return out
}

// ltBracket returns [u, v] for coordinate vectors over the basis of a.
func ltBracket(a [][][]float64, u, v []float64) []float64 {
	n := len(a)
	out := make([]float64, n)
	for x, ux := range u {
		for y, vy := range v {
			if w := ux * vy; w != 0 {
				for g := 0; g < n; g++ {
					out[g] += w * a[x][y][g]
				}
			}
		}
	}
	return out
}

// ltOutside returns the norm of the part of w outside the span of the
// orthonormal rows basis.
func ltOutside(basis [][]float64, w []float64) float64 {
	r := append([]float64(nil), w...)
	for _, b := range basis {
		d := dot(b, r)
		for i := range r {
			r[i] -= d * b[i]
		}
	}
	return norm(r)
}

// ltCheckIdeals checks the reported bases: simple ideals of a reductive
// algebra, the centre and the radical are ad-invariant and distinct simple
// ideals commute; simple ideals of a non-reductive algebra (Levi subalgebra)
// close under the bracket.
func ltCheckIdeals(t *testing.T, a [][][]float64, st Structure) {
	t.Helper()
	n := len(a)
	reductive := st.RadicalDim == st.CentreDim
	const tol = 1e-2
	total := 0
	for i, id := range st.Decomposition {
		total += id.Dim
		if len(id.Basis) != id.Dim {
			t.Fatalf("ideal %d (%s): %d basis rows for dimension %d", i, id.Name, len(id.Basis), id.Dim)
		}
		for _, u := range id.Basis {
			if math.Abs(norm(u)-1) > 1e-6 {
				t.Errorf("ideal %d: basis row of norm %g", i, norm(u))
			}
			if id.Kind == IdealSimple && !reductive {
				for _, v := range id.Basis {
					if r := ltOutside(id.Basis, ltBracket(a, u, v)); r > tol {
						t.Errorf("Levi ideal %d (%s) does not close: residual %g", i, id.Name, r)
					}
				}
				continue
			}
			for x := 0; x < n; x++ {
				e := make([]float64, n)
				e[x] = 1
				if r := ltOutside(id.Basis, ltBracket(a, e, u)); r > tol {
					t.Errorf("ideal %d (%s) not ad-invariant: residual %g", i, id.Name, r)
				}
			}
		}
		for j := i + 1; j < len(st.Decomposition) && reductive; j++ {
			for _, u := range id.Basis {
				for _, v := range st.Decomposition[j].Basis {
					if r := norm(ltBracket(a, u, v)); r > tol {
						t.Errorf("ideals %d and %d do not commute: |[u,v]| = %g", i, j, r)
					}
				}
			}
		}
	}
	if total != n {
		t.Errorf("ideal dimensions sum to %d, want %d", total, n)
	}
}

func ltEqual(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// ltRotate mixes the matrices by a random orthogonal N×N matrix.
func ltRotate(mats [][][]float64, seed uint64) [][][]float64 {
	N, n := len(mats), len(mats[0])
	o := randomOrthogonal(rand.New(rand.NewPCG(seed, 3)), N)
	out := make([][][]float64, N)
	for al := range out {
		out[al] = ltZeros(n)
		for b, w := range o[al] {
			out[al] = ltAdd(out[al], mats[b], w)
		}
	}
	return out
}
