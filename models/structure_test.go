package models

import (
	"github.com/liesweep/liesweep/sweeps"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

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
// [G_α, G_β] = Σ_γ a[α][β][γ] G_γ, by least squares.
func ltConstants(t *testing.T, mats [][][]float64) [][][]float64 {
	t.Helper()
	N, n := len(mats), len(mats[0])
	B := mat.NewDense(n*n, N, nil)
	for g, m := range mats {
		for i := range m {
			for j := range m[i] {
				B.Set(i*n+j, g, m[i][j])
			}
		}
	}
	pairs := Pairs(N)
	C := mat.NewDense(n*n, max(1, len(pairs)), nil)
	for p, ab := range pairs {
		x, y := mats[ab[0]], mats[ab[1]]
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				var v float64
				for k := 0; k < n; k++ {
					v += x[i][k]*y[k][j] - y[i][k]*x[k][j]
				}
				C.Set(i*n+j, p, v)
			}
		}
	}
	var X mat.Dense
	if err := X.Solve(B, C); err != nil {
		t.Fatal(err)
	}
	a := make([][][]float64, N)
	for i := range a {
		a[i] = make([][]float64, N)
		for j := range a[i] {
			a[i][j] = make([]float64, N)
		}
	}
	for p, ab := range pairs {
		for g := 0; g < N; g++ {
			a[ab[0]][ab[1]][g] = X.At(g, p)
			a[ab[1]][ab[0]][g] = -X.At(g, p)
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
	o1, o2 := lieRandomOrthogonal(rng, n), lieRandomOrthogonal(rng, n)
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
		d := lieDot(b, r)
		for i := range r {
			r[i] -= d * b[i]
		}
	}
	return lieNorm(r)
}

// ltCheckIdeals checks the reported bases: simple ideals of a reductive
// algebra, the centre and the radical are ad-invariant and distinct simple
// ideals commute; simple ideals of a non-reductive algebra (Levi subalgebra)
// close under the bracket.
func ltCheckIdeals(t *testing.T, a [][][]float64, st sweeps.Structure) {
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
			if math.Abs(lieNorm(u)-1) > 1e-6 {
				t.Errorf("ideal %d: basis row of norm %g", i, lieNorm(u))
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
					if r := lieNorm(ltBracket(a, u, v)); r > tol {
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

// TestDecomposeStructure decomposes hand-made algebras, each after a random
// invertible change of basis and with noise 1e-4 on every constant, and
// checks names, ideals, signatures, series, centre, radical and Levi
// dimension, and that the reported bases are ideals.
func TestDecomposeStructure(t *testing.T) {
	sl2 := [][][]float64{ltUnit(2, 0, 1), ltUnit(2, 1, 0), ltAdd(ltUnit(2, 0, 0), ltUnit(2, 1, 1), -1)}
	type ideal struct {
		dim      int
		kind     string
		sig      sweeps.Signature
		name     string // substring
		complexT bool
	}
	cases := []struct {
		label      string
		mats       [][][]float64
		name       []string // substrings of Name
		ideals     []ideal
		solvable   bool
		nilpotent  bool
		derived    []int
		lcs        []int
		centre     int
		rad, levi  int
		candidates bool
	}{
		{label: "so(3)", mats: ltSO(3), name: []string{"su(2) ≅ so(3)"},
			ideals:  []ideal{{3, IdealSimple, sweeps.Signature{Pos: 0, Neg: 3, Zero: 0}, "su(2) ≅ so(3)", false}},
			derived: []int{3, 3}, lcs: []int{3, 3}, levi: 3},
		{label: "so(4)", mats: ltSO(4), name: []string{"so(4)", "su(2) ⊕ su(2)"},
			ideals: []ideal{
				{3, IdealSimple, sweeps.Signature{Pos: 0, Neg: 3, Zero: 0}, "su(2)", false},
				{3, IdealSimple, sweeps.Signature{Pos: 0, Neg: 3, Zero: 0}, "su(2)", false}},
			derived: []int{6, 6}, lcs: []int{6, 6}, levi: 6},
		{label: "so(5)", mats: ltSO(5), name: []string{"so(5)"},
			ideals:  []ideal{{10, IdealSimple, sweeps.Signature{Pos: 0, Neg: 10, Zero: 0}, "so(5) ≅ sp(2)", false}},
			derived: []int{10, 10}, lcs: []int{10, 10}, levi: 10},
		{label: "so(1,3)", mats: ltLorentz(), name: []string{"sl(2,C)", "so(1,3)"},
			ideals:  []ideal{{6, IdealSimple, sweeps.Signature{Pos: 3, Neg: 3, Zero: 0}, "sl(2,C)", true}},
			derived: []int{6, 6}, lcs: []int{6, 6}, levi: 6},
		{label: "su(3)", mats: ltSU3(), name: []string{"su(3)"},
			ideals:  []ideal{{8, IdealSimple, sweeps.Signature{Pos: 0, Neg: 8, Zero: 0}, "su(3)", false}},
			derived: []int{8, 8}, lcs: []int{8, 8}, levi: 8},
		{label: "sl(3,R)", mats: ltSL3(), name: []string{"sl(3,R)"},
			ideals:  []ideal{{8, IdealSimple, sweeps.Signature{Pos: 5, Neg: 3, Zero: 0}, "sl(3,R)", false}},
			derived: []int{8, 8}, lcs: []int{8, 8}, levi: 8},
		{label: "sl(2,R)", mats: sl2, name: []string{"sl(2,R) ≅ so(2,1) ≅ su(1,1)"},
			ideals:  []ideal{{3, IdealSimple, sweeps.Signature{Pos: 2, Neg: 1, Zero: 0}, "sl(2,R)", false}},
			derived: []int{3, 3}, lcs: []int{3, 3}, levi: 3},
		{label: "sl(2,R)⊕sl(2,R)", mats: ltBlockDiag(sl2, sl2), name: []string{"so(2,2) ≅ sl(2,R) ⊕ sl(2,R)"},
			ideals: []ideal{
				{3, IdealSimple, sweeps.Signature{Pos: 2, Neg: 1, Zero: 0}, "sl(2,R)", false},
				{3, IdealSimple, sweeps.Signature{Pos: 2, Neg: 1, Zero: 0}, "sl(2,R)", false}},
			derived: []int{6, 6}, lcs: []int{6, 6}, levi: 6},
		{label: "so(1,3)⊕so(3)", mats: ltBlockDiag(ltLorentz(), ltSO(3)), name: []string{"sl(2,C) ⊕ su(2)"},
			ideals: []ideal{
				{6, IdealSimple, sweeps.Signature{Pos: 3, Neg: 3, Zero: 0}, "sl(2,C)", true},
				{3, IdealSimple, sweeps.Signature{Pos: 0, Neg: 3, Zero: 0}, "su(2)", false}},
			derived: []int{9, 9}, lcs: []int{9, 9}, levi: 9},
		{label: "so(2)⊕so(2)", mats: ltBlockDiag(ltSO(2), ltSO(2)), name: []string{"u(1)^2"},
			ideals:   []ideal{{2, IdealAbelian, sweeps.Signature{Pos: 0, Neg: 0, Zero: 2}, "u(1)^2", false}},
			solvable: true, nilpotent: true, derived: []int{2, 0}, lcs: []int{2, 0}, centre: 2, rad: 2},
		{label: "so(3)⊕u(1)", mats: ltBlockDiag(ltSO(3), [][][]float64{{{1}}}), name: []string{"u(2) ≅ su(2) ⊕ u(1)"},
			ideals: []ideal{
				{3, IdealSimple, sweeps.Signature{Pos: 0, Neg: 3, Zero: 0}, "su(2)", false},
				{1, IdealAbelian, sweeps.Signature{Pos: 0, Neg: 0, Zero: 1}, "u(1)", false}},
			derived: []int{4, 3, 3}, lcs: []int{4, 3, 3}, centre: 1, rad: 1, levi: 3},
		{label: "heisenberg", mats: [][][]float64{ltUnit(3, 0, 1), ltUnit(3, 1, 2), ltUnit(3, 0, 2)}, name: []string{"heisenberg(3)"},
			ideals:   []ideal{{3, IdealRadical, sweeps.Signature{Pos: 0, Neg: 0, Zero: 3}, "heisenberg(3)", false}},
			solvable: true, nilpotent: true, derived: []int{3, 1, 0}, lcs: []int{3, 1, 0}, centre: 1, rad: 3},
		{label: "aff(1)", mats: [][][]float64{ltUnit(2, 0, 0), ltUnit(2, 0, 1)}, name: []string{"aff(1)"},
			ideals:   []ideal{{2, IdealRadical, sweeps.Signature{Pos: 1, Neg: 0, Zero: 1}, "aff(1)", false}},
			solvable: true, derived: []int{2, 1, 0}, lcs: []int{2, 1, 1}, rad: 2},
		{label: "e(3)", mats: ltEuclid3(), name: []string{"su(2) ⋉ R^3"},
			ideals: []ideal{
				{3, IdealSimple, sweeps.Signature{Pos: 0, Neg: 3, Zero: 0}, "su(2)", false},
				{3, IdealRadical, sweeps.Signature{Pos: 0, Neg: 0, Zero: 3}, "R^3", false}},
			derived: []int{6, 6}, lcs: []int{6, 6}, rad: 3, levi: 3},
		{label: "galilei", mats: ltGalilei(), name: []string{"su(2) ⋉ 7-dimensional radical"},
			ideals: []ideal{
				{3, IdealSimple, sweeps.Signature{Pos: 0, Neg: 3, Zero: 0}, "su(2)", false},
				{7, IdealRadical, sweeps.Signature{Pos: 0, Neg: 0, Zero: 7}, "7-dimensional nilpotent", false}},
			derived: []int{10, 9, 9}, lcs: []int{10, 9, 9}, rad: 7, levi: 3},
	}
	for ci, c := range cases {
		t.Run(c.label, func(t *testing.T) {
			a := ltMix(t, ltConstants(t, c.mats), uint64(100+ci), 1e-4)
			st := Decompose(a, 0)
			t.Logf("%s: %s — %s", c.label, st.Name, st.Words)
			for _, s := range c.name {
				if !strings.Contains(st.Name, s) {
					t.Errorf("Name %q does not contain %q", st.Name, s)
				}
			}
			if st.Tol != AlgebraTol {
				t.Errorf("Tol %g, want AlgebraTol", st.Tol)
			}
			if st.Solvable != c.solvable || st.Nilpotent != c.nilpotent {
				t.Errorf("solvable %v nilpotent %v, want %v %v", st.Solvable, st.Nilpotent, c.solvable, c.nilpotent)
			}
			if !ltEqual(st.DerivedSeries, c.derived) || !ltEqual(st.LowerCentralSeries, c.lcs) {
				t.Errorf("series %v / %v, want %v / %v", st.DerivedSeries, st.LowerCentralSeries, c.derived, c.lcs)
			}
			if st.CentreDim != c.centre || st.RadicalDim != c.rad || st.LeviDim != c.levi {
				t.Errorf("centre %d radical %d levi %d, want %d %d %d", st.CentreDim, st.RadicalDim, st.LeviDim, c.centre, c.rad, c.levi)
			}
			if len(st.Decomposition) != len(c.ideals) {
				t.Fatalf("%d ideals %+v, want %d", len(st.Decomposition), st.Decomposition, len(c.ideals))
			}
			for i, w := range c.ideals {
				got := st.Decomposition[i]
				if got.Dim != w.dim || got.Kind != w.kind || got.KillingSignature != w.sig ||
					!strings.Contains(got.Name, w.name) || got.Complex != w.complexT {
					t.Errorf("ideal %d: dim %d kind %s sig %+v name %q complex %v, want %d %s %+v %q %v",
						i, got.Dim, got.Kind, got.KillingSignature, got.Name, got.Complex, w.dim, w.kind, w.sig, w.name, w.complexT)
				}
			}
			if st.Words == "" {
				t.Error("no words")
			}
			ltCheckIdeals(t, a, st)
		})
	}
}

// TestDecomposeStructureSO10 decomposes so(10) (dimension 45) after a
// random change of basis with noise: one compact simple ideal named so(10),
// within a few seconds.
func TestDecomposeStructureSO10(t *testing.T) {
	a := ltMix(t, ltConstants(t, ltSO(10)), 10, 1e-4)
	start := time.Now()
	st := Decompose(a, 0)
	el := time.Since(start)
	t.Logf("so(10): %s in %v — %s", st.Name, el, st.Words)
	if st.Name != "so(10)" || len(st.Decomposition) != 1 {
		t.Fatalf("name %q, %d ideals", st.Name, len(st.Decomposition))
	}
	if id := st.Decomposition[0]; id.Dim != 45 || id.KillingSignature != (sweeps.Signature{Neg: 45}) {
		t.Errorf("ideal %+v", id.KillingSignature)
	}
	if st.Solvable || st.CentreDim != 0 || st.RadicalDim != 0 || st.LeviDim != 45 {
		t.Errorf("solvable %v centre %d radical %d levi %d", st.Solvable, st.CentreDim, st.RadicalDim, st.LeviDim)
	}
	if el > 5*time.Second {
		t.Errorf("so(10) took %v", el)
	}
}

// TestDecomposeStructureCandidates checks a compact algebra that the
// invariants do not single out, so(7) (dimension 21, like sp(3)), and the
// sum so(5) ⊕ su(3) ⊕ su(2) of three ideals, at an explicit tolerance.
func TestDecomposeStructureCandidates(t *testing.T) {
	st := Decompose(ltMix(t, ltConstants(t, ltSO(7)), 7, 1e-4), 0)
	if st.Name != "21-dimensional compact simple" || len(st.Candidates) != 2 ||
		st.Candidates[0] != "so(7)" || st.Candidates[1] != "sp(3)" {
		t.Errorf("so(7): name %q candidates %v", st.Name, st.Candidates)
	}
	a := ltMix(t, ltConstants(t, ltBlockDiag(ltSO(5), ltSU3(), ltSO(3))), 8, 1e-4)
	st = Decompose(a, 1e-3)
	if st.Name != "so(5) ⊕ su(3) ⊕ su(2)" || st.Tol != 1e-3 {
		t.Errorf("so(5) ⊕ su(3) ⊕ su(2): name %q tol %g — %s", st.Name, st.Tol, st.Words)
	}
	ltCheckIdeals(t, a, st)
}

// TestDecomposeStructureBadInput: empty, ragged and non-finite constants give
// a zero Structure whose Words say why.
func TestDecomposeStructureBadInput(t *testing.T) {
	for label, a := range map[string][][][]float64{
		"empty":  nil,
		"ragged": {{{0, 1}, {0}}, {{0, 0}, {0, 0}}},
		"nan":    {{{math.NaN()}}},
	} {
		st := Decompose(a, 0)
		if st.Words == "" || st.Name != "" || st.Decomposition != nil || st.DerivedSeries != nil {
			t.Errorf("%s: %+v", label, st)
		}
	}
}

// ltRotate mixes the matrices by a random orthogonal N×N matrix.
func ltRotate(mats [][][]float64, seed uint64) [][][]float64 {
	N, n := len(mats), len(mats[0])
	o := lieRandomOrthogonal(rand.New(rand.NewPCG(seed, 3)), N)
	out := make([][][]float64, N)
	for al := range out {
		out[al] = ltZeros(n)
		for b, w := range o[al] {
			out[al] = ltAdd(out[al], mats[b], w)
		}
	}
	return out
}

// ltCheckSparse checks SparseBasis's output: rot reproduces the normalised
// basis from the inputs, each matrix has largest |entry| 1 and at most
// maxNZ non-zeros, and the structure constants lie in {−1, 0, +1}.
func ltCheckSparse(t *testing.T, gens, basis [][][]float64, rot [][]float64, a [][][]float64, maxNZ int) {
	t.Helper()
	for al, b := range basis {
		nz := 0
		var maxAbs float64
		for i := range b {
			for j, v := range b[i] {
				if v != 0 {
					nz++
				}
				maxAbs = math.Max(maxAbs, math.Abs(v))
				var w float64
				for be, r := range rot[al] {
					w += r * gens[be][i][j]
				}
				if math.Abs(w-v) > 1e-3 {
					t.Errorf("matrix %d entry (%d,%d): rot gives %g, basis %g", al, i, j, w, v)
				}
			}
		}
		if nz > maxNZ || math.Abs(maxAbs-1) > 1e-9 {
			t.Errorf("matrix %d: %d non-zeros, max |entry| %g: %v", al, nz, maxAbs, b)
		}
	}
	for x := range a {
		for y := range a[x] {
			for g, v := range a[x][y] {
				if r := math.Round(v); math.Abs(v-r) > 1e-3 || math.Abs(r) > 1 {
					t.Errorf("a[%d][%d][%d] = %g not in {−1, 0, 1}", x, y, g, v)
				}
			}
		}
	}
}

// TestSparseBasisSO: so(3) and so(4) generators mixed by a random rotation
// are unmixed into matrices with two non-zero entries and structure
// constants in {−1, 0, +1}; the output is deterministic.
func TestSparseBasisSO(t *testing.T) {
	for _, n := range []int{3, 4} {
		gens := ltRotate(ltSO(n), uint64(n))
		start := time.Now()
		basis, rot, a, err := SparseBasis(gens)
		t.Logf("so(%d): %v", n, time.Since(start))
		if err != nil {
			t.Fatal(err)
		}
		ltCheckSparse(t, gens, basis, rot, a, 2)
		b2, r2, a2, _ := SparseBasis(gens)
		for al := range basis {
			for i := range basis[al] {
				for j := range basis[al][i] {
					if basis[al][i][j] != b2[al][i][j] {
						t.Fatalf("so(%d): not deterministic", n)
					}
				}
			}
			for be := range rot[al] {
				if rot[al][be] != r2[al][be] || a[al][be][0] != a2[al][be][0] {
					t.Fatalf("so(%d): not deterministic", n)
				}
			}
		}
	}
}

// TestSparseBasisLorentz: so(1,3)'s rotations and boosts, mixed, come apart:
// three antisymmetric and three symmetric matrices.
func TestSparseBasisLorentz(t *testing.T) {
	gens := ltRotate(ltLorentz(), 13)
	start := time.Now()
	basis, rot, a, err := SparseBasis(gens)
	t.Logf("so(1,3): %v", time.Since(start))
	if err != nil {
		t.Fatal(err)
	}
	ltCheckSparse(t, gens, basis, rot, a, 2)
	var anti, sym int
	for al, b := range basis {
		var dA, dS float64
		for i := range b {
			for j := range b[i] {
				dA = math.Max(dA, math.Abs(b[i][j]+b[j][i]))
				dS = math.Max(dS, math.Abs(b[i][j]-b[j][i]))
			}
		}
		switch {
		case dA < 1e-3:
			anti++
		case dS < 1e-3:
			sym++
		default:
			t.Errorf("matrix %d neither symmetric nor antisymmetric: %v", al, b)
		}
	}
	if anti != 3 || sym != 3 {
		t.Errorf("%d antisymmetric, %d symmetric, want 3 and 3", anti, sym)
	}
}

// TestSparseBasisBadInput: empty, ragged, non-square, non-finite and
// dependent generators are errors, not panics.
func TestSparseBasisBadInput(t *testing.T) {
	so3 := ltSO(3)
	for label, gens := range map[string][][][]float64{
		"empty":      nil,
		"empty mat":  {{}},
		"ragged":     {so3[0], so3[1][:2]},
		"non-square": {{{0, 1, 0}, {1, 0, 0}}},
		"nan":        {{{math.NaN()}}},
		"dependent":  {so3[0], so3[1], ltAdd(so3[0], so3[1], 1)},
		"zero":       {{{0, 0}, {0, 0}}},
	} {
		if _, _, _, err := SparseBasis(gens); err == nil {
			t.Errorf("%s: no error", label)
		}
	}
}
