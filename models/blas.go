package models

import "github.com/liesweep/liesweep/models/ops"

// BLAS names the BLAS this binary was built with: "openblas" (build tag
// openblas) or "gonum" (see ops.BLAS).
const BLAS = ops.BLAS
