package lie

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"gonum.org/v1/gonum/mat"
)

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
		R := identity(N)
		if r > 0 {
			R = randomOrthogonal(rng, N)
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
		jacobiL1(M, R)
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
	a = zeroCube(N)
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

// jacobiL1 minimises the L1 norm of the rows of M by Givens rotations of
// pairs of rows, applying each rotation to R too, until a sweep changes
// nothing (or 200 sweeps).
func jacobiL1(M, R [][]float64) {
	N := len(M)
	for sweep := 0; sweep < 200; sweep++ {
		changed := false
		for p := 0; p < N; p++ {
			for q := p + 1; q < N; q++ {
				c, s, ok := bestAngle(M[p], M[q])
				if !ok {
					continue
				}
				rotate(M[p], M[q], c, s)
				rotate(R[p], R[q], c, s)
				changed = true
			}
		}
		if !changed {
			return
		}
	}
}

// rotate replaces (x, y) by (c x + s y, −s x + c y).
func rotate(x, y []float64, c, s float64) {
	for k := range x {
		x[k], y[k] = c*x[k]+s*y[k], -s*x[k]+c*y[k]
	}
}

// bestAngle returns the rotation (cos θ, sin θ) of the rows x, y that
// minimises Σ_k |c x_k + s y_k| + |−s x_k + c y_k|, and whether it improves
// on θ = 0. The objective has period π/2 and is concave between the angles
// where a rotated entry vanishes (θ = atan2(y_k, x_k) mod π/2), so those
// angles are the only candidates.
func bestAngle(x, y []float64) (c, s float64, ok bool) {
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
