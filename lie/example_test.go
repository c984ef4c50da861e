package lie_test

import (
	"fmt"

	"github.com/liesweep/liesweep/lie"
)

// unit returns the n×n matrix with a 1 at (i, j).
func unit(n, i, j int) [][]float64 {
	m := make([][]float64, n)
	for r := range m {
		m[r] = make([]float64, n)
	}
	m[i][j] = 1
	return m
}

// sub returns x − y.
func sub(x, y [][]float64) [][]float64 {
	out := make([][]float64, len(x))
	for i := range x {
		out[i] = make([]float64, len(x[i]))
		for j := range x[i] {
			out[i][j] = x[i][j] - y[i][j]
		}
	}
	return out
}

// rotations returns the generators L_ij = E_ij − E_ji (i < j) of so(n).
func rotations(n int) [][][]float64 {
	var out [][][]float64
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			out = append(out, sub(unit(n, i, j), unit(n, j, i)))
		}
	}
	return out
}

// constants returns the structure constants of a set of matrices under the
// commutator [X, Y] = XY − YX, from Constants' least squares with each
// matrix flattened to a field of n² values.
func constants(mats [][][]float64) [][][]float64 {
	flat := func(m [][]float64) []float64 {
		var out []float64
		for _, row := range m {
			out = append(out, row...)
		}
		return out
	}
	var fields, brackets [][]float64
	for _, m := range mats {
		fields = append(fields, flat(m))
	}
	for _, p := range lie.Pairs(len(mats)) {
		x, y := mats[p[0]], mats[p[1]]
		n := len(x)
		c := make([][]float64, n)
		for i := range c {
			c[i] = make([]float64, n)
			for j := range c[i] {
				for k := 0; k < n; k++ {
					c[i][j] += x[i][k]*y[k][j] - y[i][k]*x[k][j]
				}
			}
		}
		brackets = append(brackets, flat(c))
	}
	a, residuals, err := lie.Constants(fields, brackets, 1)
	if err != nil {
		panic(err)
	}
	for _, r := range residuals {
		if r > 1e-12 {
			panic("the matrices do not close under the commutator")
		}
	}
	return a
}

// The rotations of R³ are so(3): compact (the Killing form is negative
// definite) and simple.
func Example_so3() {
	a := constants(rotations(3))
	fmt.Println(lie.KillingSignature(a, lie.AlgebraTol))
	st := lie.Decompose(a, lie.AlgebraTol)
	fmt.Println(st.Name)
	fmt.Println(st.Words)
	// Output:
	// {0 3 0}
	// su(2) ≅ so(3)
	// Semisimple: the simple algebra su(2) ≅ so(3) (compact).
}

// The rotations of R⁴ split into two commuting copies of so(3): so(4) ≅
// su(2) ⊕ su(2), each ideal with its basis.
func Example_so4() {
	st := lie.Decompose(constants(rotations(4)), lie.AlgebraTol)
	fmt.Println(st.Name)
	for _, line := range (lie.Algebra{Structure: st}).DecompositionLines() {
		fmt.Println(line)
	}
	// Output:
	// so(4) ≅ su(2) ⊕ su(2)
	// simple, 3-dim, Killing (0+, 3−, 0 zero): su(2) ≅ so(3)
	// simple, 3-dim, Killing (0+, 3−, 0 zero): su(2) ≅ so(3)
}

// The Lorentz algebra so(1,3), rotations and boosts of R^{1,3}, is simple
// as a real algebra but of complex type: sl(2,C) viewed as real. Its
// Killing form is indefinite, (3+, 3−).
func Example_lorentz() {
	var gens [][][]float64
	for i := 1; i < 4; i++ {
		for j := i + 1; j < 4; j++ {
			gens = append(gens, sub(unit(4, i, j), unit(4, j, i))) // rotations
		}
	}
	for i := 1; i < 4; i++ {
		b := unit(4, 0, i)
		b[i][0] = 1 // boosts: symmetric in the time row and column
		gens = append(gens, b)
	}
	st := lie.Decompose(constants(gens), lie.AlgebraTol)
	fmt.Println(st.Name)
	fmt.Println(st.Decomposition[0].KillingSignature, "complex type:", st.Decomposition[0].Complex)
	// Output:
	// sl(2,C) ≅ so(1,3)
	// {3 3 0} complex type: true
}

// The Euclidean algebra e(3) of R³, rotations and translations (as 4×4
// affine matrices), is not reductive: its radical R³ (the translations) is
// not a direct summand, and Decompose finds the Levi decomposition
// so(3) ⋉ R³.
func Example_euclidean() {
	var gens [][][]float64
	for _, r := range rotations(3) {
		m := make([][]float64, 4)
		for i := range m {
			m[i] = make([]float64, 4)
			if i < 3 {
				copy(m[i], r[i])
			}
		}
		gens = append(gens, m)
	}
	for i := 0; i < 3; i++ {
		gens = append(gens, unit(4, i, 3)) // translation along x_i
	}
	st := lie.Decompose(constants(gens), lie.AlgebraTol)
	fmt.Println(st.Name)
	fmt.Println("radical", st.RadicalDim, "Levi factor", st.LeviDim, "derived series", st.DerivedSeries)
	// Output:
	// su(2) ⋉ R^3
	// radical 3 Levi factor 3 derived series [6 6]
}

// SparseBasis rotates a random basis of so(3) back to the familiar L_ij.
func ExampleSparseBasis() {
	gens := rotations(3)
	mixed := make([][][]float64, 3)
	w := [3][3]float64{{0.6, 0.8, 0}, {-0.8, 0.6, 0}, {0, 0, 1}} // a rotation of the basis
	for a := range mixed {
		mixed[a] = make([][]float64, 3)
		for i := range mixed[a] {
			mixed[a][i] = make([]float64, 3)
			for b := range gens {
				for j := range gens[b][i] {
					mixed[a][i][j] += w[a][b] * gens[b][i][j]
				}
			}
		}
	}
	basis, _, _, err := lie.SparseBasis(mixed)
	if err != nil {
		panic(err)
	}
	for _, m := range basis {
		fmt.Printf("%.3g\n", m)
	}
	// Output:
	// [[0 1 0] [-1 0 0] [0 0 0]]
	// [[0 0 1] [0 0 0] [-1 0 0]]
	// [[0 0 0] [0 0 1] [0 -1 0]]
}
