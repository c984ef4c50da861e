package lie

import (
	"math"
	"testing"
	"time"
)

// ltCheckSparse checks SparseBasis's output: rot reproduces the normalised
// basis from the inputs, each matrix has largest |entry| 1 and at most
// maxNZ non-zeros, and the structure constants lie in {−1, 0, +1}.
func ltCheckSparse(t *testing.T, gens, basis [][][]float64, rot [][]float64, a [][][]float64, maxNZ int) {
	t.Helper()
	for al, b := range basis {
		nz := 0
		var maxAbs float64
		for i := range b {
			for j, v := range b[i] {
				if v != 0 {
					nz++
				}
				maxAbs = math.Max(maxAbs, math.Abs(v))
				var w float64
				for be, r := range rot[al] {
					w += r * gens[be][i][j]
				}
				if math.Abs(w-v) > 1e-3 {
					t.Errorf("matrix %d entry (%d,%d): rot gives %g, basis %g", al, i, j, w, v)
				}
			}
		}
		if nz > maxNZ || math.Abs(maxAbs-1) > 1e-9 {
			t.Errorf("matrix %d: %d non-zeros, max |entry| %g: %v", al, nz, maxAbs, b)
		}
	}
	for x := range a {
		for y := range a[x] {
			for g, v := range a[x][y] {
				if r := math.Round(v); math.Abs(v-r) > 1e-3 || math.Abs(r) > 1 {
					t.Errorf("a[%d][%d][%d] = %g not in {−1, 0, 1}", x, y, g, v)
				}
			}
		}
	}
}

// TestSparseBasisSO: so(3) and so(4) generators mixed by a random rotation
// are unmixed into matrices with two non-zero entries and structure
// constants in {−1, 0, +1}; the output is deterministic.
func TestSparseBasisSO(t *testing.T) {
	for _, n := range []int{3, 4} {
		gens := ltRotate(ltSO(n), uint64(n))
		start := time.Now()
		basis, rot, a, err := SparseBasis(gens)
		t.Logf("so(%d): %v", n, time.Since(start))
		if err != nil {
			t.Fatal(err)
		}
		ltCheckSparse(t, gens, basis, rot, a, 2)
		b2, r2, a2, _ := SparseBasis(gens)
		for al := range basis {
			for i := range basis[al] {
				for j := range basis[al][i] {
					if basis[al][i][j] != b2[al][i][j] {
						t.Fatalf("so(%d): not deterministic", n)
					}
				}
			}
			for be := range rot[al] {
				if rot[al][be] != r2[al][be] || a[al][be][0] != a2[al][be][0] {
					t.Fatalf("so(%d): not deterministic", n)
				}
			}
		}
	}
}

// TestSparseBasisLorentz: so(1,3)'s rotations and boosts, mixed, come apart:
// three antisymmetric and three symmetric matrices.
func TestSparseBasisLorentz(t *testing.T) {
	gens := ltRotate(ltLorentz(), 13)
	start := time.Now()
	basis, rot, a, err := SparseBasis(gens)
	t.Logf("so(1,3): %v", time.Since(start))
	if err != nil {
		t.Fatal(err)
	}
	ltCheckSparse(t, gens, basis, rot, a, 2)
	var anti, sym int
	for al, b := range basis {
		var dA, dS float64
		for i := range b {
			for j := range b[i] {
				dA = math.Max(dA, math.Abs(b[i][j]+b[j][i]))
				dS = math.Max(dS, math.Abs(b[i][j]-b[j][i]))
			}
		}
		switch {
		case dA < 1e-3:
			anti++
		case dS < 1e-3:
			sym++
		default:
			t.Errorf("matrix %d neither symmetric nor antisymmetric: %v", al, b)
		}
	}
	if anti != 3 || sym != 3 {
		t.Errorf("%d antisymmetric, %d symmetric, want 3 and 3", anti, sym)
	}
}

// TestSparseBasisBadInput: empty, ragged, non-square, non-finite and
// dependent generators are errors, not panics.
func TestSparseBasisBadInput(t *testing.T) {
	so3 := ltSO(3)
	for label, gens := range map[string][][][]float64{
		"empty":      nil,
		"empty mat":  {{}},
		"ragged":     {so3[0], so3[1][:2]},
		"non-square": {{{0, 1, 0}, {1, 0, 0}}},
		"nan":        {{{math.NaN()}}},
		"dependent":  {so3[0], so3[1], ltAdd(so3[0], so3[1], 1)},
		"zero":       {{{0, 0}, {0, 0}}},
	} {
		if _, _, _, err := SparseBasis(gens); err == nil {
			t.Errorf("%s: no error", label)
		}
	}
}
