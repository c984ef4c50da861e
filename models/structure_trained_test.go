package models

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/liesweep/liesweep/datasets"
	"github.com/liesweep/liesweep/lie"
	"github.com/liesweep/liesweep/sweeps"
)

// trainAlgebra trains n linear generators on the oracle and returns the
// analysis and the trained set.
func trainAlgebra(t *testing.T, oracle string, dim, n int, exprs []string, epochs int, lr float64) (*Analysis, *GeneratorSet, [][]float64) {
	t.Helper()
	ex, err := datasets.AnalyticOracle(oracle, dim, exprs)
	if err != nil {
		t.Fatal(err)
	}
	o := NewExprOracle(dim, ex)
	z := datasets.GaussianSamples(300, dim, 1, 0)
	eval := datasets.GaussianSamples(300, dim, 1, 1)
	cfg := GenConfig{Kind: GenLinear, N: n, Orthogonality: OrthoGlobal, Normalization: NormFrobenius, Closure: ClosureJoint,
		Epochs: epochs, LR: lr, Epsilon: 1e-3, HNorm: 1, HOrtho: 1, HClosure: 1, Seed: 1}
	res, err := TrainGenerators(context.Background(), o, z, cfg, Hooks{Plateau: &Plateau{Window: 250, Tol: 0.01}})
	if err != nil {
		t.Fatal(err)
	}
	an, err := Analyze(o, res.Set, eval, cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	m := an.Metrics
	if m.InvRatio > 1e-2 || m.OrthoCos2 > 1e-2 || m.NormDev > 0.1 || m.ClosureRel > 0.1 {
		t.Fatalf("%s dim %d N_g %d did not train to a closed algebra: %+v", oracle, dim, n, m)
	}
	return an, res.Set, eval
}

// TestStructureOfTrainedGenerators: the algebras that trained generators
// span are named from their structure constants — not from hand-made ones.
func TestStructureOfTrainedGenerators(t *testing.T) {
	if testing.Short() {
		t.Skip("trains generators")
	}
	cases := []struct {
		label, oracle string
		dim, n        int
		exprs         []string
		epochs        int
		name          string // substring of the algebra's name
		ideals        []sweeps.Ideal
		sparse        bool // so(n): ≤ 2 non-zeros per matrix, constants in {−1, 0, 1}
	}{
		{"so(2)", "norm", 2, 1, nil, 3000, "u(1)", []sweeps.Ideal{{Dim: 1, Kind: lie.IdealAbelian}}, true},
		{"so(3)", "norm", 3, 3, nil, 3000, "so(3)", []sweeps.Ideal{{Dim: 3, Kind: lie.IdealSimple, KillingSignature: sweeps.Signature{Neg: 3}}}, true},
		{"so(4)", "norm", 4, 6, nil, 3000, "su(2) ⊕ su(2)", []sweeps.Ideal{
			{Dim: 3, Kind: lie.IdealSimple, KillingSignature: sweeps.Signature{Neg: 3}},
			{Dim: 3, Kind: lie.IdealSimple, KillingSignature: sweeps.Signature{Neg: 3}}}, true},
		{"so(5)", "norm", 5, 10, nil, 3000, "so(5)", []sweeps.Ideal{{Dim: 10, Kind: lie.IdealSimple, KillingSignature: sweeps.Signature{Neg: 10}}}, false},
		{"so(1,3)", "lorentz", 4, 6, nil, 3000, "sl(2,C)", []sweeps.Ideal{{Dim: 6, Kind: lie.IdealSimple, KillingSignature: sweeps.Signature{Pos: 3, Neg: 3}}}, false},
		{"so(2)⊕so(2)", "expr", 4, 2, []string{"x0^2 + x1^2", "x2^2 + x3^2"}, 3000, "u(1)^2", []sweeps.Ideal{{Dim: 2, Kind: lie.IdealAbelian}}, false},
	}
	for _, c := range cases {
		t.Run(c.label, func(t *testing.T) {
			an, set, eval := trainAlgebra(t, c.oracle, c.dim, c.n, c.exprs, c.epochs, 1e-2)
			st := lie.Decompose(an.Structure, lie.StructureTol(an.Metrics.ClosureRel))
			t.Logf("%s: closure_rel %.2g, tol %.3g: %s — %s", c.label, an.Metrics.ClosureRel, st.Tol, st.Name, st.Words)
			if !strings.Contains(st.Name, c.name) {
				t.Errorf("named %q, want %q", st.Name, c.name)
			}
			if len(st.Decomposition) != len(c.ideals) {
				t.Fatalf("decomposition %+v, want %d parts", st.Decomposition, len(c.ideals))
			}
			for i, want := range c.ideals {
				got := st.Decomposition[i]
				if got.Dim != want.Dim || got.Kind != want.Kind || (want.Kind == lie.IdealSimple && got.KillingSignature != want.KillingSignature) {
					t.Errorf("part %d: %d-dim %s %+v, want %d-dim %s %+v", i, got.Dim, got.Kind, got.KillingSignature, want.Dim, want.Kind, want.KillingSignature)
				}
			}
			sb, err := set.Sparse(eval)
			if err != nil {
				t.Fatal(err)
			}
			if !c.sparse {
				return
			}
			for a, m := range sb.Matrices {
				var big float64
				for _, row := range m {
					for _, v := range row {
						big = math.Max(big, math.Abs(v))
					}
				}
				nz := 0
				for _, row := range set.GeneratorMatricesIn(sb.Rotation[a]) {
					for _, v := range row {
						if math.Abs(v) > 1e-3*big {
							nz++
						}
					}
				}
				if nz > 2 {
					t.Errorf("sparse generator %d has %d entries above 1e-3 of its largest: %v", a, nz, m)
				}
			}
			for x := range sb.StructureConstants {
				for y := range sb.StructureConstants[x] {
					for g, v := range sb.StructureConstants[x][y] {
						if d := math.Min(math.Abs(v), math.Abs(math.Abs(v)-1)); d > 2e-2 {
							t.Errorf("a_[%d%d]%d = %.4f in the sparse basis, want 0 or ±1", x, y, g, v)
						}
					}
				}
			}
		})
	}
}

// TestSparseBasisOfMLPGenerators: MLP generators get a sparse basis too,
// from their Jacobians at the mean of the points, marked linearised.
func TestSparseBasisOfMLPGenerators(t *testing.T) {
	set, err := NewGeneratorSet(GenMLP, 3, 2, []int{8, 8}, 1)
	if err != nil {
		t.Fatal(err)
	}
	pts := datasets.GaussianSamples(50, 3, 1, 0)
	sb, err := set.Sparse(pts)
	if err != nil {
		t.Fatal(err)
	}
	if !sb.Linearised || len(sb.Matrices) != 2 || len(sb.Matrices[0]) != 3 || len(sb.Point) != 3 {
		t.Errorf("sparse basis of 2 MLP generators on R^3: linearised %v, %d matrices, point %v", sb.Linearised, len(sb.Matrices), sb.Point)
	}
}
