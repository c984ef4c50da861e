package lie

import (
	"fmt"
	"strings"
)

// Kinds of Ideal reported by Decompose.
const (
	// IdealSimple is a simple ideal of the semisimple (Levi) part.
	IdealSimple = "simple"
	// IdealAbelian is the centre of a reductive algebra, all of it abelian.
	IdealAbelian = "abelian"
	// IdealRadical is the radical (the largest solvable ideal) when it is not
	// a direct summand, or the whole of a non-abelian solvable algebra.
	IdealRadical = "radical"
)

// Ideal is one summand of the decomposition of a Lie algebra.
type Ideal struct {
	Dim  int    `json:"dim"`
	Kind string `json:"kind"` // "simple" | "abelian" | "radical"
	// KillingSignature is the signature of the ideal's own Killing form
	// (computed from its structure constants as an algebra in its own right).
	// For a simple ideal the number of negative eigenvalues is the dimension
	// of its maximal compact subalgebra.
	KillingSignature Signature `json:"killing_signature"`
	// Name is set when dimension and signature single the ideal out;
	// otherwise Candidates lists the algebras they allow.
	Name       string   `json:"name,omitempty"`
	Candidates []string `json:"candidates,omitempty"`
	// Basis rows are orthonormal basis vectors of the ideal, as coefficients
	// over the input basis. For the simple ideals of a non-reductive algebra
	// they span a simple ideal of a Levi subalgebra (when one was found; else
	// coset representatives orthogonal to the radical).
	Basis [][]float64 `json:"basis,omitempty"`
	// Complex is true for a complex simple algebra viewed as a real one
	// (e.g. sl(2,C) ≅ so(1,3)): its centroid is C, not R.
	Complex bool `json:"complex,omitempty"`
}

// Structure is the structure theory of a finite-dimensional real Lie algebra
// given by its structure constants: Levi decomposition g = s ⋉ rad, the
// simple ideals of s with their names, and the solvable invariants.
type Structure struct {
	// Name is e.g. "so(4) ≅ su(2) ⊕ su(2)", "su(2) ≅ so(3)", "u(1)^2" or,
	// when the invariants do not single it out, "6-dimensional solvable".
	Name       string   `json:"name,omitempty"`
	Candidates []string `json:"candidates,omitempty"`
	// Decomposition lists the simple ideals (largest first), then the centre
	// (Kind "abelian", reductive algebras) or the radical (Kind "radical").
	Decomposition []Ideal `json:"decomposition,omitempty"`
	Solvable      bool    `json:"solvable,omitempty"`
	Nilpotent     bool    `json:"nilpotent,omitempty"`
	// DerivedSeries holds dim g, dim g′, dim g″, … where g⁽ᵏ⁺¹⁾ = [g⁽ᵏ⁾, g⁽ᵏ⁾],
	// ending at 0 or at the first repeated dimension (included).
	DerivedSeries []int `json:"derived_series,omitempty"`
	// LowerCentralSeries holds dim g, dim [g,g], dim [g,[g,g]], …, ending
	// like DerivedSeries.
	LowerCentralSeries []int   `json:"lower_central_series,omitempty"`
	CentreDim          int     `json:"centre_dim,omitempty"`
	RadicalDim         int     `json:"radical_dim,omitempty"`
	LeviDim            int     `json:"levi_dim,omitempty"`
	Tol                float64 `json:"tol,omitempty"`
	// JacobiResidual is the constants' JacobiResidual; above JacobiTol
	// the structure is not analysed and Name says so.
	JacobiResidual float64 `json:"jacobi_residual,omitempty"`
	Words          string  `json:"words,omitempty"`
}

// Signature counts the Killing form's eigenvalues by sign.
type Signature struct {
	Pos  int `json:"pos"`
	Neg  int `json:"neg"`
	Zero int `json:"zero"`
}

// Algebra is the classification of an algebra from its structure
// constants: the invariants Classify computes and, embedded, the Structure
// Decompose finds.
type Algebra struct {
	Dim              int       `json:"dim"`
	Abelian          bool      `json:"abelian"`
	DerivedDim       int       `json:"derived_dim"`
	KillingSignature Signature `json:"killing_signature"`
	Description      string    `json:"description"`
	// Structure names the algebra: its decomposition into simple and
	// abelian ideals (or its radical), the real forms by name, the derived
	// and lower central series (flattened into the algebra's JSON).
	Structure
}

// Summary names the algebra in a line: its name and the structure in
// words when the structure was analysed, the Killing-form description
// otherwise (results stored before the structure analysis).
func (a Algebra) Summary() string {
	if a.Name == "" {
		return a.Description
	}
	return a.Name + " — " + a.Words
}

// DecompositionLines lists the algebra's parts, one per line, e.g.
// "simple, 3-dim, Killing (0+, 3−, 0 zero): su(2) ≅ so(3)".
func (a Algebra) DecompositionLines() []string {
	var out []string
	for _, p := range a.Decomposition {
		name := p.Name
		if name == "" && len(p.Candidates) > 0 {
			name = "one of " + strings.Join(p.Candidates, ", ")
		}
		s := p.KillingSignature
		out = append(out, fmt.Sprintf("%s, %d-dim, Killing (%d+, %d−, %d zero): %s", p.Kind, p.Dim, s.Pos, s.Neg, s.Zero, name))
	}
	return out
}

// Name is the name Decompose gives the algebra with structure constants a,
// e.g. "so(4) ≅ su(2) ⊕ su(2)" or "su(2) ⋉ R^3"; when dimension and
// signatures do not single it out, the candidates follow in parentheses.
func Name(a [][][]float64, tol float64) string {
	st := Decompose(a, tol)
	if len(st.Candidates) == 0 {
		return st.Name
	}
	return st.Name + " (one of " + strings.Join(st.Candidates, ", ") + ")"
}
