package lie

import (
	"testing"
)

// ltLevi is the Levi-Civita symbol ε_ijk.
func ltLevi(i, j, k int) float64 {
	return float64((i-j)*(j-k)*(k-i)) / 2
}

// TestClassifyFromConstants: so(3) (scaled) has a negative definite Killing
// form and is its own derived algebra; the Heisenberg algebra is nilpotent
// with a one-dimensional derived algebra and a zero Killing form.
func TestClassifyFromConstants(t *testing.T) {
	eps := make([][][]float64, 3)
	for i := range eps {
		eps[i] = ltZeros(3)
		for j := range eps[i] {
			for k := range eps[i][j] {
				eps[i][j][k] = 2 * ltLevi(i, j, k) // scaled so(3): K = −8 I
			}
		}
	}
	if a := Classify(eps); a.KillingSignature != (Signature{Neg: 3}) || a.DerivedDim != 3 {
		t.Errorf("so(3): %+v", a)
	}
	// Heisenberg algebra: [J1, J2] = J3, J3 central: nilpotent, derived dim 1.
	h := make([][][]float64, 3)
	for i := range h {
		h[i] = ltZeros(3)
	}
	h[0][1][2], h[1][0][2] = 1, -1
	if a := Classify(h); a.Abelian || a.DerivedDim != 1 || a.KillingSignature != (Signature{Zero: 3}) {
		t.Errorf("heisenberg: %+v", a)
	}
}
