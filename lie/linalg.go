package lie

import (
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// matVec returns A v for the row-major n×n matrix A.
func matVec(A []float64, n int, v []float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = dot(A[i*n:(i+1)*n], v)
	}
	return out
}

func dot(a, b []float64) float64 {
	var s float64
	for i, v := range a {
		s += v * b[i]
	}
	return s
}

func norm(a []float64) float64 { return math.Sqrt(dot(a, a)) }

func identity(n int) [][]float64 {
	out := make([][]float64, n)
	for i := range out {
		out[i] = make([]float64, n)
		out[i][i] = 1
	}
	return out
}

func gauss(rng *rand.Rand, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = rng.NormFloat64()
	}
	return out
}

// dense packs rows (at least one) into a matrix with cols columns.
func dense(rows [][]float64, cols int) *mat.Dense {
	m := mat.NewDense(len(rows), cols, nil)
	for i, r := range rows {
		m.SetRow(i, r)
	}
	return m
}

// rowSpan returns an orthonormal basis (rows) of the span of rows:
// the right singular vectors whose singular values exceed
// tol × max(1, largest).
func rowSpan(rows [][]float64, n int, tol float64) [][]float64 {
	if len(rows) == 0 || n == 0 {
		return nil
	}
	var svd mat.SVD
	if !svd.Factorize(dense(rows, n), mat.SVDThinV) {
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

// nullSpace returns an orthonormal basis (rows) of {x ∈ Rⁿ : M x = 0}
// where M has the given rows; singular values up to tol × max(1, largest)
// count as zero.
func nullSpace(rows [][]float64, n int, tol float64) [][]float64 {
	if len(rows) == 0 {
		return identity(n)
	}
	return nullSpaceDense(dense(rows, n), tol)
}

func nullSpaceDense(M *mat.Dense, tol float64) [][]float64 {
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

// complement returns an orthonormal basis of the orthogonal complement of
// the span of the orthonormal rows basis.
func complement(basis [][]float64, n int) [][]float64 {
	return nullSpace(basis, n, 1e-9)
}

// topRows returns the k leading right singular vectors of rows (an
// orthonormal basis of their span when it is k-dimensional), or nil when the
// k-th singular value is below rel × the first.
func topRows(rows [][]float64, n, k int, rel float64) [][]float64 {
	if k == 0 || len(rows) < k {
		return nil
	}
	var svd mat.SVD
	if !svd.Factorize(dense(rows, n), mat.SVDThinV) {
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

// orthonormal returns an orthonormal basis of the span of the independent
// rows, or rows itself when they are numerically dependent.
func orthonormal(rows [][]float64, n int) [][]float64 {
	if out := topRows(rows, n, len(rows), 1e-12); out != nil {
		return out
	}
	return rows
}

// mapRows returns rows × work: coefficients over work's rows turned into
// vectors of Rⁿ.
func mapRows(rows, work [][]float64, n int) [][]float64 {
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

// unionFind is a disjoint-set forest over 0..n−1.
type unionFind []int

func newUnionFind(n int) unionFind {
	u := make(unionFind, n)
	for i := range u {
		u[i] = i
	}
	return u
}

func (u unionFind) find(i int) int {
	for u[i] != i {
		u[i] = u[u[i]]
		i = u[i]
	}
	return i
}

func (u unionFind) union(i, j int) {
	a, b := u.find(i), u.find(j)
	if a < b {
		u[b] = a
	} else if b < a {
		u[a] = b
	}
}

// groups returns the sets, each in increasing order, ordered by their
// smallest member.
func (u unionFind) groups() [][]int {
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

// randomOrthogonal returns a random N×N orthogonal matrix (the Q factor
// of a Gaussian matrix).
func randomOrthogonal(rng *rand.Rand, N int) [][]float64 {
	g := mat.NewDense(N, N, nil)
	for i := 0; i < N; i++ {
		g.SetRow(i, gauss(rng, N))
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
