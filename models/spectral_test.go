package models

import (
	"math"
	"testing"

	"github.com/liesweep/liesweep/datasets"
)

// TestSpectralInitFindsTheSymmetry: for ψ = x0² + x1² + Σ_{j≥2} sin(x_j)
// at ℓ = 8, whose one linear symmetry is the rotation of the (x0, x1)
// plane, the smallest eigenvector is that rotation (‖G‖_F² = 2, its
// L_inv ≈ 0) and the next eigenvalue is far above; for |x|² in R³ the
// three smallest are so(3) (all ≈ 0) and the fourth is not.
func TestSpectralInitFindsTheSymmetry(t *testing.T) {
	src := "x0^2 + x1^2"
	for j := 2; j < 8; j++ {
		src += " + sin(x" + string(rune('0'+j)) + ")"
	}
	o, err := exprOracle(8, src)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewGeneratorSet(GenLinear, 8, 2, nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	vals, err := SpectralInit(o, datasets.GaussianSamples(500, 8, 3, 0), s, 1e-4)
	if err != nil {
		t.Fatal(err)
	}
	g := s.Matrix(0)
	var off, fro float64
	for r := range g {
		for c := range g[r] {
			fro += g[r][c] * g[r][c]
			if (r >= 2 || c >= 2) && g[r][c] != 0 {
				off += g[r][c] * g[r][c]
			}
		}
	}
	if math.Abs(fro-2) > 1e-9 || off > 1e-8 || math.Abs(g[0][1]+g[1][0]) > 1e-6 || math.Abs(math.Abs(g[0][1])-1) > 1e-4 || vals[0] > 1e-8 || vals[1] < 1e-2 {
		t.Errorf("first generator %v (‖G‖² %v, outside the plane %v), eigenvalues %v", g[:2], fro, off, vals)
	}

	ex, err := datasets.AnalyticOracle("norm", 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	s3, err := NewGeneratorSet(GenLinear, 3, 4, nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	vals, err = SpectralInit(NewExprOracle(3, ex), datasets.GaussianSamples(300, 3, 3, 0), s3, 1e-4)
	if err != nil {
		t.Fatal(err)
	}
	if vals[2] > 1e-8 || vals[3] < 1e-2 {
		t.Errorf("|x|² in R³: eigenvalues %v, want three ≈ 0 (so(3)) and a fourth well above", vals)
	}
	an, err := Analyze(NewExprOracle(3, ex), &GeneratorSet{Kind: GenLinear, Dim: 3, N: 3, Params: s3.Params[:3]}, datasets.GaussianSamples(200, 3, 4, 1), GenConfig{Kind: GenLinear, N: 3, Orthogonality: OrthoGlobal, Normalization: NormFrobenius, Epsilon: 1e-3}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if an.Metrics.InvRatio > 1e-6 || an.Metrics.ClosureRel > 1e-8 || an.Metrics.OrthoCos2 > 1e-12 {
		t.Errorf("the three smallest eigenvectors of |x|²: %+v, want so(3) (invariant, closed, orthogonal)", an.Metrics)
	}
	if _, err := SpectralInit(NewExprOracle(3, ex), datasets.GaussianSamples(10, 3, 3, 0), &GeneratorSet{Kind: GenMLP, Dim: 3, N: 1}, 1e-4); err == nil {
		t.Error("MLP generators accepted")
	}
}
