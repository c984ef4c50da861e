package lie

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// killingForm returns K_αβ = tr(ad_α ad_β), or nil for n = 0.
func killingForm(ads [][]float64, n int) *mat.SymDense {
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

// signatureOf counts the eigenvalues of K by sign, those below
// tol × max(1, largest |eigenvalue|) as zero.
func signatureOf(K *mat.SymDense, tol float64) Signature {
	var sig Signature
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

// Killing returns the Killing form K_αβ = tr(ad_α ad_β) of the algebra with
// structure constants a (antisymmetrised in α, β first), or nil for an empty
// or malformed a.
func Killing(a [][][]float64) *mat.SymDense {
	n, err := checkConstants(a)
	if err != nil {
		return nil
	}
	return killingForm(adjoints(antisym(a, n)), n)
}

// KillingSignature counts the eigenvalues of the Killing form of a by sign,
// those below tol × max(1, largest |eigenvalue|) as zero.
func KillingSignature(a [][][]float64, tol float64) Signature {
	return signatureOf(Killing(a), tol)
}

// AlgebraTol is the tolerance of the algebra classification: structure
// constants, singular values and Killing eigenvalues below it (relative to
// the largest, when that exceeds 1) count as zero. Learned constants of
// normalised generators are O(1), so this sits well above their noise.
const AlgebraTol = 1e-2

// Classify derives the algebra's invariants from structure constants
// a[α][β][γ] (with [J_α, J_β] = Σ_γ a_[αβ]γ J_γ): its dimension, whether it is
// abelian, the dimension of the derived algebra [g, g] (the rank of the
// brackets' coefficient vectors) and the signature of the Killing form
//
//	K_αβ = Σ_{γ,δ} a_[αδ]γ a_[βγ]δ = tr(ad_α ad_β),  (ad_α)_γδ = a_[αδ]γ.
//
// Negative definite K means compact semisimple (e.g. so(3)); indefinite and
// non-degenerate means non-compact semisimple (e.g. so(1,3)).
func Classify(a [][][]float64) Algebra {
	n := len(a)
	alg := Algebra{Dim: n, Abelian: true}
	if n == 0 {
		alg.Description = "empty"
		return alg
	}
	var maxA float64
	for x := range a {
		for y := range a[x] {
			for _, v := range a[x][y] {
				maxA = math.Max(maxA, math.Abs(v))
			}
		}
	}
	alg.Abelian = maxA < AlgebraTol
	pairs := Pairs(n)
	if len(pairs) > 0 && !alg.Abelian {
		rows := mat.NewDense(len(pairs), n, nil)
		for i, p := range pairs {
			rows.SetRow(i, a[p[0]][p[1]])
		}
		var svd mat.SVD
		if svd.Factorize(rows, mat.SVDNone) {
			sv := svd.Values(nil)
			tol := AlgebraTol * math.Max(1, sv[0])
			for _, v := range sv {
				if v > tol {
					alg.DerivedDim++
				}
			}
		}
	}
	alg.KillingSignature = signatureOf(killingForm(adjoints(a), n), AlgebraTol)
	alg.Description = describe(alg)
	return alg
}

func describe(a Algebra) string {
	d := fmt.Sprintf("%d-dimensional", a.Dim)
	if a.Abelian {
		return d + " abelian algebra (all brackets vanish)"
	}
	d += fmt.Sprintf(" non-abelian algebra, derived algebra [g,g] of dimension %d", a.DerivedDim)
	s := a.KillingSignature
	switch {
	case s.Neg == a.Dim:
		d += ", Killing form negative definite: compact semisimple (the structure analysis names it)"
	case s.Zero == 0 && s.Pos > 0 && s.Neg > 0:
		d += fmt.Sprintf(", Killing form indefinite (%d+, %d−): non-compact semisimple (the structure analysis names it)", s.Pos, s.Neg)
	case s.Zero == a.Dim:
		d += ", Killing form zero: nilpotent or solvable"
	default:
		d += fmt.Sprintf(", Killing form degenerate (%d+, %d−, %d zero): not semisimple", s.Pos, s.Neg, s.Zero)
	}
	return d
}

// StructureTol is the tolerance for Decompose of learned structure constants
// whose least-squares residual is closureRel (the largest relative residual
// of Constants): learned constants are off by about √closureRel relative
// (closureRel is a squared relative residual), so twice that, but never
// below AlgebraTol nor above 0.1.
func StructureTol(closureRel float64) float64 {
	if !(closureRel >= 0) {
		return 0.1
	}
	return min(0.1, max(AlgebraTol, 2*math.Sqrt(closureRel)))
}
