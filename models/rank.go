package models

import (
	"fmt"

	"gonum.org/v1/gonum/mat"
)

// RankTol is the relative tolerance of OracleRank: a singular value of
// ∂ψ(z) counts when it is above RankTol times the largest.
const RankTol = 1e-3

// OracleRank measures the rank of ψ's Jacobian ∂ψ(z) (k outputs × ℓ
// inputs) at each point, by central differences of step h in every input
// direction and a singular value decomposition, and returns the rank most
// points have (the larger on a tie) and each point's.
//
// ℓ − rank is how many independent fields tangent to ψ's level sets exist
// near a point for any smooth ψ of that rank: flows that MLP generators
// can always find, whatever the data, and that say nothing about a
// symmetry unless they also close (issue 20's trivial bound). A point
// where ∂ψ vanishes has rank 0.
func OracleRank(o Oracle, z [][]float64, h float64) (rank int, ranks []int, err error) {
	l, k := o.InDim(), o.OutDim()
	if len(z) == 0 {
		return 0, nil, fmt.Errorf("oracle rank: no points")
	}
	probe := make([][]float64, 0, 2*l*len(z))
	for _, p := range z {
		if len(p) != l {
			return 0, nil, fmt.Errorf("oracle rank: a point of dimension %d for ψ of %d inputs", len(p), l)
		}
		for j := 0; j < l; j++ {
			for _, s := range []float64{h, -h} {
				q := append([]float64(nil), p...)
				q[j] += s
				probe = append(probe, q)
			}
		}
	}
	psi, err := EvalOracle(o, probe)
	if err != nil {
		return 0, nil, err
	}
	ranks = make([]int, len(z))
	count := make([]int, min(k, l)+1)
	jac := mat.NewDense(k, l, nil)
	var svd mat.SVD
	for i := range z {
		for j := 0; j < l; j++ {
			plus, minus := psi[(i*l+j)*2], psi[(i*l+j)*2+1]
			for c := 0; c < k; c++ {
				jac.Set(c, j, (plus[c]-minus[c])/(2*h))
			}
		}
		if !svd.Factorize(jac, mat.SVDNone) {
			return 0, nil, fmt.Errorf("oracle rank: the SVD of ∂ψ at point %d did not converge", i)
		}
		sv := svd.Values(nil)
		r := 0
		for _, s := range sv {
			if s > RankTol*sv[0] {
				r++
			}
		}
		ranks[i] = r
		count[r]++
	}
	for r := range count {
		if count[r] >= count[rank] {
			rank = r
		}
	}
	return rank, ranks, nil
}
