package lie

import "math"

// JacobiTol bounds JacobiResidual for constants that are named as a Lie
// algebra. Trained generators that close give residuals up to about 0.04
// (closure_rel 0.02–0.07), exact ones ~1e-12; least-squares constants of
// fields that do not close, or that are not determined (more generators
// than the fields can tell apart), gave 0.4–0.9 and were named
// "7-dimensional simple (0+, 0−) ⋉ …", which no Lie algebra is.
const JacobiTol = 0.1

// JacobiResidual is how far structure constants a[α][β][γ] are from
// satisfying the Jacobi identity, relative to the size of its terms:
// √(Σ‖J_αβγ‖²) / max(√Σ(‖t₁‖² + ‖t₂‖² + ‖t₃‖²), ‖a‖²/10) over α < β < γ,
// where J_αβγ = t₁ + t₂ + t₃ = [e_α,[e_β,e_γ]] + [e_β,[e_γ,e_α]] +
// [e_γ,[e_α,e_β]]. It is 0 for a Lie algebra (and for fewer than three
// generators) and near 1 when the terms are unrelated. The floor ‖a‖²/10
// (‖a‖ the Frobenius norm) keeps the double brackets of a nilpotent
// algebra, which vanish but for noise, from reading as unrelated: trained
// constants gave √Σ‖t‖² between 0.19 and 1.2 times ‖a‖². a is read
// antisymmetrised.
func JacobiResidual(a [][][]float64) float64 {
	n, err := checkConstants(a)
	if err != nil || n < 3 {
		return 0
	}
	b := antisym(a, n)
	// [e_x, v] for v = Σ_m v_m e_m: Σ_m v_m b[x][m][·]
	ad := func(x int, v, out []float64) {
		for c := range out {
			out[c] = 0
		}
		for m, vm := range v {
			if vm == 0 {
				continue
			}
			for c, bc := range b[x][m] {
				out[c] += vm * bc
			}
		}
	}
	t1, t2, t3 := make([]float64, n), make([]float64, n), make([]float64, n)
	var num, den float64
	for x := 0; x < n; x++ {
		for y := x + 1; y < n; y++ {
			for z := y + 1; z < n; z++ {
				ad(x, b[y][z], t1)
				ad(y, b[z][x], t2)
				ad(z, b[x][y], t3)
				for c := range t1 {
					s := t1[c] + t2[c] + t3[c]
					num += s * s
					den += t1[c]*t1[c] + t2[c]*t2[c] + t3[c]*t3[c]
				}
			}
		}
	}
	var norm2 float64
	for x := range b {
		for y := range b[x] {
			for _, v := range b[x][y] {
				norm2 += v * v
			}
		}
	}
	scale := max(math.Sqrt(den), norm2/10)
	if scale == 0 {
		return 0
	}
	return math.Sqrt(num) / scale
}
