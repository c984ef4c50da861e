package models

import (
	"math"
	"testing"

	"github.com/liesweep/liesweep/sweeps"

	"github.com/liesweep/liesweep/datasets"
	G "gorgonia.org/gorgonia"
)

// levi is the Levi-Civita symbol ε_ijk.
func levi(i, j, k int) float64 {
	return float64((i - j) * (j - k) * (k - i) / 2)
}

// linearSet builds a linear generator set whose matrices are mats.
func linearSet(t *testing.T, mats [][][]float64) *GeneratorSet {
	t.Helper()
	n := len(mats[0])
	s, err := NewGeneratorSet(GenLinear, n, len(mats), nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	for a, m := range mats {
		copy(s.Params[a].Float64s(), flatten(m))
	}
	return s
}

// so3 returns A_i = −L_i with (L_i)_jk = −ε_ijk, the rotation generators
// whose vector fields satisfy [J_i, J_j] = ε_ijk J_k in this package's
// bracket convention (DJ_β·J_α − DJ_α·J_β = [A_β, A_α] z).
func so3() [][][]float64 {
	var out [][][]float64
	for i := 0; i < 3; i++ {
		m := make([][]float64, 3)
		for j := range m {
			m[j] = make([]float64, 3)
			for k := range m[j] {
				m[j][k] = levi(i, j, k)
			}
		}
		out = append(out, m)
	}
	return out
}

func zeros(n int) [][]float64 {
	m := make([][]float64, n)
	for i := range m {
		m[i] = make([]float64, n)
	}
	return m
}

// so13 returns three rotations of x1..x3 and three boosts mixing x0 with
// x_i: the generators of the Lorentz algebra so(1,3).
func so13() [][][]float64 {
	var out [][][]float64
	for i := 0; i < 3; i++ {
		m := zeros(4)
		for j := 0; j < 3; j++ {
			for k := 0; k < 3; k++ {
				m[j+1][k+1] = levi(i, j, k)
			}
		}
		out = append(out, m)
	}
	for i := 1; i <= 3; i++ {
		m := zeros(4)
		m[0][i], m[i][0] = 1, 1
		out = append(out, m)
	}
	return out
}

func matMul(a, b [][]float64) [][]float64 {
	n := len(a)
	out := zeros(n)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			for k := 0; k < n; k++ {
				out[i][j] += a[i][k] * b[k][j]
			}
		}
	}
	return out
}

// TestBracketOfLinearFields checks the documented convention: for
// J_α(z) = G_α z the vector-field bracket DJ_β·J_α − DJ_α·J_β equals
// [G_β, G_α] z = −[G_α, G_β] z, exactly up to rounding.
func TestBracketOfLinearFields(t *testing.T) {
	s, err := NewGeneratorSet(GenLinear, 4, 2, nil, 11)
	if err != nil {
		t.Fatal(err)
	}
	z := datasets.GaussianSamples(5, 4, 2, 0)
	vals, err := evalGraph(func(g *G.ExprGraph) ([]*G.Node, error) {
		b := newBinder(g)
		x := matrixNode(g, "z", z)
		f0, _ := s.apply(b, 0, x)
		f1, _ := s.apply(b, 1, x)
		br, err := s.bracket(b, 0, 1, x, f0, f1)
		return []*G.Node{br}, err
	})
	if err != nil {
		t.Fatal(err)
	}
	g0, g1 := s.Matrix(0), s.Matrix(1)
	p, q := matMul(g1, g0), matMul(g0, g1)
	for i, zi := range z {
		for r := 0; r < 4; r++ {
			var want float64
			for c := 0; c < 4; c++ {
				want += (p[r][c] - q[r][c]) * zi[c]
			}
			if got := vals[0][i*4+r]; math.Abs(got-want) > 1e-9 {
				t.Errorf("point %d component %d: bracket %.12g, [G_β,G_α]z %.12g", i, r, got, want)
			}
		}
	}
}

func analyzeLinear(t *testing.T, oracle string, mats [][][]float64) *Analysis {
	t.Helper()
	n := len(mats[0])
	ex, err := datasets.AnalyticOracle(oracle, n, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := linearSet(t, mats)
	cfg := GenConfig{Kind: GenLinear, N: len(mats), Orthogonality: OrthoGlobal, Normalization: NormFrobenius, Epsilon: 1e-3}
	an, err := Analyze(NewExprOracle(n, ex), s, datasets.GaussianSamples(200, n, 4, 1), cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	return an
}

// TestSO3StructureConstants: the rotation generators of R³ close with
// a_[ij]k = ε_ijk, zero residual, a negative definite Killing form
// (K = −2 I analytically) and a 3-dimensional derived algebra.
func TestSO3StructureConstants(t *testing.T) {
	an := analyzeLinear(t, "norm", so3())
	for i := 0; i < 3; i++ {
		for j := 0; j < 3; j++ {
			for k := 0; k < 3; k++ {
				if got, want := an.Structure[i][j][k], levi(i, j, k); math.Abs(got-want) > 1e-8 {
					t.Errorf("a[%d][%d][%d] = %.10g, want ε = %g", i, j, k, got, want)
				}
			}
		}
	}
	if an.Metrics.ClosureRel > 1e-12 {
		t.Errorf("closure_rel = %g, want ≈ 0", an.Metrics.ClosureRel)
	}
	if an.Metrics.InvRatio > 1e-4 {
		t.Errorf("inv_ratio = %g: rotations preserve the norm, want ≪ 1", an.Metrics.InvRatio)
	}
	if an.Metrics.OrthoCos2 > 1e-20 || an.Metrics.NormDev > 1e-20 {
		t.Errorf("ortho_cos2 %g, norm_dev %g: the basis is Frobenius-orthonormal with ‖A‖² = 2", an.Metrics.OrthoCos2, an.Metrics.NormDev)
	}
	a := an.Algebra
	if a.Abelian || a.DerivedDim != 3 || a.KillingSignature != (sweeps.Signature{Neg: 3}) {
		t.Errorf("algebra %+v, want non-abelian, derived dim 3, Killing (0+, 3−, 0)", a)
	}
}

// TestSO13KillingIndefinite: the Lorentz generators preserve
// x0² − Σ x_i², close, and have an indefinite Killing form (3+, 3−).
func TestSO13KillingIndefinite(t *testing.T) {
	an := analyzeLinear(t, "lorentz", so13())
	if an.Metrics.ClosureRel > 1e-12 {
		t.Errorf("closure_rel = %g, want ≈ 0", an.Metrics.ClosureRel)
	}
	if an.Metrics.InvRatio > 1e-4 {
		t.Errorf("inv_ratio = %g, want ≪ 1", an.Metrics.InvRatio)
	}
	a := an.Algebra
	if a.Abelian || a.DerivedDim != 6 || a.KillingSignature != (sweeps.Signature{Pos: 3, Neg: 3}) {
		t.Errorf("algebra %+v, want derived dim 6, Killing (3+, 3−, 0)", a)
	}
}

// TestAbelianPairAndOpenPair: two commuting rotations of R⁴ form an abelian
// pair (residual 0, not 0/0); two rotations of R³ do not close: their
// bracket is the third rotation, orthogonal to their span in L²(N(0, I)),
// so the residual is 1 up to the sampling correlation of 200 points
// (O(1/m) in the projected fraction; 0.05 leaves a wide margin).
func TestAbelianPairAndOpenPair(t *testing.T) {
	r01, r23 := zeros(4), zeros(4)
	r01[0][1], r01[1][0] = -1, 1
	r23[2][3], r23[3][2] = -1, 1
	an := analyzeLinear(t, "norm", [][][]float64{r01, r23})
	if an.PairResidual[0] != 0 || !an.Algebra.Abelian || an.Algebra.KillingSignature != (sweeps.Signature{Zero: 2}) {
		t.Errorf("commuting rotations: residual %v, algebra %+v; want abelian with residual 0", an.PairResidual, an.Algebra)
	}
	an = analyzeLinear(t, "norm", so3()[:2])
	if r := an.Metrics.ClosureRel; r < 0.95 || r > 1 {
		t.Errorf("two rotations of R³: closure_rel %g, want 1", r)
	}
}
