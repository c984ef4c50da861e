//go:build !openblas

package ops

// BLAS names the BLAS this binary was built with: gonum's pure-Go BLAS
// (build with -tags openblas for OpenBLAS; `make` does when it is installed).
const BLAS = "gonum"
