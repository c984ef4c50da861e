package models

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// Generator initialisations (GenConfig.Init).
const (
	InitRandom   = "random"   // small random weights ("" too)
	InitSpectral = "spectral" // linear generators: the minimisers of L_inv
)

// MaxSpectralDim bounds ℓ for the spectral initialisation: its matrix has
// ℓ⁴ entries (8 MiB at ℓ = 32).
const MaxSpectralDim = 32

// maxSpectralPoints caps the points the spectral matrix sums over.
const maxSpectralPoints = 2000

// SpectralInit sets the matrices of a linear generator set to the global
// minimisers of the invariance term on the points z, under the frobenius
// normalisation and global orthogonality:
//
//	L_inv(G) = Σ_i Σ_c (∂ψ_c(z_i) · G z_i)² = vec(G)ᵀ M vec(G),
//	M = Σ_i Σ_c a_ic a_icᵀ,  a_ic = ∂ψ_c(z_i) ⊗ z_i,
//
// a quadratic form in G's ℓ² entries, so its minimisers with ‖G‖_F² = 2
// and ⟨G_α, G_β⟩ = 0 are √2 times the eigenvectors of M with the N
// smallest eigenvalues. Training from them starts at the best N flows the
// invariance term allows (a Rayleigh quotient has no other minima, but
// gradient descent on ℓ² entries can take long to reach it) and the
// closure term then only has to rotate them within their span. ∂ψ is
// taken by central differences of step h. It returns L_inv of each of
// the N matrices set, per point and output (2λ for eigenvalue λ, the
// matrix being √2 times the unit eigenvector).
func SpectralInit(o Oracle, z [][]float64, s *GeneratorSet, h float64) ([]float64, error) {
	if s.Kind != GenLinear {
		return nil, fmt.Errorf("spectral init: %s generators have no matrix; it needs linear ones", s.Kind)
	}
	l, k := s.Dim, o.OutDim()
	if l > MaxSpectralDim {
		return nil, fmt.Errorf("spectral init: ℓ = %d is over the bound of %d (its matrix has ℓ⁴ entries)", l, MaxSpectralDim)
	}
	if s.N > l*l {
		return nil, fmt.Errorf("spectral init: N_g = %d is over the ℓ² = %d matrices there are", s.N, l*l)
	}
	if len(z) > maxSpectralPoints {
		z = z[:maxSpectralPoints]
	}
	probe := make([][]float64, 0, 2*l*len(z))
	for _, p := range z {
		for j := 0; j < l; j++ {
			for _, d := range []float64{h, -h} {
				q := append([]float64(nil), p...)
				q[j] += d
				probe = append(probe, q)
			}
		}
	}
	psi, err := EvalOracle(o, probe)
	if err != nil {
		return nil, fmt.Errorf("spectral init: %w", err)
	}
	// rows a_ic of A, so that M = AᵀA
	a := mat.NewDense(len(z)*k, l*l, nil)
	for i, p := range z {
		for c := 0; c < k; c++ {
			row := a.RawRowView(i*k + c)
			for j := 0; j < l; j++ {
				g := (psi[(i*l+j)*2][c] - psi[(i*l+j)*2+1][c]) / (2 * h)
				for kk, v := range p {
					row[j*l+kk] = g * v
				}
			}
		}
	}
	var m mat.SymDense
	m.SymOuterK(1, a.T())
	var eig mat.EigenSym
	if !eig.Factorize(&m, true) {
		return nil, fmt.Errorf("spectral init: the eigendecomposition did not converge")
	}
	vals := eig.Values(nil)
	var vecs mat.Dense
	eig.VectorsTo(&vecs)
	norm := float64(len(z) * k)
	out := make([]float64, s.N)
	for alpha := 0; alpha < s.N; alpha++ {
		dst := s.Params[alpha].Float64s()
		for i := range dst {
			dst[i] = math.Sqrt2 * vecs.At(i, alpha)
		}
		out[alpha] = 2 * math.Max(0, vals[alpha]) / norm
	}
	return out, nil
}
