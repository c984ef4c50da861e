package ops

import (
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"gonum.org/v1/gonum/blas"
)

// gemmPar (row blocks of C over the cores) gives gemm's product up to
// float32 rounding (1e-5 relative: the BLAS may block the sums of a
// smaller matrix differently), for each transposition and with
// accumulation, and the same bits on 1 and 3 cores.
func TestGemmParMatchesGemm(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	m, n, k := 130, 70, 470 // m·n·k ≥ gemmSplitMACs, m not a multiple of the blocks
	if m*n*k < gemmSplitMACs {
		t.Fatal("product too small to be split")
	}
	a, b, c0 := randF32(r, m*k), randF32(r, k*n), randF32(r, m*n)
	for _, tA := range []blas.Transpose{blas.NoTrans, blas.Trans} {
		for _, tB := range []blas.Transpose{blas.NoTrans, blas.Trans} {
			for _, acc := range []bool{false, true} {
				want := slices.Clone(c0)
				gemm(tA, tB, m, n, k, a, b, acc, want)
				var got [2][]float32
				for i, procs := range []int{1, 3} {
					old := runtime.GOMAXPROCS(procs)
					got[i] = slices.Clone(c0)
					gemmPar(tA, tB, m, n, k, a, b, acc, got[i])
					runtime.GOMAXPROCS(old)
				}
				if d := maxRelDiff(got[0], want); d > 1e-5 {
					t.Errorf("%c%c acc=%v: differs from gemm by %.2g (relative)", tA, tB, acc, d)
				}
				if !slices.Equal(got[0], got[1]) {
					t.Errorf("%c%c acc=%v: differs between 1 and 3 cores", tA, tB, acc)
				}
			}
		}
	}
}
