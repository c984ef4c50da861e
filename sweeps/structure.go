package sweeps

import "github.com/liesweep/liesweep/lie"

// The algebra's types live in the lie package; result.json carries them
// under these names.
type (
	Ideal     = lie.Ideal
	Structure = lie.Structure
	Signature = lie.Signature
	Algebra   = lie.Algebra
)

// Kinds of Ideal reported by lie.Decompose.
const (
	IdealSimple  = lie.IdealSimple
	IdealAbelian = lie.IdealAbelian
	IdealRadical = lie.IdealRadical
)
