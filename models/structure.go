package models

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"

	"gonum.org/v1/gonum/mat"
)

// Kinds of Ideal reported by Decompose.
const (
	// IdealSimple is a simple ideal of the semisimple (Levi) part.
	IdealSimple = "simple"
	// IdealAbelian is the centre of a reductive algebra, all of it abelian.
	IdealAbelian = "abelian"
	// IdealRadical is the radical (the largest solvable ideal) when it is not
	// a direct summand, or the whole of a non-abelian solvable algebra.
	IdealRadical = "radical"
)

// Ideal is one summand of the decomposition of a Lie algebra.
type Ideal struct {
	Dim  int    `json:"dim"`
	Kind string `json:"kind"` // "simple" | "abelian" | "radical"
	// KillingSignature is the signature of the ideal's own Killing form
	// (computed from its structure constants as an algebra in its own right).
	// For a simple ideal the number of negative eigenvalues is the dimension
	// of its maximal compact subalgebra.
	KillingSignature Signature `json:"killing_signature"`
	// Name is set when dimension and signature single the ideal out;
	// otherwise Candidates lists the algebras they allow.
	Name       string   `json:"name,omitempty"`
	Candidates []string `json:"candidates,omitempty"`
	// Basis rows are orthonormal basis vectors of the ideal, as coefficients
	// over the input basis. For the simple ideals of a non-reductive algebra
	// they span a simple ideal of a Levi subalgebra (when one was found; else
	// coset representatives orthogonal to the radical).
	Basis [][]float64 `json:"basis,omitempty"`
}

// Structure is the structure theory of a finite-dimensional real Lie algebra
// given by its structure constants: Levi decomposition g = s ⋉ rad, the
// simple ideals of s with their names, and the solvable invariants.
type Structure struct {
	// Name is e.g. "so(4) ≅ su(2) ⊕ su(2)", "su(2) ≅ so(3)", "u(1)^2" or,
	// when the invariants do not single it out, "6-dimensional solvable".
	Name       string   `json:"name"`
	Candidates []string `json:"candidates,omitempty"`
	// Decomposition lists the simple ideals (largest first), then the centre
	// (Kind "abelian", reductive algebras) or the radical (Kind "radical").
	Decomposition []Ideal `json:"decomposition"`
	Solvable      bool    `json:"solvable"`
	Nilpotent     bool    `json:"nilpotent"`
	// DerivedSeries holds dim g, dim g′, dim g″, … where g⁽ᵏ⁺¹⁾ = [g⁽ᵏ⁾, g⁽ᵏ⁾],
	// ending at 0 or at the first repeated dimension (included).
	DerivedSeries []int `json:"derived_series"`
	// LowerCentralSeries holds dim g, dim [g,g], dim [g,[g,g]], …, ending
	// like DerivedSeries.
	LowerCentralSeries []int   `json:"lower_central_series"`
	CentreDim          int     `json:"centre_dim"`
	RadicalDim         int     `json:"radical_dim"`
	LeviDim            int     `json:"levi_dim"`
	Tol                float64 `json:"tol"`
	Words              string  `json:"words"`
}

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
func Decompose(a [][][]float64, tol float64) Structure {
	if !(tol > 0) || math.IsInf(tol, 0) {
		tol = AlgebraTol
	}
	n, err := lieCheckConstants(a)
	if err != nil {
		return Structure{Words: err.Error()}
	}
	b := lieAntisym(a, n)
	ads := lieAds(b)
	st := Structure{Tol: tol, Decomposition: []Ideal{}}

	// Derived series.
	full := lieIdentity(n)
	derived := [][][]float64{full}
	st.DerivedSeries = []int{n}
	for cur := full; len(cur) > 0; {
		next := lieRowSpan(lieBracketPairs(ads, n, cur), n, tol)
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
		next := lieRowSpan(lieBracketAll(ads, n, cur), n, tol)
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
	centre := lieNullSpace(stacked, n, tol)
	st.CentreDim = len(centre)

	// Radical: the K-orthogonal complement of [g, g].
	killing := lieKilling(ads, n)
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
		rad = lieNullSpace(m, n, tol)
	}
	st.RadicalDim = len(rad)
	st.LeviDim = n - len(rad)

	derivedDim := st.DerivedSeries[1]
	switch {
	case st.LeviDim == 0 && derivedDim == 0:
		st.Name = lieAbelianName(n)
		st.Decomposition = append(st.Decomposition, Ideal{
			Dim: n, Kind: IdealAbelian, Name: st.Name,
			KillingSignature: Signature{Zero: n}, Basis: full,
		})
		st.Words = fmt.Sprintf("Abelian: all brackets vanish, so the %d generators commute and the algebra is %s.", n, st.Name)
	case st.LeviDim == 0:
		st.Name = lieSolvableName(n, derivedDim, st.CentreDim, st.Nilpotent)
		st.Decomposition = append(st.Decomposition, Ideal{
			Dim: n, Kind: IdealRadical, Name: st.Name,
			KillingSignature: lieSignature(killing, tol), Basis: full,
		})
		st.Words = lieSolvableWords(&st)
	case len(rad) <= len(centre):
		// Reductive: g = z ⊕ [g, g] with [g, g] semisimple.
		work := derived[1]
		if len(work) == n {
			work = full
		}
		simple := lieSimpleIdeals(lieRestrict(ads, n, work), tol)
		for _, p := range simple {
			st.Decomposition = append(st.Decomposition, lieSimpleIdeal(p, work, n, tol))
		}
		lieSortIdeals(st.Decomposition)
		if len(centre) > 0 {
			st.Decomposition = append(st.Decomposition, Ideal{
				Dim: len(centre), Kind: IdealAbelian, Name: lieAbelianName(len(centre)),
				KillingSignature: Signature{Zero: len(centre)}, Basis: centre,
			})
		}
		st.Name, st.Candidates = lieSumName(st.Decomposition)
		st.Words = lieReductiveWords(&st)
	default:
		// Not reductive: Levi decomposition g = s ⋉ rad.
		quot := lieComplement(rad, n)
		bq := lieRestrict(ads, n, quot)
		lift, lifted := lieLeviLift(ads, n, quot, rad, bq, tol)
		simple := lieSimpleIdeals(bq, tol)
		for _, p := range simple {
			id := lieSimpleIdeal(p, quot, n, tol)
			if lifted {
				id.Basis = lieOrthonormal(lieMap(p.basis, lift, n), n)
			}
			st.Decomposition = append(st.Decomposition, id)
		}
		lieSortIdeals(st.Decomposition)
		levi, _ := lieSumName(st.Decomposition)
		rs := Decompose(lieRestrict(ads, n, rad), tol)
		radName := rs.Name
		if len(rs.DerivedSeries) > 1 && rs.DerivedSeries[1] == 0 {
			radName = fmt.Sprintf("R^%d", len(rad))
		}
		st.Decomposition = append(st.Decomposition, Ideal{
			Dim: len(rad), Kind: IdealRadical, Name: radName,
			KillingSignature: lieSignature(lieKilling(lieAds(lieRestrict(ads, n, rad)), len(rad)), tol),
			Basis:            rad,
		})
		leviLabel := lieShort(levi)
		if len(st.Decomposition) > 2 && !strings.Contains(levi, " ≅ ") {
			leviLabel = "(" + leviLabel + ")"
		}
		rn := radName
		if strings.Contains(rn, "dimensional") {
			rn = fmt.Sprintf("%d-dimensional radical", len(rad))
		}
		st.Name = leviLabel + " ⋉ " + rn
		st.Words = lieLeviWords(&st, levi, rs)
	}
	return st
}

