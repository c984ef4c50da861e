package models

import (
	"errors"
	"fmt"
	"math"
	"math/cmplx"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"

	"github.com/liesweep/liesweep/sweeps"
	"gonum.org/v1/gonum/mat"
)

// Kinds of sweeps.Ideal reported by Decompose.
const (
	IdealSimple  = sweeps.IdealSimple
	IdealAbelian = sweeps.IdealAbelian
	IdealRadical = sweeps.IdealRadical
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
func Decompose(a [][][]float64, tol float64) sweeps.Structure {
	if !(tol > 0) || math.IsInf(tol, 0) {
		tol = AlgebraTol
	}
	n, err := lieCheckConstants(a)
	if err != nil {
		return sweeps.Structure{Words: err.Error()}
	}
	b := lieAntisym(a, n)
	ads := lieAds(b)
	st := sweeps.Structure{Tol: tol, Decomposition: []sweeps.Ideal{}}

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
		st.Decomposition = append(st.Decomposition, sweeps.Ideal{
			Dim: n, Kind: IdealAbelian, Name: st.Name,
			KillingSignature: sweeps.Signature{Zero: n}, Basis: full,
		})
		st.Words = fmt.Sprintf("Abelian: all brackets vanish, so the %d generators commute and the algebra is %s.", n, st.Name)
		if n == 1 {
			st.Words = "Abelian: a single generator, so the algebra is u(1)."
		}
	case st.LeviDim == 0:
		st.Name = lieSolvableName(n, derivedDim, st.CentreDim, st.Nilpotent)
		st.Decomposition = append(st.Decomposition, sweeps.Ideal{
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
			st.Decomposition = append(st.Decomposition, sweeps.Ideal{
				Dim: len(centre), Kind: IdealAbelian, Name: lieAbelianName(len(centre)),
				KillingSignature: sweeps.Signature{Zero: len(centre)}, Basis: centre,
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
		levi, leviCands := lieSumName(st.Decomposition)
		radC := lieRestrict(ads, n, rad)
		rs := Decompose(radC, tol)
		radName := rs.Name
		if len(rs.DerivedSeries) > 1 && rs.DerivedSeries[1] == 0 {
			radName = fmt.Sprintf("R^%d", len(rad))
		}
		st.Decomposition = append(st.Decomposition, sweeps.Ideal{
			Dim: len(rad), Kind: IdealRadical, Name: radName,
			KillingSignature: lieSignature(lieKilling(lieAds(radC), len(rad)), tol),
			Basis:            rad,
		})
		if strings.Contains(radName, "dimensional") {
			radName = fmt.Sprintf("%d-dimensional radical", len(rad))
		}
		semidirect := func(levi string) string {
			if strings.Contains(levi, " ⊕ ") && !strings.Contains(levi, " ≅ ") {
				levi = "(" + levi + ")"
			}
			return lieShort(levi) + " ⋉ " + radName
		}
		st.Name = semidirect(levi)
		for _, c := range leviCands {
			st.Candidates = append(st.Candidates, semidirect(c))
		}
		st.Words = lieLeviWords(&st, levi, rs)
	}
	return st
}

// lieSimplePart is a simple ideal found by lieSimpleIdeals: orthonormal
// basis rows in the coordinates of the semisimple algebra it came from, its
// type and its own structure constants in that basis.
type lieSimplePart struct {
	basis   [][]float64
	complex bool
	consts  [][][]float64
}

// lieSimpleIdeal turns a part of the semisimple algebra whose orthonormal
// basis rows (in input coordinates) are work into an Ideal: its basis in
// input coordinates, the signature of its own Killing form and its name.
func lieSimpleIdeal(p lieSimplePart, work [][]float64, n int, tol float64) sweeps.Ideal {
	k := len(p.basis)
	sig := lieSignature(lieKilling(lieAds(p.consts), k), tol)
	id := sweeps.Ideal{Dim: k, Kind: IdealSimple, KillingSignature: sig, Basis: lieMap(p.basis, work, n), Complex: p.complex}
	id.Name, id.Candidates = lieSimpleName(k, sig, p.complex)
	return id
}

// lieSimpleIdeals splits the semisimple algebra with constants c into its
// simple ideals.
//
// The centroid {X : X ad_z = ad_z X for all z} of a semisimple algebra is
// ⊕ᵢ Fᵢ with Fᵢ = R on a simple ideal of real type and Fᵢ = C on one of
// complex type; two generic elements generate the algebra, so commuting with
// a few random ad_z suffices. To keep the linear system small, X is sought
// in a basis adapted to a generic ad_x: X preserves the eigenspaces of ad_x,
// so it is block-diagonal there (blocks: the Cartan subalgebra ker ad_x and
// one block per root or pair ±root). A random centroid element then acts as
// a distinct real scalar on each real-type ideal and as a distinct pair of
// conjugate complex scalars on each complex-type one; its eigenspaces are
// the ideals. Every split is verified to be ad-invariant; after a few failed
// attempts the whole algebra is reported as one simple ideal.
func lieSimpleIdeals(c [][][]float64, tol float64) []lieSimplePart {
	m := len(c)
	if m == 0 {
		return nil
	}
	ads := lieAds(c)
	whole := []lieSimplePart{{basis: lieIdentity(m), consts: c}}
	var scale float64
	for _, a := range ads {
		scale = math.Max(scale, lieNorm(a))
	}
	if scale == 0 {
		return whole
	}
	rng := rand.New(rand.NewPCG(0x6c69652d, uint64(m)))
	simpleVotes := 0
	for attempt := 0; attempt < 6; attempt++ {
		// Of a few random x, keep the one whose adapted basis is best
		// conditioned: nearly coincident roots make eigenvectors sensitive
		// to noise.
		var adx []float64
		var V *mat.Dense
		var blocks []int
		bestCond := math.Inf(1)
		for try := 0; try < 3; try++ {
			ad := lieAdOf(ads, lieGauss(rng, m), m)
			v, bl := lieAdaptedBasis(ad, m, tol)
			if v == nil {
				continue
			}
			if c := mat.Cond(v, 2); c < bestCond {
				adx, V, blocks, bestCond = ad, v, bl, c
			}
		}
		if V == nil {
			if m > 24 {
				continue
			}
			adx = lieAdOf(ads, lieGauss(rng, m), m)
			V, blocks = mat.NewDense(m, m, nil), []int{m}
			for i := 0; i < m; i++ {
				V.Set(i, i, 1)
			}
		}
		others := make([][]float64, 3)
		for i := range others {
			others[i] = lieAdOf(ads, lieGauss(rng, m), m)
		}
		var W mat.Dense
		if err := W.Inverse(V); err != nil {
			continue
		}
		conj := func(a []float64) *mat.Dense {
			var t, out mat.Dense
			t.Mul(&W, mat.NewDense(m, m, a))
			out.Mul(&t, V)
			return &out
		}
		mats := []*mat.Dense{conj(adx)}
		for _, o := range others {
			mats = append(mats, conj(o))
		}
		lay := lieLayout(blocks)
		null := lieCentroid(mats, lay, m, tol)
		if len(null) == 0 {
			// The centroid is R: simple of real type. A noisy,
			// ill-conditioned system can hide a direction, so ask twice.
			if simpleVotes++; simpleVotes == 2 {
				return whole
			}
			continue
		}
		// The eigenvalues of a random centroid element separate the ideals;
		// of a few draws keep the best separated, since the eigenvectors'
		// sensitivity to noise grows as the gaps shrink.
		var D *mat.Dense
		bestGap := -1.0
		for try := 0; try < 8; try++ {
			d := lieAssemble(lay, null, lieGauss(rng, len(null)), m)
			if g := lieCentroidGap(d, len(null)+1); g > bestGap {
				D, bestGap = d, g
			}
		}
		var t, X mat.Dense
		t.Mul(V, D)
		X.Mul(&t, &W)
		parts := lieSplit(&X, m, len(null)+1)
		if parts != nil {
			lieRefine(ads, m, parts)
		}
		if parts != nil && lieVerify(ads, m, parts, tol, scale) {
			// A sum of ideals is an ideal too, so a missed centroid
			// direction would merge ideals unnoticed: look into every part
			// that could be a sum (dimension ≥ 6) on its own.
			var out []lieSimplePart
			for _, p := range parts {
				p.consts = lieRestrict(ads, m, p.basis)
				if len(p.basis) < 6 || len(p.basis) == m {
					out = append(out, p)
					continue
				}
				for _, q := range lieSimpleIdeals(p.consts, tol) {
					q.basis = lieMap(q.basis, p.basis, m)
					q.consts = lieRestrict(ads, m, q.basis)
					out = append(out, q)
				}
			}
			return out
		}
	}
	return whole
}

// lieRefine sharpens approximate simple ideals with their Casimir
// operators. For a simple ideal sᵢ with basis p_a and Killing matrix
// K_ab = tr(ad_{p_a} ad_{p_b}), C_i = Σ_ab (K⁻¹)_ab ad_{p_a} ad_{p_b} is the
// projector onto sᵢ along the other ideals (the adjoint Casimir of sᵢ is 1
// on sᵢ, for real and complex type alike, and ad sᵢ kills the others).
// When the p_a are off by ε in the other ideals, the first-order terms
// cancel (the ideals commute and are K-orthogonal), so the column space of
// C_i is off by O(ε²): a few rounds bring the ideals to the noise level of
// the constants.
func lieRefine(ads [][]float64, m int, parts []lieSimplePart) {
	if len(parts) < 2 {
		return
	}
	for round := 0; round < 3; round++ {
		for i := range parts {
			P := parts[i].basis
			k := len(P)
			adP := make([][]float64, k)
			for a := range P {
				adP[a] = lieAdOf(ads, P[a], m)
			}
			K := mat.NewDense(k, k, nil)
			for a := 0; a < k; a++ {
				for b := a; b < k; b++ {
					var tr float64
					for g := 0; g < m; g++ {
						for d := 0; d < m; d++ {
							tr += adP[a][g*m+d] * adP[b][d*m+g]
						}
					}
					K.Set(a, b, tr)
					K.Set(b, a, tr)
				}
			}
			var Kinv mat.Dense
			if err := Kinv.Inverse(K); err != nil {
				return
			}
			C := mat.NewDense(m, m, nil)
			q := make([]float64, m*m)
			for a := 0; a < k; a++ {
				clear(q)
				for b := 0; b < k; b++ {
					if w := Kinv.At(a, b); w != 0 {
						for j, v := range adP[b] {
							q[j] += w * v
						}
					}
				}
				var prod mat.Dense
				prod.Mul(mat.NewDense(m, m, adP[a]), mat.NewDense(m, m, q))
				C.Add(C, &prod)
			}
			cols := make([][]float64, m)
			for j := range cols {
				cols[j] = mat.Col(nil, j, C)
			}
			nb := lieTopRows(cols, m, k, 1e-6)
			if nb == nil {
				return
			}
			parts[i].basis = nb
		}
	}
}

// lieAdaptedBasis returns a real basis (columns of V) adapted to the
// eigen-decomposition of the m×m matrix adx: eigenvalues are grouped into
// clusters closed under conjugation (closer than tol × max|λ|), and each
// cluster contributes an orthonormal basis of the real span of its
// eigenvectors. blocks holds the cluster sizes in column order. V is nil when
// the decomposition fails or an eigenbasis is numerically defective.
func lieAdaptedBasis(adx []float64, m int, tol float64) (*mat.Dense, []int) {
	var eig mat.Eigen
	if !eig.Factorize(mat.NewDense(m, m, adx), mat.EigenRight) {
		return nil, nil
	}
	vals := eig.Values(nil)
	var vecs mat.CDense
	eig.VectorsTo(&vecs)
	var maxAbs float64
	for _, v := range vals {
		maxAbs = math.Max(maxAbs, math.Hypot(real(v), imag(v)))
	}
	if maxAbs == 0 {
		return nil, nil
	}
	delta := tol * maxAbs
	uf := lieNewUnionFind(m)
	for i := 0; i < m; i++ {
		for j := i + 1; j < m; j++ {
			if math.Hypot(real(vals[i])-real(vals[j]), math.Abs(imag(vals[i]))-math.Abs(imag(vals[j]))) < delta {
				uf.union(i, j)
			}
		}
	}
	V := mat.NewDense(m, m, nil)
	var blocks []int
	col := 0
	for _, members := range uf.groups() {
		rows := lieEigenRows(&vecs, m, members)
		basis := lieTopRows(rows, m, len(members), 1e-8)
		if basis == nil {
			return nil, nil
		}
		for _, v := range basis {
			for r := 0; r < m; r++ {
				V.Set(r, col, v[r])
			}
			col++
		}
		blocks = append(blocks, len(members))
	}
	return V, blocks
}

// lieEigenRows returns the real and imaginary parts of the eigenvectors
// (columns of vecs) listed in members, as rows.
func lieEigenRows(vecs *mat.CDense, m int, members []int) [][]float64 {
	var rows [][]float64
	for _, i := range members {
		re, im := make([]float64, m), make([]float64, m)
		var anyIm bool
		for r := 0; r < m; r++ {
			v := vecs.At(r, i)
			re[r], im[r] = real(v), imag(v)
			anyIm = anyIm || imag(v) != 0
		}
		rows = append(rows, re)
		if anyIm {
			rows = append(rows, im)
		}
	}
	return rows
}

// lieBlockLayout indexes the unknowns of a block-diagonal m×m matrix.
type lieBlockLayout struct {
	off, size, base []int // per block: first row, size, first unknown
	of              []int // per row: its block
	unknowns        int
}

func lieLayout(blocks []int) lieBlockLayout {
	var l lieBlockLayout
	row := 0
	for k, s := range blocks {
		l.off = append(l.off, row)
		l.size = append(l.size, s)
		l.base = append(l.base, l.unknowns)
		l.unknowns += s * s
		for i := 0; i < s; i++ {
			l.of = append(l.of, k)
		}
		row += s
	}
	return l
}

// lieCentroid returns a basis of the traceless block-diagonal matrices D
// (laid out by lay, flattened block by block, row-major) with A D = D A for
// every A in mats; the identity, always a solution, is excluded by a trace
// row so that every null direction found is informative.
//
// Noise in the constants turns the exact null singular values into small
// ones, amplified by the sensitivity of the adapted basis, so the null space
// is taken at the largest gap among the singular values below √tol × the
// largest (a gap of at least 3×); values below max(tol², 1e-6) × the largest
// are null in any case.
func lieCentroid(mats []*mat.Dense, lay lieBlockLayout, m int, tol float64) [][]float64 {
	sys := mat.NewDense(len(mats)*m*m+1, lay.unknowns, nil)
	row := 0
	var weight float64
	for _, A := range mats {
		weight = math.Max(weight, mat.Norm(A, 2))
		for i := 0; i < m; i++ {
			bi := lay.of[i]
			oi, si := lay.off[bi], lay.size[bi]
			for j := 0; j < m; j++ {
				bj := lay.of[j]
				oj, sj := lay.off[bj], lay.size[bj]
				// (A D)_ij = Σ_{l ∈ block(j)} A_il D_lj.
				for l := oj; l < oj+sj; l++ {
					col := lay.base[bj] + (l-oj)*sj + (j - oj)
					sys.Set(row, col, sys.At(row, col)+A.At(i, l))
				}
				// (D A)_ij = Σ_{l ∈ block(i)} D_il A_lj.
				for l := oi; l < oi+si; l++ {
					col := lay.base[bi] + (i-oi)*si + (l - oi)
					sys.Set(row, col, sys.At(row, col)-A.At(l, j))
				}
				row++
			}
		}
	}
	// tr D = 0.
	for k, s := range lay.size {
		for p := 0; p < s; p++ {
			sys.Set(row, lay.base[k]+p*s+p, weight/math.Sqrt(float64(m)))
		}
	}
	// Singular values and right singular vectors from the eigenpairs of the
	// normal matrix sysᵀsys: much cheaper than an SVD of the tall system and
	// accurate to ~1e-8 of the largest singular value, well below the
	// thresholds used here.
	U := lay.unknowns
	var normal mat.SymDense
	normal.SymOuterK(1, sys.T())
	var eig mat.EigenSym
	if !eig.Factorize(&normal, true) {
		return nil
	}
	ev := eig.Values(nil) // ascending
	var vecs mat.Dense
	eig.VectorsTo(&vecs)
	sv := make([]float64, U) // descending, with their eigenvector columns
	col := make([]int, U)
	for j := range sv {
		sv[j] = math.Sqrt(math.Max(ev[U-1-j], 0))
		col[j] = U - 1 - j
	}
	at := func(j int) float64 { return sv[j] }
	if U == 0 || sv[0] == 0 {
		return nil
	}
	floor, ceil := math.Max(tol*tol, 1e-6)*sv[0], math.Sqrt(tol)*sv[0]
	start := U // null directions are j ≥ start
	bestRatio := 3.0
	for j := U - 1; j >= 1 && at(j) <= ceil; j-- {
		if at(j) <= floor {
			start = j
			continue
		}
		if r := at(j-1) / at(j); r >= bestRatio {
			start, bestRatio = j, r
		}
	}
	var out [][]float64
	for j := start; j < U; j++ {
		out = append(out, mat.Col(nil, col[j], &vecs))
	}
	return out
}

// lieAssemble returns the block-diagonal m×m matrix Σ_k coef_k null_k.
func lieAssemble(lay lieBlockLayout, null [][]float64, coef []float64, m int) *mat.Dense {
	D := mat.NewDense(m, m, nil)
	for k, off := range lay.off {
		s := lay.size[k]
		for p := 0; p < s; p++ {
			for q := 0; q < s; q++ {
				var v float64
				for i, nv := range null {
					v += coef[i] * nv[lay.base[k]+p*s+q]
				}
				D.Set(off+p, off+q, v)
			}
		}
	}
	return D
}

// lieGroups clusters the eigenvalues vals of a centroid element with c
// distinct eigenvalues into c groups and pairs each group with the group of
// the conjugate eigenvalue (itself for a real-type ideal). It returns the
// group label of each eigenvalue, the group means and partners, or ok false
// when the pairing is inconsistent.
func lieGroups(vals []complex128, c int) (labels []int, means []complex128, partner []int, ok bool) {
	labels = lieClusterInto(vals, c)
	if labels == nil {
		return nil, nil, nil, false
	}
	means = make([]complex128, c)
	counts := make([]int, c)
	for i, l := range labels {
		means[l] += vals[i]
		counts[l]++
	}
	for l := range means {
		means[l] /= complex(float64(counts[l]), 0)
	}
	partner = make([]int, c)
	for l, mu := range means {
		best, bd := -1, math.Inf(1)
		target := complex(real(mu), -imag(mu))
		for k, nu := range means {
			if d := cmplx.Abs(nu - target); d < bd {
				best, bd = k, d
			}
		}
		partner[l] = best
	}
	for l := range partner {
		if partner[partner[l]] != l {
			return nil, nil, nil, false
		}
	}
	return labels, means, partner, true
}

// lieCentroidGap scores a centroid element D with c distinct eigenvalues:
// the smallest distance between eigenvalue groups of different ideals,
// relative to the largest |eigenvalue|; 0 when the groups are inconsistent.
func lieCentroidGap(D *mat.Dense, c int) float64 {
	var eig mat.Eigen
	if !eig.Factorize(D, mat.EigenNone) {
		return 0
	}
	_, means, partner, ok := lieGroups(eig.Values(nil), c)
	if !ok {
		return 0
	}
	var scale float64
	for _, mu := range means {
		scale = math.Max(scale, cmplx.Abs(mu))
	}
	if scale == 0 {
		return 0
	}
	gap := math.Inf(1)
	for k := range means {
		for l := k + 1; l < c; l++ {
			if partner[k] != l {
				gap = math.Min(gap, cmplx.Abs(means[k]-means[l])/scale)
			}
		}
	}
	return gap
}

// lieSplit splits R^m into the eigenspaces of the centroid element X, which
// has c distinct eigenvalues (see lieGroups): a group whose conjugate is
// itself is a real-type ideal, a pair of conjugate groups is a complex-type
// ideal. It returns nil when the pattern is inconsistent.
func lieSplit(X *mat.Dense, m, c int) []lieSimplePart {
	var eig mat.Eigen
	if !eig.Factorize(X, mat.EigenRight) {
		return nil
	}
	var vecs mat.CDense
	eig.VectorsTo(&vecs)
	labels, _, partner, ok := lieGroups(eig.Values(nil), c)
	if !ok {
		return nil
	}
	var parts []lieSimplePart
	done := make([]bool, c)
	for l := 0; l < c; l++ {
		if done[l] {
			continue
		}
		done[l], done[partner[l]] = true, true
		var members []int
		for i, li := range labels {
			if li == l || li == partner[l] {
				members = append(members, i)
			}
		}
		if partner[l] != l && len(members)%2 != 0 {
			return nil // a complex-type ideal has even dimension
		}
		basis := lieTopRows(lieEigenRows(&vecs, m, members), m, len(members), 1e-6)
		if basis == nil {
			return nil
		}
		parts = append(parts, lieSimplePart{basis: basis, complex: partner[l] != l})
	}
	return parts
}

// lieClusterInto groups the points vals into c single-linkage clusters (the
// components of their minimum spanning tree less its c−1 longest edges),
// labelled in order of first appearance.
func lieClusterInto(vals []complex128, c int) []int {
	m := len(vals)
	if c < 1 || c > m {
		return nil
	}
	dist := func(i, j int) float64 { return math.Hypot(real(vals[i]-vals[j]), imag(vals[i]-vals[j])) }
	// Prim's algorithm.
	type edge struct {
		a, b int
		w    float64
	}
	in := make([]bool, m)
	bestD := make([]float64, m)
	from := make([]int, m)
	for i := range bestD {
		bestD[i] = math.Inf(1)
	}
	in[0] = true
	for i := 1; i < m; i++ {
		bestD[i], from[i] = dist(0, i), 0
	}
	var edges []edge
	for len(edges) < m-1 {
		next := -1
		for i := 0; i < m; i++ {
			if !in[i] && (next < 0 || bestD[i] < bestD[next]) {
				next = i
			}
		}
		in[next] = true
		edges = append(edges, edge{from[next], next, bestD[next]})
		for i := 0; i < m; i++ {
			if !in[i] {
				if d := dist(next, i); d < bestD[i] {
					bestD[i], from[i] = d, next
				}
			}
		}
	}
	sort.SliceStable(edges, func(i, j int) bool { return edges[i].w < edges[j].w })
	uf := lieNewUnionFind(m)
	for _, e := range edges[:len(edges)-(c-1)] {
		uf.union(e.a, e.b)
	}
	labels := make([]int, m)
	for l, g := range uf.groups() {
		for _, i := range g {
			labels[i] = l
		}
	}
	return labels
}

// lieVerify checks that parts are ad-invariant subspaces (within
// tol × max(1, scale)) that together span R^m.
func lieVerify(ads [][]float64, m int, parts []lieSimplePart, tol, scale float64) bool {
	var all [][]float64
	for _, p := range parts {
		all = append(all, p.basis...)
	}
	if len(all) != m || lieTopRows(all, m, m, 1e-6) == nil {
		return false
	}
	thr := tol * math.Max(1, scale)
	for _, p := range parts {
		for _, ad := range ads {
			for _, v := range p.basis {
				w := lieMatVec(ad, m, v)
				for _, u := range p.basis {
					d := lieDot(u, w)
					for i := range w {
						w[i] -= d * u[i]
					}
				}
				if lieNorm(w) > thr {
					return false
				}
			}
		}
	}
	return true
}

// lieLeviLift looks for a Levi subalgebra of the non-reductive algebra with
// adjoint matrices ads: a lift σ_p = quot_p + Σ_a Φ_pa rad_a of the basis of
// g/rad (constants bq) that closes, [σ_p, σ_q] = Σ_s bq[p][q][s] σ_s. Levi's
// theorem guarantees one exists; the quadratic equations for Φ are solved by
// Gauss–Newton with minimum-norm steps. It returns the lifted rows and true,
// or quot and false when the system is too large or does not converge to
// tol.
func lieLeviLift(ads [][]float64, n int, quot, rad [][]float64, bq [][][]float64, tol float64) ([][]float64, bool) {
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
			v := lieMatVec(adS[pq[0]], n, sig[pq[1]])
			for s := 0; s < m; s++ {
				for i := range v {
					v[i] -= bq[pq[0]][pq[1]][s] * sig[s][i]
				}
			}
			for a := 0; a < r; a++ {
				f[pi*r+a] = lieDot(rad[a], v)
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
			adS[p] = lieAdOf(ads, sig[p], n)
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
				w := lieMatVec(adS[q], n, rad[a])
				for a2 := 0; a2 < r; a2++ {
					T[q][a2][a] = lieDot(rad[a2], w)
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
				adS[p] = lieAdOf(ads, sig[p], n)
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
		adS[p] = lieAdOf(ads, sig[p], n)
	}
	if _, res = residual(sig, adS); res > tol*scale {
		return quot, false
	}
	return sig, true
}

// lieCheckConstants validates a as an n×n×n array of finite numbers.
func lieCheckConstants(a [][][]float64) (int, error) {
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

// lieAntisym returns (a[α][β] − a[β][α]) / 2.
func lieAntisym(a [][][]float64, n int) [][][]float64 {
	b := make([][][]float64, n)
	for x := range b {
		b[x] = make([][]float64, n)
		for y := range b[x] {
			b[x][y] = make([]float64, n)
			for z := range b[x][y] {
				b[x][y][z] = (a[x][y][z] - a[y][x][z]) / 2
			}
		}
	}
	return b
}

// lieAds returns the adjoint matrices, row-major: (ad_α)_γδ = b[α][δ][γ].
func lieAds(b [][][]float64) [][]float64 {
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

// lieAdOf returns ad_u = Σ_α u_α ad_α.
func lieAdOf(ads [][]float64, u []float64, n int) []float64 {
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

// lieMatVec returns A v for the row-major n×n matrix A.
func lieMatVec(A []float64, n int, v []float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = lieDot(A[i*n:(i+1)*n], v)
	}
	return out
}

func lieDot(a, b []float64) float64 {
	var s float64
	for i, v := range a {
		s += v * b[i]
	}
	return s
}

func lieNorm(a []float64) float64 { return math.Sqrt(lieDot(a, a)) }

func lieIdentity(n int) [][]float64 {
	out := make([][]float64, n)
	for i := range out {
		out[i] = make([]float64, n)
		out[i][i] = 1
	}
	return out
}

func lieGauss(rng *rand.Rand, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = rng.NormFloat64()
	}
	return out
}

// lieDense packs rows (at least one) into a matrix with cols columns.
func lieDense(rows [][]float64, cols int) *mat.Dense {
	m := mat.NewDense(len(rows), cols, nil)
	for i, r := range rows {
		m.SetRow(i, r)
	}
	return m
}

// lieRowSpan returns an orthonormal basis (rows) of the span of rows:
// the right singular vectors whose singular values exceed
// tol × max(1, largest).
func lieRowSpan(rows [][]float64, n int, tol float64) [][]float64 {
	if len(rows) == 0 || n == 0 {
		return nil
	}
	var svd mat.SVD
	if !svd.Factorize(lieDense(rows, n), mat.SVDThinV) {
		return nil
	}
	sv := svd.Values(nil)
	var v mat.Dense
	svd.VTo(&v)
	thr := tol * math.Max(1, sv[0])
	var out [][]float64
	for j, s := range sv {
		if s > thr {
			out = append(out, mat.Col(nil, j, &v))
		}
	}
	return out
}

// lieNullSpace returns an orthonormal basis (rows) of {x ∈ Rⁿ : M x = 0}
// where M has the given rows; singular values up to tol × max(1, largest)
// count as zero.
func lieNullSpace(rows [][]float64, n int, tol float64) [][]float64 {
	if len(rows) == 0 {
		return lieIdentity(n)
	}
	return lieNullSpaceDense(lieDense(rows, n), tol)
}

func lieNullSpaceDense(M *mat.Dense, tol float64) [][]float64 {
	_, n := M.Dims()
	var svd mat.SVD
	if !svd.Factorize(M, mat.SVDFullV) {
		return nil
	}
	sv := svd.Values(nil)
	var v mat.Dense
	svd.VTo(&v)
	thr := tol * math.Max(1, sv[0])
	var out [][]float64
	for j := 0; j < n; j++ {
		if j >= len(sv) || sv[j] <= thr {
			out = append(out, mat.Col(nil, j, &v))
		}
	}
	return out
}

// lieComplement returns an orthonormal basis of the orthogonal complement of
// the span of the orthonormal rows basis.
func lieComplement(basis [][]float64, n int) [][]float64 {
	return lieNullSpace(basis, n, 1e-9)
}

// lieTopRows returns the k leading right singular vectors of rows (an
// orthonormal basis of their span when it is k-dimensional), or nil when the
// k-th singular value is below rel × the first.
func lieTopRows(rows [][]float64, n, k int, rel float64) [][]float64 {
	if k == 0 || len(rows) < k {
		return nil
	}
	var svd mat.SVD
	if !svd.Factorize(lieDense(rows, n), mat.SVDThinV) {
		return nil
	}
	sv := svd.Values(nil)
	if len(sv) < k || sv[k-1] <= rel*sv[0] {
		return nil
	}
	var v mat.Dense
	svd.VTo(&v)
	out := make([][]float64, k)
	for j := range out {
		out[j] = mat.Col(nil, j, &v)
	}
	return out
}

// lieOrthonormal returns an orthonormal basis of the span of the independent
// rows, or rows itself when they are numerically dependent.
func lieOrthonormal(rows [][]float64, n int) [][]float64 {
	if out := lieTopRows(rows, n, len(rows), 1e-12); out != nil {
		return out
	}
	return rows
}

// lieMap returns rows × work: coefficients over work's rows turned into
// vectors of Rⁿ.
func lieMap(rows, work [][]float64, n int) [][]float64 {
	out := make([][]float64, len(rows))
	for i, r := range rows {
		out[i] = make([]float64, n)
		for j, c := range r {
			for k := range out[i] {
				out[i][k] += c * work[j][k]
			}
		}
	}
	return out
}

// lieBracketPairs returns the brackets [S_i, S_j], i < j.
func lieBracketPairs(ads [][]float64, n int, S [][]float64) [][]float64 {
	var out [][]float64
	for i := range S {
		ad := lieAdOf(ads, S[i], n)
		for j := i + 1; j < len(S); j++ {
			out = append(out, lieMatVec(ad, n, S[j]))
		}
	}
	return out
}

// lieBracketAll returns the brackets [e_α, S_j] for all basis elements e_α.
func lieBracketAll(ads [][]float64, n int, S [][]float64) [][]float64 {
	var out [][]float64
	for _, ad := range ads {
		for _, s := range S {
			out = append(out, lieMatVec(ad, n, s))
		}
	}
	return out
}

// lieRestrict returns the structure constants of the subalgebra (or of the
// quotient by an ideal orthogonal to it) spanned by the orthonormal rows P:
// c[p][q][r] = P_r · [P_p, P_q].
func lieRestrict(ads [][]float64, n int, P [][]float64) [][][]float64 {
	k := len(P)
	c := make([][][]float64, k)
	for p := range c {
		c[p] = make([][]float64, k)
		ad := lieAdOf(ads, P[p], n)
		for q := range c[p] {
			c[p][q] = make([]float64, k)
			w := lieMatVec(ad, n, P[q])
			for r := range c[p][q] {
				c[p][q][r] = lieDot(P[r], w)
			}
		}
	}
	return c
}

// lieKilling returns K_αβ = tr(ad_α ad_β), or nil for n = 0.
func lieKilling(ads [][]float64, n int) *mat.SymDense {
	if n == 0 {
		return nil
	}
	k := mat.NewSymDense(n, nil)
	for x := 0; x < n; x++ {
		for y := x; y < n; y++ {
			var s float64
			for g := 0; g < n; g++ {
				for d := 0; d < n; d++ {
					s += ads[x][g*n+d] * ads[y][d*n+g]
				}
			}
			k.SetSym(x, y, s)
		}
	}
	return k
}

// lieSignature counts the eigenvalues of K by sign, those below
// tol × max(1, largest |eigenvalue|) as zero.
func lieSignature(K *mat.SymDense, tol float64) sweeps.Signature {
	var sig sweeps.Signature
	if K == nil {
		return sig
	}
	var eig mat.EigenSym
	if !eig.Factorize(K, false) {
		return sig
	}
	ev := eig.Values(nil)
	var maxE float64
	for _, v := range ev {
		maxE = math.Max(maxE, math.Abs(v))
	}
	thr := tol * math.Max(1, maxE)
	for _, v := range ev {
		switch {
		case v > thr:
			sig.Pos++
		case v < -thr:
			sig.Neg++
		default:
			sig.Zero++
		}
	}
	return sig
}

// lieUnionFind is a disjoint-set forest over 0..n−1.
type lieUnionFind []int

func lieNewUnionFind(n int) lieUnionFind {
	u := make(lieUnionFind, n)
	for i := range u {
		u[i] = i
	}
	return u
}

func (u lieUnionFind) find(i int) int {
	for u[i] != i {
		u[i] = u[u[i]]
		i = u[i]
	}
	return i
}

func (u lieUnionFind) union(i, j int) {
	a, b := u.find(i), u.find(j)
	if a < b {
		u[b] = a
	} else if b < a {
		u[a] = b
	}
}

// groups returns the sets, each in increasing order, ordered by their
// smallest member.
func (u lieUnionFind) groups() [][]int {
	idx := map[int]int{}
	var out [][]int
	for i := range u {
		r := u.find(i)
		k, ok := idx[r]
		if !ok {
			k = len(out)
			idx[r] = k
			out = append(out, nil)
		}
		out[k] = append(out[k], i)
	}
	return out
}

// lieFormKey identifies a simple real Lie algebra up to what Decompose can
// measure: its dimension and, for the real type, the number of negative
// Killing eigenvalues (the dimension of its maximal compact subalgebra);
// complex-type algebras (complex simple algebras viewed as real) have
// signature (d+, d−) and are keyed by dimension alone.
type lieFormKey struct {
	dim, neg int
	complex  bool
}

var (
	lieFormsOnce sync.Once
	lieForms     map[lieFormKey][]string
)

// lieFormTable returns the names of the simple real Lie algebras of
// dimension ≤ 300 (up to the exceptional e8), keyed by lieFormKey. The
// low-dimensional ones (≤ 15) carry their classical isomorphisms; above that
// the only coincidence of real forms is so(6,2) ≅ so*(8), and any other
// shared key lists genuinely different algebras (e.g. so(7) and sp(3)).
func lieFormTable() map[lieFormKey][]string {
	lieFormsOnce.Do(func() {
		t := map[lieFormKey][]string{}
		add := func(dim, neg int, name string) {
			k := lieFormKey{dim: dim, neg: neg}
			t[k] = append(t[k], name)
		}
		addC := func(cdim int, name string) {
			k := lieFormKey{dim: 2 * cdim, neg: -1, complex: true}
			t[k] = append(t[k], name)
		}
		// Dimension ≤ 15, by hand.
		add(3, 3, "su(2) ≅ so(3)")
		add(3, 1, "sl(2,R) ≅ so(2,1) ≅ su(1,1)")
		add(8, 8, "su(3)")
		add(8, 3, "sl(3,R)")
		add(8, 4, "su(2,1)")
		add(10, 10, "so(5) ≅ sp(2)")
		add(10, 6, "so(4,1) ≅ sp(1,1)")
		add(10, 4, "so(3,2) ≅ sp(4,R)")
		add(14, 14, "g2")
		add(14, 6, "g2(2)")
		add(15, 15, "su(4) ≅ so(6)")
		add(15, 6, "sl(4,R) ≅ so(3,3)")
		add(15, 7, "su(2,2) ≅ so(4,2)")
		add(15, 9, "su(3,1) ≅ so*(6)")
		add(15, 10, "sl(2,H) ≅ so(5,1)")
		addC(3, "sl(2,C) ≅ so(1,3)")
		addC(8, "sl(3,C)")
		addC(10, "so(5,C) ≅ sp(4,C)")
		addC(14, "g2(C)")
		addC(15, "sl(4,C) ≅ so(6,C)")
		// Dimension > 15: the classical families and the exceptional forms.
		const maxDim = 300
		for n := 5; n*n-1 <= maxDim; n++ {
			d := n*n - 1
			add(d, d, fmt.Sprintf("su(%d)", n))
			add(d, n*(n-1)/2, fmt.Sprintf("sl(%d,R)", n))
			for q := 1; 2*q <= n; q++ {
				p := n - q
				add(d, p*p+q*q-1, fmt.Sprintf("su(%d,%d)", p, q))
			}
			addC(d, fmt.Sprintf("sl(%d,C)", n))
		}
		for n := 3; 4*n*n-1 <= maxDim; n++ {
			add(4*n*n-1, n*(2*n+1), fmt.Sprintf("sl(%d,H)", n))
		}
		for N := 7; N*(N-1)/2 <= maxDim; N++ {
			d := N * (N - 1) / 2
			add(d, d, fmt.Sprintf("so(%d)", N))
			for q := 1; 2*q <= N; q++ {
				p := N - q
				add(d, p*(p-1)/2+q*(q-1)/2, fmt.Sprintf("so(%d,%d)", p, q))
			}
			addC(d, fmt.Sprintf("so(%d,C)", N))
		}
		for n := 4; n*(2*n-1) <= maxDim; n++ {
			add(n*(2*n-1), n*n, fmt.Sprintf("so*(%d)", 2*n))
		}
		for n := 3; n*(2*n+1) <= maxDim; n++ {
			d := n * (2*n + 1)
			add(d, d, fmt.Sprintf("sp(%d)", n))
			add(d, n*n, fmt.Sprintf("sp(%d,R)", 2*n))
			for q := 1; 2*q <= n; q++ {
				p := n - q
				add(d, p*(2*p+1)+q*(2*q+1), fmt.Sprintf("sp(%d,%d)", p, q))
			}
			addC(d, fmt.Sprintf("sp(%d,C)", 2*n))
		}
		for _, e := range []struct {
			dim, neg int
			name     string
		}{
			{52, 52, "f4"}, {52, 24, "f4(4)"}, {52, 36, "f4(-20)"},
			{78, 78, "e6"}, {78, 36, "e6(6)"}, {78, 38, "e6(2)"}, {78, 46, "e6(-14)"}, {78, 52, "e6(-26)"},
			{133, 133, "e7"}, {133, 63, "e7(7)"}, {133, 69, "e7(-5)"}, {133, 79, "e7(-25)"},
			{248, 248, "e8"}, {248, 120, "e8(8)"}, {248, 136, "e8(-24)"},
		} {
			add(e.dim, e.neg, e.name)
		}
		addC(52, "f4(C)")
		addC(78, "e6(C)")
		addC(133, "e7(C)")
		addC(248, "e8(C)")
		k := lieFormKey{dim: 28, neg: 16}
		if names := t[k]; len(names) == 2 {
			t[k] = []string{names[0] + " ≅ " + names[1]} // so(6,2) ≅ so*(8)
		}
		lieForms = t
	})
	return lieForms
}

// lieSimpleName names the simple algebra of dimension dim with Killing
// signature sig: a name when the invariants single it out, else candidates.
func lieSimpleName(dim int, sig sweeps.Signature, complexType bool) (string, []string) {
	key := lieFormKey{dim: dim, neg: sig.Neg}
	if complexType {
		key = lieFormKey{dim: dim, neg: -1, complex: true}
	} else if sig.Zero != 0 || sig.Pos+sig.Neg != dim {
		return "", nil
	}
	names := lieFormTable()[key]
	switch len(names) {
	case 0:
		return "", nil
	case 1:
		return names[0], nil
	}
	return "", append([]string(nil), names...)
}

// lieShort is the first of a name's aliases: "su(2) ≅ so(3)" → "su(2)".
func lieShort(name string) string {
	if i := strings.Index(name, " ≅ "); i >= 0 {
		return name[:i]
	}
	return name
}

func lieAbelianName(k int) string {
	if k == 1 {
		return "u(1)"
	}
	return fmt.Sprintf("u(1)^%d", k)
}

// lieSumAliases names a few direct sums classically.
var lieSumAliases = map[string]string{
	"su(2) ⊕ su(2)":     "so(4)",
	"sl(2,R) ⊕ sl(2,R)": "so(2,2)",
	"su(2) ⊕ sl(2,R)":   "so*(4)",
	"su(2) ⊕ u(1)":      "u(2)",
	"sl(2,R) ⊕ u(1)":    "gl(2,R)",
}

// lieLabel is an ideal's name inside a sum.
func lieLabel(id sweeps.Ideal) string {
	switch {
	case id.Name != "":
		return lieShort(id.Name)
	case len(id.Candidates) > 0:
		short := make([]string, len(id.Candidates))
		for i, c := range id.Candidates {
			short[i] = lieShort(c)
		}
		return "(" + strings.Join(short, " or ") + ")"
	}
	return lieUnnamed(id)
}

// lieUnnamed describes a simple ideal the table does not name.
func lieUnnamed(id sweeps.Ideal) string {
	s := id.KillingSignature
	switch {
	case id.Complex:
		return fmt.Sprintf("%d-dimensional complex-type simple", id.Dim)
	case s.Neg == id.Dim:
		return fmt.Sprintf("%d-dimensional compact simple", id.Dim)
	}
	return fmt.Sprintf("%d-dimensional simple (%d+,%d−)", id.Dim, s.Pos, s.Neg)
}

// lieSumName names the direct sum of the simple and abelian ideals ids.
func lieSumName(ids []sweeps.Ideal) (string, []string) {
	if len(ids) == 0 {
		return "0", nil
	}
	if len(ids) == 1 && ids[0].Kind == IdealSimple {
		if ids[0].Name != "" {
			return ids[0].Name, nil
		}
		return lieUnnamed(ids[0]), ids[0].Candidates
	}
	labels := make([]string, len(ids))
	options := [][]string{{""}}
	for i, id := range ids {
		labels[i] = lieLabel(id)
		alts := []string{labels[i]}
		if id.Name == "" && len(id.Candidates) > 0 {
			alts = nil
			for _, c := range id.Candidates {
				alts = append(alts, lieShort(c))
			}
		}
		var next [][]string
		for _, o := range options {
			for _, a := range alts {
				next = append(next, append(append([]string(nil), o...), a))
			}
		}
		options = next
	}
	name := strings.Join(labels, " ⊕ ")
	if alias, ok := lieSumAliases[name]; ok {
		name = alias + " ≅ " + name
	}
	var cands []string
	if len(options) > 1 && len(options) <= 16 {
		for _, o := range options {
			cands = append(cands, strings.Join(o[1:], " ⊕ "))
		}
	}
	return name, cands
}

// lieSortIdeals orders simple ideals by decreasing dimension, compact ones
// first, then by name.
func lieSortIdeals(ids []sweeps.Ideal) {
	sort.SliceStable(ids, func(i, j int) bool {
		a, b := ids[i], ids[j]
		if a.Dim != b.Dim {
			return a.Dim > b.Dim
		}
		if a.KillingSignature.Neg != b.KillingSignature.Neg {
			return a.KillingSignature.Neg > b.KillingSignature.Neg
		}
		return lieLabel(a) < lieLabel(b)
	})
}

// lieSolvableName names a solvable algebra of dimension n whose derived
// algebra has dimension d and centre dimension c. A derived algebra of
// dimension 1 leaves two families: inside the centre (nilpotent), the
// Heisenberg algebra plus commuting generators; otherwise aff(1) plus
// commuting generators.
func lieSolvableName(n, d, c int, nilpotent bool) string {
	plus := func(name string, k int) string {
		if k == 0 {
			return name
		}
		return name + " ⊕ " + lieAbelianName(k)
	}
	switch {
	case d == 0:
		return lieAbelianName(n)
	case d == 1 && nilpotent && c >= 1 && (n-c+1)%2 == 1:
		return plus(fmt.Sprintf("heisenberg(%d)", n-c+1), c-1)
	case d == 1 && !nilpotent && c == n-2:
		return plus("aff(1)", n-2)
	case nilpotent:
		return fmt.Sprintf("%d-dimensional nilpotent", n)
	}
	return fmt.Sprintf("%d-dimensional solvable", n)
}

func lieSeries(dims []int) string {
	s := make([]string, len(dims))
	for i, d := range dims {
		s[i] = fmt.Sprint(d)
	}
	return strings.Join(s, " → ")
}

func lieSolvableWords(st *sweeps.Structure) string {
	var w string
	if st.Nilpotent {
		w = fmt.Sprintf("Solvable and nilpotent (derived series %s, lower central series %s) with a %d-dimensional centre",
			lieSeries(st.DerivedSeries), lieSeries(st.LowerCentralSeries), st.CentreDim)
	} else {
		w = fmt.Sprintf("Solvable but not nilpotent (derived series %s, lower central series %s) with a %d-dimensional centre",
			lieSeries(st.DerivedSeries), lieSeries(st.LowerCentralSeries), st.CentreDim)
	}
	switch {
	case strings.HasPrefix(st.Name, "heisenberg"):
		return w + fmt.Sprintf(": %s, the Heisenberg algebra of canonical commutation relations [x, p] = ħ.", st.Name)
	case strings.HasPrefix(st.Name, "aff(1)"):
		return w + fmt.Sprintf(": %s, with aff(1) the algebra of the affine maps x ↦ ax + b of the line.", st.Name)
	}
	return w + "; it has no semisimple part."
}

// lieKindWords describes one simple ideal: its label and compactness.
func lieKindWords(id sweeps.Ideal) string {
	label := lieLabel(id)
	s := id.KillingSignature
	switch {
	case id.Name == "" && len(id.Candidates) == 0:
		return label
	case id.Complex:
		return fmt.Sprintf("%s (a complex simple algebra of complex dimension %d viewed as real)", label, id.Dim/2)
	case s.Neg == id.Dim:
		return label + " (compact)"
	}
	return fmt.Sprintf("%s (non-compact, maximal compact subalgebra of dimension %d)", label, s.Neg)
}

func lieReductiveWords(st *sweeps.Structure) string {
	var simple []sweeps.Ideal
	for _, id := range st.Decomposition {
		if id.Kind == IdealSimple {
			simple = append(simple, id)
		}
	}
	var desc string
	if len(simple) == 1 {
		id := simple[0]
		switch {
		case id.Name == "" && len(id.Candidates) == 0:
			desc = "one " + lieUnnamed(id) + " ideal"
		case id.Name != "":
			desc = "the simple algebra " + strings.Replace(lieKindWords(id), lieLabel(id), id.Name, 1)
		default:
			desc = "the simple algebra " + lieKindWords(id)
		}
	} else {
		parts := make([]string, len(simple))
		for i, id := range simple {
			parts[i] = lieKindWords(id)
		}
		desc = fmt.Sprintf("the direct sum of %d simple ideals %s", len(simple), strings.Join(parts, ", "))
	}
	var w string
	if st.CentreDim == 0 {
		w = "Semisimple: " + desc + "."
	} else {
		w = fmt.Sprintf("Reductive: a %d-dimensional centre %s plus the semisimple ideal [g,g], %s.", st.CentreDim, lieAbelianName(st.CentreDim), desc)
	}
	for _, id := range simple {
		if id.Name == "" {
			s := id.KillingSignature
			if len(id.Candidates) > 0 {
				w += fmt.Sprintf(" Dimension %d with Killing signature (%d+,%d−) does not single out the %d-dimensional ideal: it is %s.",
					id.Dim, s.Pos, s.Neg, id.Dim, strings.Join(id.Candidates, " or "))
			} else {
				w += fmt.Sprintf(" No simple algebra in the table has dimension %d and Killing signature (%d+,%d−).", id.Dim, s.Pos, s.Neg)
			}
			break
		}
	}
	return w
}

func lieLeviWords(st *sweeps.Structure, levi string, rad sweeps.Structure) string {
	kind := "solvable"
	switch {
	case len(rad.DerivedSeries) > 1 && rad.DerivedSeries[1] == 0:
		kind = "abelian"
	case rad.Nilpotent:
		kind = "nilpotent"
	}
	named := ""
	if kind != "abelian" && !strings.Contains(rad.Name, "dimensional") {
		named = " (" + rad.Name + ")"
	}
	return fmt.Sprintf("Not reductive: a %d-dimensional semisimple Levi factor %s acting on a %d-dimensional %s radical%s.",
		st.LeviDim, levi, st.RadicalDim, kind, named)
}

// SparseBasis finds a sparse basis of the span of the linear generators gens
// (N_g matrices, each n×n, given by rows), in the spirit of Forestano et al.,
// "Discovering Sparse Representations of Lie Groups with Machine Learning".
//
// The span is first orthonormalised in the Frobenius inner product
// (E = T G from the SVD of the stacked, flattened generators). The L1 norm
// Σ_α Σ_ij |(R E)_α,ij| is then minimised over orthogonal R by Jacobi sweeps:
// each sweep rotates every pair of rows by the angle that minimises their
// exact L1 norm, which is piecewise a sum of |sinusoids| and concave between
// the angles where an entry vanishes, so the minimum lies at one of those
// breakpoints. Several deterministic restarts (the identity and fixed-seed
// random rotations) guard against local minima; the best is kept.
//
// Each resulting matrix is normalised so that its largest |entry| is 1 and
// its first entry of largest magnitude (row-major; entries within 1e-3 of
// the largest count as ties) is positive, and the basis is ordered by the
// position of that entry. basis holds the matrices with numerical zeros
// (|entry| < 1e-3 after normalisation) snapped to 0, for reporting; rot maps
// old to new, G'_α = Σ_β rot[α][β] G_β, with the normalisation folded in;
// and a holds the structure constants of the unsnapped G'_α, found by least
// squares of the commutators [G'_α, G'_β] = G'_α G'_β − G'_β G'_α on the
// basis (the projection, if the span does not close).
//
// It returns an error for empty, ragged, non-square, non-finite or linearly
// dependent generators. The output is deterministic.
func SparseBasis(gens [][][]float64) (basis [][][]float64, rot [][]float64, a [][][]float64, err error) {
	N := len(gens)
	if N == 0 {
		return nil, nil, nil, errors.New("sparse basis: no generators")
	}
	n := len(gens[0])
	if n == 0 {
		return nil, nil, nil, errors.New("sparse basis: generator 0 is an empty matrix")
	}
	K := n * n
	G := mat.NewDense(N, K, nil)
	for al, g := range gens {
		if len(g) != n {
			return nil, nil, nil, fmt.Errorf("sparse basis: generator %d has %d rows, want %d", al, len(g), n)
		}
		for i, row := range g {
			if len(row) != n {
				return nil, nil, nil, fmt.Errorf("sparse basis: generator %d row %d has %d entries, want %d", al, i, len(row), n)
			}
			for j, v := range row {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					return nil, nil, nil, fmt.Errorf("sparse basis: generator %d entry (%d,%d) is %v", al, i, j, v)
				}
				G.Set(al, i*n+j, v)
			}
		}
	}
	if N > K {
		return nil, nil, nil, fmt.Errorf("sparse basis: %d generators of %d×%d matrices are linearly dependent", N, n, n)
	}
	var svd mat.SVD
	if !svd.Factorize(G, mat.SVDThin) {
		return nil, nil, nil, errors.New("sparse basis: SVD of the generators failed")
	}
	sv := svd.Values(nil)
	if sv[0] == 0 || sv[N-1] <= 1e-9*sv[0] {
		return nil, nil, nil, fmt.Errorf("sparse basis: the %d generators are linearly dependent (singular values %.3g … %.3g)", N, sv[0], sv[N-1])
	}
	var U, V mat.Dense
	svd.UTo(&U)
	svd.VTo(&V)
	// E_i = Σ_β T_iβ G_β with T = Σ⁻¹ Uᵀ: orthonormal rows V_iᵀ.
	E := make([][]float64, N)
	T := make([][]float64, N)
	for i := range E {
		E[i] = mat.Col(nil, i, &V)
		T[i] = make([]float64, N)
		for b := range T[i] {
			T[i][b] = U.At(b, i) / sv[i]
		}
	}

	restarts := 8
	if N*N*K*K > 4_000_000 {
		restarts = 3
	}
	rng := rand.New(rand.NewPCG(0x5ba25e, uint64(N*K)))
	var bestM, bestR [][]float64
	bestL1 := math.Inf(1)
	for r := 0; r < restarts; r++ {
		R := lieIdentity(N)
		if r > 0 {
			R = lieRandomOrthogonal(rng, N)
		}
		M := make([][]float64, N)
		for i := range M {
			M[i] = make([]float64, K)
			for j, c := range R[i] {
				for k, e := range E[j] {
					M[i][k] += c * e
				}
			}
		}
		lieJacobiL1(M, R)
		var l1 float64
		for _, row := range M {
			for _, v := range row {
				l1 += math.Abs(v)
			}
		}
		if l1 < bestL1*(1-1e-9) {
			bestL1, bestM, bestR = l1, M, R
		}
	}

	type item struct {
		m, snapped []float64
		pivot      int
		scale      float64
		idx        int
	}
	items := make([]item, N)
	for al, row := range bestM {
		var maxAbs float64
		for _, v := range row {
			maxAbs = math.Max(maxAbs, math.Abs(v))
		}
		pivot := 0
		for k, v := range row {
			if math.Abs(v) >= (1-1e-3)*maxAbs {
				pivot = k
				break
			}
		}
		s := 1 / maxAbs
		if row[pivot] < 0 {
			s = -s
		}
		it := item{m: make([]float64, K), snapped: make([]float64, K), pivot: pivot, scale: s, idx: al}
		for k, v := range row {
			it.m[k] = s * v
			if math.Abs(it.m[k]) >= 1e-3 {
				it.snapped[k] = it.m[k]
			}
		}
		items[al] = it
	}
	sort.SliceStable(items, func(i, j int) bool {
		a, b := items[i], items[j]
		if a.pivot != b.pivot {
			return a.pivot < b.pivot
		}
		for k := range a.snapped {
			if a.snapped[k] != b.snapped[k] {
				return a.snapped[k] > b.snapped[k]
			}
		}
		return a.idx < b.idx
	})

	basis = make([][][]float64, N)
	rot = make([][]float64, N)
	B := mat.NewDense(K, N, nil)
	for i, it := range items {
		basis[i] = make([][]float64, n)
		for r := range basis[i] {
			basis[i][r] = append([]float64(nil), it.snapped[r*n:(r+1)*n]...)
		}
		rot[i] = make([]float64, N)
		for j, c := range bestR[it.idx] {
			for b, t := range T[j] {
				rot[i][b] += it.scale * c * t
			}
		}
		B.SetCol(i, it.m)
	}

	pairs := Pairs(N)
	a = make([][][]float64, N)
	for i := range a {
		a[i] = make([][]float64, N)
		for j := range a[i] {
			a[i][j] = make([]float64, N)
		}
	}
	if len(pairs) == 0 {
		return basis, rot, a, nil
	}
	C := mat.NewDense(K, len(pairs), nil)
	for pi, p := range pairs {
		x, y := items[p[0]].m, items[p[1]].m
		for r := 0; r < n; r++ {
			for c := 0; c < n; c++ {
				var v float64
				for k := 0; k < n; k++ {
					v += x[r*n+k]*y[k*n+c] - y[r*n+k]*x[k*n+c]
				}
				C.Set(r*n+c, pi, v)
			}
		}
	}
	var X mat.Dense
	if err := X.Solve(B, C); err != nil {
		return nil, nil, nil, fmt.Errorf("sparse basis: structure constants: %w", err)
	}
	for pi, p := range pairs {
		for g := 0; g < N; g++ {
			v := X.At(g, pi)
			a[p[0]][p[1]][g] = v
			a[p[1]][p[0]][g] = -v
		}
	}
	return basis, rot, a, nil
}

// lieRandomOrthogonal returns a random N×N orthogonal matrix (the Q factor
// of a Gaussian matrix).
func lieRandomOrthogonal(rng *rand.Rand, N int) [][]float64 {
	g := mat.NewDense(N, N, nil)
	for i := 0; i < N; i++ {
		g.SetRow(i, lieGauss(rng, N))
	}
	var qr mat.QR
	qr.Factorize(g)
	var q mat.Dense
	qr.QTo(&q)
	out := make([][]float64, N)
	for i := range out {
		out[i] = mat.Row(nil, i, &q)
	}
	return out
}

// lieJacobiL1 minimises the L1 norm of the rows of M by Givens rotations of
// pairs of rows, applying each rotation to R too, until a sweep changes
// nothing (or 200 sweeps).
func lieJacobiL1(M, R [][]float64) {
	N := len(M)
	for sweep := 0; sweep < 200; sweep++ {
		changed := false
		for p := 0; p < N; p++ {
			for q := p + 1; q < N; q++ {
				c, s, ok := lieBestAngle(M[p], M[q])
				if !ok {
					continue
				}
				lieRotate(M[p], M[q], c, s)
				lieRotate(R[p], R[q], c, s)
				changed = true
			}
		}
		if !changed {
			return
		}
	}
}

// lieRotate replaces (x, y) by (c x + s y, −s x + c y).
func lieRotate(x, y []float64, c, s float64) {
	for k := range x {
		x[k], y[k] = c*x[k]+s*y[k], -s*x[k]+c*y[k]
	}
}

// lieBestAngle returns the rotation (cos θ, sin θ) of the rows x, y that
// minimises Σ_k |c x_k + s y_k| + |−s x_k + c y_k|, and whether it improves
// on θ = 0. The objective has period π/2 and is concave between the angles
// where a rotated entry vanishes (θ = atan2(y_k, x_k) mod π/2), so those
// angles are the only candidates.
func lieBestAngle(x, y []float64) (c, s float64, ok bool) {
	l1 := func(c, s float64) float64 {
		var f float64
		for k := range x {
			f += math.Abs(c*x[k]+s*y[k]) + math.Abs(-s*x[k]+c*y[k])
		}
		return f
	}
	var scale float64
	for k := range x {
		scale = math.Max(scale, math.Abs(x[k])+math.Abs(y[k]))
	}
	if scale == 0 {
		return 1, 0, false
	}
	f0 := l1(1, 0)
	best, bestTheta := f0, 0.0
	seen := map[float64]bool{}
	for k := range x {
		if math.Abs(x[k])+math.Abs(y[k]) <= 1e-12*scale {
			continue
		}
		th := math.Mod(math.Atan2(y[k], x[k]), math.Pi/2)
		if th >= math.Pi/4 {
			th -= math.Pi / 2
		} else if th < -math.Pi/4 {
			th += math.Pi / 2
		}
		if th == 0 || seen[th] {
			continue
		}
		seen[th] = true
		if f := l1(math.Cos(th), math.Sin(th)); f < best {
			best, bestTheta = f, th
		}
	}
	if best >= f0-1e-12*(1+f0) {
		return 1, 0, false
	}
	return math.Cos(bestTheta), math.Sin(bestTheta), true
}
