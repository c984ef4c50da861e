//go:build openblas

package ops

// #cgo LDFLAGS: -lopenblas
// void openblas_set_num_threads(int num_threads);
import "C"

import (
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/netlib/blas/netlib"
	G "gorgonia.org/gorgonia"
)

// BLAS names the BLAS this binary was built with: OpenBLAS through cgo
// (build tag openblas, Debian's libopenblas-dev).
const BLAS = "openblas"

// init sets the BLAS of the whole process, for the GEMMs of these ops, for
// gonum's mat and for gorgonia's stock ops alike.
func init() {
	// One OpenBLAS thread: the convolutions split their GEMMs over the
	// cores themselves (chunks of images), and OpenBLAS's own threads
	// spin-wait between calls, taking the core the other chunk needs
	// (measured: 978 img/s with one thread, 790 with two).
	C.openblas_set_num_threads(1)
	impl := netlib.Implementation{}
	blas32.Use(impl)
	blas64.Use(impl)
	G.Use(impl)
}
