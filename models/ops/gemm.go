package ops

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
)

// gemmAt is
//
//	C = alpha·op(A)·op(B) + beta·C
//
// with C m×n and the inner dimension k, A, B and C stored row-major with
// row strides lda, ldb and ldc, on the BLAS of the element type (gonum's
// blas32 and blas64, or OpenBLAS with the openblas build tag).
func gemmAt[T floats](tA, tB blas.Transpose, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	ar, ac, br, bc := m, k, k, n
	if tA == blas.Trans {
		ar, ac = k, m
	}
	if tB == blas.Trans {
		br, bc = n, k
	}
	switch c := any(c).(type) {
	case []float64:
		blas64.Gemm(tA, tB, float64(alpha), blas64.General{Rows: ar, Cols: ac, Stride: lda, Data: any(a).([]float64)},
			blas64.General{Rows: br, Cols: bc, Stride: ldb, Data: any(b).([]float64)}, float64(beta), blas64.General{Rows: m, Cols: n, Stride: ldc, Data: c})
	case []float32:
		blas32.Gemm(tA, tB, float32(alpha), blas32.General{Rows: ar, Cols: ac, Stride: lda, Data: any(a).([]float32)},
			blas32.General{Rows: br, Cols: bc, Stride: ldb, Data: any(b).([]float32)}, float32(beta), blas32.General{Rows: m, Cols: n, Stride: ldc, Data: c})
	}
}

// stride is the row stride of the stored matrix of op(M), rows×cols, when
// M is stored without gaps: cols, or rows when op transposes.
func stride(t blas.Transpose, rows, cols int) int {
	if t == blas.Trans {
		return rows
	}
	return cols
}

// accumulate is the beta of gemm: 1 when acc (C += …), else 0 (C = …).
func accumulate[T floats](acc bool) T {
	if acc {
		return 1
	}
	return 0
}

// gemm is C = op(A)·op(B), or C += … when acc, with C m×n and the inner
// dimension k, every matrix stored without gaps.
func gemm[T floats](tA, tB blas.Transpose, m, n, k int, a, b []T, acc bool, c []T) {
	gemmAt(tA, tB, m, n, k, 1, a, stride(tA, m, k), b, stride(tB, k, n), accumulate[T](acc), c, n)
}

// gemmPar is gemm for the dense layers: a product of at least
// gemmSplitMACs multiply-adds is split into gemmBlocks blocks of rows of C,
// spread over the cores (the BLAS runs one thread; the autoencoder's
// 1568-wide layers left a core idle). The blocks depend on the shape only,
// so the result is the same on any number of cores.
func gemmPar[T floats](tA, tB blas.Transpose, m, n, k int, a, b []T, acc bool, c []T) {
	if m*n*k < gemmSplitMACs || m < 2*gemmBlocks {
		gemm(tA, tB, m, n, k, a, b, acc, c)
		return
	}
	rb := (m + gemmBlocks - 1) / gemmBlocks
	Parallel(gemmBlocks, func(i0, i1 int) {
		for i := i0; i < i1; i++ {
			r0, r1 := i*rb, min((i+1)*rb, m)
			// rows r0..r1 of op(A): rows of A, or its columns when transposed
			ab := a[r0*k:]
			if tA == blas.Trans {
				ab = a[r0:]
			}
			gemmAt(tA, tB, r1-r0, n, k, 1, ab, stride(tA, m, k), b, stride(tB, k, n), accumulate[T](acc), c[r0*n:], n)
		}
	})
}

const (
	gemmSplitMACs = 1 << 22
	gemmBlocks    = 4
)
