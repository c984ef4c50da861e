package lie

import (
	"fmt"
	"strings"
)

func series(dims []int) string {
	s := make([]string, len(dims))
	for i, d := range dims {
		s[i] = fmt.Sprint(d)
	}
	return strings.Join(s, " → ")
}

func solvableWords(st *Structure) string {
	var w string
	if st.Nilpotent {
		w = fmt.Sprintf("Solvable and nilpotent (derived series %s, lower central series %s) with a %d-dimensional centre",
			series(st.DerivedSeries), series(st.LowerCentralSeries), st.CentreDim)
	} else {
		w = fmt.Sprintf("Solvable but not nilpotent (derived series %s, lower central series %s) with a %d-dimensional centre",
			series(st.DerivedSeries), series(st.LowerCentralSeries), st.CentreDim)
	}
	switch {
	case strings.HasPrefix(st.Name, "heisenberg"):
		return w + fmt.Sprintf(": %s, the Heisenberg algebra of canonical commutation relations [x, p] = ħ.", st.Name)
	case strings.HasPrefix(st.Name, "aff(1)"):
		return w + fmt.Sprintf(": %s, with aff(1) the algebra of the affine maps x ↦ ax + b of the line.", st.Name)
	}
	return w + "; it has no semisimple part."
}

// kindWords describes one simple ideal: its label and compactness.
func kindWords(id Ideal) string {
	label := label(id)
	s := id.KillingSignature
	switch {
	case id.Name == "" && len(id.Candidates) == 0:
		return label
	case id.Complex:
		return fmt.Sprintf("%s (a complex simple algebra of complex dimension %d viewed as real)", label, id.Dim/2)
	case s.Neg == id.Dim:
		return label + " (compact)"
	}
	return fmt.Sprintf("%s (non-compact, maximal compact subalgebra of dimension %d)", label, s.Neg)
}

func reductiveWords(st *Structure) string {
	var simple []Ideal
	for _, id := range st.Decomposition {
		if id.Kind == IdealSimple {
			simple = append(simple, id)
		}
	}
	var desc string
	if len(simple) == 1 {
		id := simple[0]
		switch {
		case id.Name == "" && len(id.Candidates) == 0:
			desc = "one " + unnamed(id) + " ideal"
		case id.Name != "":
			desc = "the simple algebra " + strings.Replace(kindWords(id), label(id), id.Name, 1)
		default:
			desc = "the simple algebra " + kindWords(id)
		}
	} else {
		parts := make([]string, len(simple))
		for i, id := range simple {
			parts[i] = kindWords(id)
		}
		desc = fmt.Sprintf("the direct sum of %d simple ideals %s", len(simple), strings.Join(parts, ", "))
	}
	var w string
	if st.CentreDim == 0 {
		w = "Semisimple: " + desc + "."
	} else {
		w = fmt.Sprintf("Reductive: a %d-dimensional centre %s plus the semisimple ideal [g,g], %s.", st.CentreDim, abelianName(st.CentreDim), desc)
	}
	for _, id := range simple {
		if id.Name == "" {
			s := id.KillingSignature
			if len(id.Candidates) > 0 {
				w += fmt.Sprintf(" Dimension %d with Killing signature (%d+,%d−) does not single out the %d-dimensional ideal: it is %s.",
					id.Dim, s.Pos, s.Neg, id.Dim, strings.Join(id.Candidates, " or "))
			} else {
				w += fmt.Sprintf(" No simple algebra in the table has dimension %d and Killing signature (%d+,%d−).", id.Dim, s.Pos, s.Neg)
			}
			break
		}
	}
	return w
}

func leviWords(st *Structure, levi string, rad Structure) string {
	kind := "solvable"
	switch {
	case len(rad.DerivedSeries) > 1 && rad.DerivedSeries[1] == 0:
		kind = "abelian"
	case rad.Nilpotent:
		kind = "nilpotent"
	}
	named := ""
	if kind != "abelian" && !strings.Contains(rad.Name, "dimensional") {
		named = " (" + rad.Name + ")"
	}
	return fmt.Sprintf("Not reductive: a %d-dimensional semisimple Levi factor %s acting on a %d-dimensional %s radical%s.",
		st.LeviDim, levi, st.RadicalDim, kind, named)
}
