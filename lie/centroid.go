package lie

import (
	"math"
	"math/cmplx"
	"sort"

	"gonum.org/v1/gonum/mat"
)

// adaptedBasis returns a real basis (columns of V) adapted to the
// eigen-decomposition of the m×m matrix adx: eigenvalues are grouped into
// clusters closed under conjugation (closer than tol × max|λ|), and each
// cluster contributes an orthonormal basis of the real span of its
// eigenvectors. blocks holds the cluster sizes in column order. V is nil when
// the decomposition fails or an eigenbasis is numerically defective.
func adaptedBasis(adx []float64, m int, tol float64) (*mat.Dense, []int) {
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
	uf := newUnionFind(m)
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
		rows := eigenRows(&vecs, m, members)
		basis := topRows(rows, m, len(members), 1e-8)
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

// eigenRows returns the real and imaginary parts of the eigenvectors
// (columns of vecs) listed in members, as rows.
func eigenRows(vecs *mat.CDense, m int, members []int) [][]float64 {
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

// blockLayout indexes the unknowns of a block-diagonal m×m matrix.
type blockLayout struct {
	off, size, base []int // per block: first row, size, first unknown
	of              []int // per row: its block
	unknowns        int
}

func layout(blocks []int) blockLayout {
	var l blockLayout
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

// centroid returns a basis of the traceless block-diagonal matrices D
// (laid out by lay, flattened block by block, row-major) with A D = D A for
// every A in mats; the identity, always a solution, is excluded by a trace
// row so that every null direction found is informative.
//
// Noise in the constants turns the exact null singular values into small
// ones, amplified by the sensitivity of the adapted basis, so the null space
// is taken at the largest gap among the singular values below √tol × the
// largest (a gap of at least 3×); values below max(tol², 1e-6) × the largest
// are null in any case.
func centroid(mats []*mat.Dense, lay blockLayout, m int, tol float64) [][]float64 {
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

// assemble returns the block-diagonal m×m matrix Σ_k coef_k null_k.
func assemble(lay blockLayout, null [][]float64, coef []float64, m int) *mat.Dense {
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

// groups clusters the eigenvalues vals of a centroid element with c
// distinct eigenvalues into c groups and pairs each group with the group of
// the conjugate eigenvalue (itself for a real-type ideal). It returns the
// group label of each eigenvalue, the group means and partners, or ok false
// when the pairing is inconsistent.
func groups(vals []complex128, c int) (labels []int, means []complex128, partner []int, ok bool) {
	labels = clusterInto(vals, c)
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

// centroidGap scores a centroid element D with c distinct eigenvalues:
// the smallest distance between eigenvalue groups of different ideals,
// relative to the largest |eigenvalue|; 0 when the groups are inconsistent.
func centroidGap(D *mat.Dense, c int) float64 {
	var eig mat.Eigen
	if !eig.Factorize(D, mat.EigenNone) {
		return 0
	}
	_, means, partner, ok := groups(eig.Values(nil), c)
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

// split splits R^m into the eigenspaces of the centroid element X, which
// has c distinct eigenvalues (see groups): a group whose conjugate is
// itself is a real-type ideal, a pair of conjugate groups is a complex-type
// ideal. It returns nil when the pattern is inconsistent.
func split(X *mat.Dense, m, c int) []simplePart {
	var eig mat.Eigen
	if !eig.Factorize(X, mat.EigenRight) {
		return nil
	}
	var vecs mat.CDense
	eig.VectorsTo(&vecs)
	labels, _, partner, ok := groups(eig.Values(nil), c)
	if !ok {
		return nil
	}
	var parts []simplePart
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
		basis := topRows(eigenRows(&vecs, m, members), m, len(members), 1e-6)
		if basis == nil {
			return nil
		}
		parts = append(parts, simplePart{basis: basis, complex: partner[l] != l})
	}
	return parts
}

// clusterInto groups the points vals into c single-linkage clusters (the
// components of their minimum spanning tree less its c−1 longest edges),
// labelled in order of first appearance.
func clusterInto(vals []complex128, c int) []int {
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
	uf := newUnionFind(m)
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

// verify checks that parts are ad-invariant subspaces (within
// tol × max(1, scale)) that together span R^m.
func verify(ads [][]float64, m int, parts []simplePart, tol, scale float64) bool {
	var all [][]float64
	for _, p := range parts {
		all = append(all, p.basis...)
	}
	if len(all) != m || topRows(all, m, m, 1e-6) == nil {
		return false
	}
	thr := tol * math.Max(1, scale)
	for _, p := range parts {
		for _, ad := range ads {
			for _, v := range p.basis {
				w := matVec(ad, m, v)
				for _, u := range p.basis {
					d := dot(u, w)
					for i := range w {
						w[i] -= d * u[i]
					}
				}
				if norm(w) > thr {
					return false
				}
			}
		}
	}
	return true
}
