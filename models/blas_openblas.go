//go:build openblas

package models

import (
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/netlib/blas/netlib"
	G "gorgonia.org/gorgonia"
)

// BLAS names the BLAS this binary was built with: OpenBLAS through cgo
// (build tag openblas, Debian's libopenblas-dev, CGO_LDFLAGS=-lopenblas).
const BLAS = "openblas"

func init() {
	impl := netlib.Implementation{}
	blas32.Use(impl)
	blas64.Use(impl)
	G.Use(impl)
}
