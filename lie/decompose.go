package lie

import (
	"fmt"
	"math"
	"strings"

	"gonum.org/v1/gonum/mat"
)

// Decompose computes the structure of the Lie algebra with structure
// constants a[α][β][γ], [J_α, J_β] = Σ_γ a[α][β][γ] J_γ. The constants are
// antisymmetrised in α, β first.
//
// tol is the relative tolerance: singular values and eigenvalues below
// tol × max(1, largest) count as zero. Callers derive it from the measured
// closure residual; tol <= 0 means AlgebraTol.
//
// The maths, with (ad_α)_γδ = a[α][δ][γ] and K_αβ = tr(ad_α ad_β):
//   - the derived series g⁽ᵏ⁺¹⁾ = [g⁽ᵏ⁾, g⁽ᵏ⁾] and the lower central series
//     gₖ₊₁ = [g, gₖ] are spans of brackets; g is solvable (nilpotent) when
//     the first (second) reaches 0;
//   - the centre is the common null space of all ad_α;
//   - the radical is, by Cartan's criterion, the K-orthogonal complement of
//     [g, g] (all of g when g is solvable), and the Levi factor g/rad is
//     semisimple of dimension dim g − dim rad;
//   - g is reductive when rad is the centre; then g = z ⊕ [g, g] with [g, g]
//     semisimple. Otherwise a Levi subalgebra is sought by Newton's method
//     on the lift of g/rad;
//   - a semisimple s splits into simple ideals through its centroid, the
//     matrices X commuting with the adjoint representation: it is R for a
//     simple ideal of real type and C for one of complex type (a complex
//     simple algebra viewed as real, e.g. sl(2,C) ≅ so(1,3)), so the
//     eigenspaces of a generic centroid element are the simple ideals;
//   - each simple ideal is named from its dimension and Killing signature,
//     whose negative count is the dimension of its maximal compact
//     subalgebra.
//
// Bad input (empty, ragged, non-finite) yields a zero Structure whose Words
// say why.
func Decompose(a [][][]float64, tol float64) Structure { return decompose(a, tol, true) }

// decompose is Decompose; jacobi checks the Jacobi identity first (a
// radical, decomposed on its own, is a subalgebra of an algebra that
// passed it: its constants may be all noise, which no check can judge).
func decompose(a [][][]float64, tol float64, jacobi bool) Structure {
	if !(tol > 0) || math.IsInf(tol, 0) {
		tol = AlgebraTol
	}
	n, err := checkConstants(a)
	if err != nil {
		return Structure{Words: err.Error()}
	}
	b := antisym(a, n)
	// Constants that violate the Jacobi identity are no Lie algebra's:
	// what follows would name a fiction (a "simple" ideal whose Killing
	// form vanishes, a radical with a simple part).
	var jr float64
	if jacobi {
		jr = JacobiResidual(b)
	}
	if jr > JacobiTol {
		return Structure{Tol: tol, JacobiResidual: jr, Decomposition: []Ideal{}, Name: "not a Lie algebra",
			Words: fmt.Sprintf("the structure constants violate the Jacobi identity (relative residual %.2g > %g): the brackets of these fields are not those of a Lie algebra (they do not close, or more generators were trained than the fields tell apart), so no structure is named.", jr, JacobiTol)}
	}
	ads := adjoints(b)
	st := Structure{Tol: tol, JacobiResidual: jr, Decomposition: []Ideal{}}

	// Derived series.
	full := identity(n)
	derived := [][][]float64{full}
	st.DerivedSeries = []int{n}
	for cur := full; len(cur) > 0; {
		next := rowSpan(bracketPairs(ads, n, cur), n, tol)
		st.DerivedSeries = append(st.DerivedSeries, len(next))
		derived = append(derived, next)
		if len(next) >= len(cur) {
			break
		}
		cur = next
	}
	// Lower central series.
	st.LowerCentralSeries = []int{n}
	for cur := full; len(cur) > 0; {
		next := rowSpan(bracketAll(ads, n, cur), n, tol)
		st.LowerCentralSeries = append(st.LowerCentralSeries, len(next))
		if len(next) >= len(cur) {
			break
		}
		cur = next
	}
	st.Solvable = st.DerivedSeries[len(st.DerivedSeries)-1] == 0
	st.Nilpotent = st.LowerCentralSeries[len(st.LowerCentralSeries)-1] == 0

	// Centre: x with ad_α x = 0 for all α. Stacking the row-major ad_α gives
	// the n²×n matrix of that system.
	var stacked [][]float64
	for _, m := range ads {
		for g := 0; g < n; g++ {
			stacked = append(stacked, m[g*n:(g+1)*n])
		}
	}
	centre := nullSpace(stacked, n, tol)
	st.CentreDim = len(centre)

	// Radical: the K-orthogonal complement of [g, g].
	killing := killingForm(ads, n)
	var rad [][]float64
	if st.Solvable {
		rad = full
	} else {
		d1 := derived[1]
		m := make([][]float64, len(d1))
		for i, v := range d1 {
			m[i] = make([]float64, n)
			for c := 0; c < n; c++ {
				var s float64
				for r := 0; r < n; r++ {
					s += v[r] * killing.At(r, c)
				}
				m[i][c] = s
			}
		}
		rad = nullSpace(m, n, tol)
	}
	st.RadicalDim = len(rad)
	st.LeviDim = n - len(rad)

	derivedDim := st.DerivedSeries[1]
	switch {
	case st.LeviDim == 0 && derivedDim == 0:
		st.Name = abelianName(n)
		st.Decomposition = append(st.Decomposition, Ideal{
			Dim: n, Kind: IdealAbelian, Name: st.Name,
			KillingSignature: Signature{Zero: n}, Basis: full,
		})
		st.Words = fmt.Sprintf("Abelian: all brackets vanish, so the %d generators commute and the algebra is %s.", n, st.Name)
		if n == 1 {
			st.Words = "Abelian: a single generator, so the algebra is u(1)."
		}
	case st.LeviDim == 0:
		st.Name = solvableName(n, derivedDim, st.CentreDim, st.Nilpotent)
		st.Decomposition = append(st.Decomposition, Ideal{
			Dim: n, Kind: IdealRadical, Name: st.Name,
			KillingSignature: signatureOf(killing, tol), Basis: full,
		})
		st.Words = solvableWords(&st)
	case len(rad) <= len(centre):
		// Reductive: g = z ⊕ [g, g] with [g, g] semisimple.
		work := derived[1]
		if len(work) == n {
			work = full
		}
		simple := simpleIdeals(restrict(ads, n, work), tol)
		for _, p := range simple {
			st.Decomposition = append(st.Decomposition, simpleIdeal(p, work, n, tol))
		}
		sortIdeals(st.Decomposition)
		if len(centre) > 0 {
			st.Decomposition = append(st.Decomposition, Ideal{
				Dim: len(centre), Kind: IdealAbelian, Name: abelianName(len(centre)),
				KillingSignature: Signature{Zero: len(centre)}, Basis: centre,
			})
		}
		st.Name, st.Candidates = sumName(st.Decomposition)
		st.Words = reductiveWords(&st)
	default:
		// Not reductive: Levi decomposition g = s ⋉ rad.
		quot := complement(rad, n)
		bq := restrict(ads, n, quot)
		lift, lifted := leviLift(ads, n, quot, rad, bq, tol)
		simple := simpleIdeals(bq, tol)
		for _, p := range simple {
			id := simpleIdeal(p, quot, n, tol)
			if lifted {
				id.Basis = orthonormal(mapRows(p.basis, lift, n), n)
			}
			st.Decomposition = append(st.Decomposition, id)
		}
		sortIdeals(st.Decomposition)
		levi, leviCands := sumName(st.Decomposition)
		radC := restrict(ads, n, rad)
		rs := decompose(radC, tol, false)
		radName := rs.Name
		if len(rs.DerivedSeries) > 1 && rs.DerivedSeries[1] == 0 {
			radName = fmt.Sprintf("R^%d", len(rad))
		}
		st.Decomposition = append(st.Decomposition, Ideal{
			Dim: len(rad), Kind: IdealRadical, Name: radName,
			KillingSignature: signatureOf(killingForm(adjoints(radC), len(rad)), tol),
			Basis:            rad,
		})
		if strings.Contains(radName, "dimensional") {
			radName = fmt.Sprintf("%d-dimensional radical", len(rad))
		}
		semidirect := func(levi string) string {
			if strings.Contains(levi, " ⊕ ") && !strings.Contains(levi, " ≅ ") {
				levi = "(" + levi + ")"
			}
			return shortName(levi) + " ⋉ " + radName
		}
		st.Name = semidirect(levi)
		for _, c := range leviCands {
			st.Candidates = append(st.Candidates, semidirect(c))
		}
		st.Words = leviWords(&st, levi, rs)
	}
	return st
}

// leviLift looks for a Levi subalgebra of the non-reductive algebra with
// adjoint matrices ads: a lift σ_p = quot_p + Σ_a Φ_pa rad_a of the basis of
// g/rad (constants bq) that closes, [σ_p, σ_q] = Σ_s bq[p][q][s] σ_s. Levi's
// theorem guarantees one exists; the quadratic equations for Φ are solved by
// Gauss–Newton with minimum-norm steps. It returns the lifted rows and true,
// or quot and false when the system is too large or does not converge to
// tol.
func leviLift(ads [][]float64, n int, quot, rad [][]float64, bq [][][]float64, tol float64) ([][]float64, bool) {
	m, r := len(quot), len(rad)
	pairs := Pairs(m)
	if m == 0 || r == 0 || len(pairs) == 0 || m*r > 600 || len(pairs)*r*m*r > 4_000_000 {
		return quot, false
	}
	scale := 1.0
	for _, x := range bq {
		for _, y := range x {
			for _, v := range y {
				scale = math.Max(scale, math.Abs(v))
			}
		}
	}
	phi := make([]float64, m*r)
	sigma := func() [][]float64 {
		out := make([][]float64, m)
		for p := range out {
			out[p] = append([]float64(nil), quot[p]...)
			for a := 0; a < r; a++ {
				for i := range out[p] {
					out[p][i] += phi[p*r+a] * rad[a][i]
				}
			}
		}
		return out
	}
	residual := func(sig [][]float64, adS [][]float64) ([]float64, float64) {
		f := make([]float64, len(pairs)*r)
		var res float64
		for pi, pq := range pairs {
			v := matVec(adS[pq[0]], n, sig[pq[1]])
			for s := 0; s < m; s++ {
				for i := range v {
					v[i] -= bq[pq[0]][pq[1]][s] * sig[s][i]
				}
			}
			for a := 0; a < r; a++ {
				f[pi*r+a] = dot(rad[a], v)
				res = math.Max(res, math.Abs(f[pi*r+a]))
			}
		}
		return f, res
	}
	var res float64
	for it := 0; it < 40; it++ {
		sig := sigma()
		adS := make([][]float64, m)
		for p := range adS {
			adS[p] = adOf(ads, sig[p], n)
		}
		var f []float64
		f, res = residual(sig, adS)
		if res <= 1e-12*scale {
			break
		}
		// T[q][a'][a] = rad_a' · ad_{σ_q} rad_a.
		T := make([][][]float64, m)
		for q := range T {
			T[q] = make([][]float64, r)
			for a2 := range T[q] {
				T[q][a2] = make([]float64, r)
			}
			for a := 0; a < r; a++ {
				w := matVec(adS[q], n, rad[a])
				for a2 := 0; a2 < r; a2++ {
					T[q][a2][a] = dot(rad[a2], w)
				}
			}
		}
		J := mat.NewDense(len(pairs)*r, m*r, nil)
		for pi, pq := range pairs {
			p, q := pq[0], pq[1]
			for a2 := 0; a2 < r; a2++ {
				row := pi*r + a2
				for a := 0; a < r; a++ {
					J.Set(row, p*r+a, J.At(row, p*r+a)-T[q][a2][a])
					J.Set(row, q*r+a, J.At(row, q*r+a)+T[p][a2][a])
				}
				for s := 0; s < m; s++ {
					J.Set(row, s*r+a2, J.At(row, s*r+a2)-bq[p][q][s])
				}
			}
		}
		var svd mat.SVD
		if !svd.Factorize(J, mat.SVDThin) {
			return quot, false
		}
		sv := svd.Values(nil)
		// Directions with singular values below tol × the largest are those
		// along which noisy constants leave no exact solution: drop them.
		rank := 0
		for _, v := range sv {
			if v > tol*sv[0] {
				rank++
			}
		}
		if rank == 0 {
			break
		}
		rhs := mat.NewDense(len(f), 1, nil)
		for i, v := range f {
			rhs.Set(i, 0, -v)
		}
		var step mat.Dense
		svd.SolveTo(&step, rhs, rank)
		// Backtrack until the residual decreases.
		old := append([]float64(nil), phi...)
		improved := false
		for h := 1.0; h > 1e-3; h /= 2 {
			for i := range phi {
				phi[i] = old[i] + h*step.At(i, 0)
			}
			sig := sigma()
			for p := range adS {
				adS[p] = adOf(ads, sig[p], n)
			}
			if _, r := residual(sig, adS); r < res {
				improved = true
				break
			}
		}
		if !improved {
			copy(phi, old)
			break
		}
	}
	sig := sigma()
	adS := make([][]float64, m)
	for p := range adS {
		adS[p] = adOf(ads, sig[p], n)
	}
	if _, res = residual(sig, adS); res > tol*scale {
		return quot, false
	}
	return sig, true
}
