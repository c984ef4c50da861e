package lie

import (
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// simplePart is a simple ideal found by simpleIdeals: orthonormal
// basis rows in the coordinates of the semisimple algebra it came from, its
// type and its own structure constants in that basis.
type simplePart struct {
	basis   [][]float64
	complex bool
	consts  [][][]float64
}

// simpleIdeal turns a part of the semisimple algebra whose orthonormal
// basis rows (in input coordinates) are work into an Ideal: its basis in
// input coordinates, the signature of its own Killing form and its name.
func simpleIdeal(p simplePart, work [][]float64, n int, tol float64) Ideal {
	k := len(p.basis)
	sig := signatureOf(killingForm(adjoints(p.consts), k), tol)
	id := Ideal{Dim: k, Kind: IdealSimple, KillingSignature: sig, Basis: mapRows(p.basis, work, n), Complex: p.complex}
	id.Name, id.Candidates = simpleName(k, sig, p.complex)
	return id
}

// simpleIdeals splits the semisimple algebra with constants c into its
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
func simpleIdeals(c [][][]float64, tol float64) []simplePart {
	m := len(c)
	if m == 0 {
		return nil
	}
	ads := adjoints(c)
	whole := []simplePart{{basis: identity(m), consts: c}}
	var scale float64
	for _, a := range ads {
		scale = math.Max(scale, norm(a))
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
			ad := adOf(ads, gauss(rng, m), m)
			v, bl := adaptedBasis(ad, m, tol)
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
			adx = adOf(ads, gauss(rng, m), m)
			V, blocks = mat.NewDense(m, m, nil), []int{m}
			for i := 0; i < m; i++ {
				V.Set(i, i, 1)
			}
		}
		others := make([][]float64, 3)
		for i := range others {
			others[i] = adOf(ads, gauss(rng, m), m)
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
		lay := layout(blocks)
		null := centroid(mats, lay, m, tol)
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
			d := assemble(lay, null, gauss(rng, len(null)), m)
			if g := centroidGap(d, len(null)+1); g > bestGap {
				D, bestGap = d, g
			}
		}
		var t, X mat.Dense
		t.Mul(V, D)
		X.Mul(&t, &W)
		parts := split(&X, m, len(null)+1)
		if parts != nil {
			refine(ads, m, parts)
		}
		if parts != nil && verify(ads, m, parts, tol, scale) {
			// A sum of ideals is an ideal too, so a missed centroid
			// direction would merge ideals unnoticed: look into every part
			// that could be a sum (dimension ≥ 6) on its own.
			var out []simplePart
			for _, p := range parts {
				p.consts = restrict(ads, m, p.basis)
				if len(p.basis) < 6 || len(p.basis) == m {
					out = append(out, p)
					continue
				}
				for _, q := range simpleIdeals(p.consts, tol) {
					q.basis = mapRows(q.basis, p.basis, m)
					q.consts = restrict(ads, m, q.basis)
					out = append(out, q)
				}
			}
			return out
		}
	}
	return whole
}

// refine sharpens approximate simple ideals with their Casimir
// operators. For a simple ideal sᵢ with basis p_a and Killing matrix
// K_ab = tr(ad_{p_a} ad_{p_b}), C_i = Σ_ab (K⁻¹)_ab ad_{p_a} ad_{p_b} is the
// projector onto sᵢ along the other ideals (the adjoint Casimir of sᵢ is 1
// on sᵢ, for real and complex type alike, and ad sᵢ kills the others).
// When the p_a are off by ε in the other ideals, the first-order terms
// cancel (the ideals commute and are K-orthogonal), so the column space of
// C_i is off by O(ε²): a few rounds bring the ideals to the noise level of
// the constants.
func refine(ads [][]float64, m int, parts []simplePart) {
	if len(parts) < 2 {
		return
	}
	for round := 0; round < 3; round++ {
		for i := range parts {
			P := parts[i].basis
			k := len(P)
			adP := make([][]float64, k)
			for a := range P {
				adP[a] = adOf(ads, P[a], m)
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
			nb := topRows(cols, m, k, 1e-6)
			if nb == nil {
				return
			}
			parts[i].basis = nb
		}
	}
}
