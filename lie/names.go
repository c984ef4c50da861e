package lie

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// formKey identifies a simple real Lie algebra up to what Decompose can
// measure: its dimension and, for the real type, the number of negative
// Killing eigenvalues (the dimension of its maximal compact subalgebra);
// complex-type algebras (complex simple algebras viewed as real) have
// signature (d+, d−) and are keyed by dimension alone.
type formKey struct {
	dim, neg int
	complex  bool
}

var (
	formsOnce sync.Once
	forms     map[formKey][]string
)

// formTable returns the names of the simple real Lie algebras of
// dimension ≤ 300 (up to the exceptional e8), keyed by formKey. The
// low-dimensional ones (≤ 15) carry their classical isomorphisms; above that
// the only coincidence of real forms is so(6,2) ≅ so*(8), and any other
// shared key lists genuinely different algebras (e.g. so(7) and sp(3)).
func formTable() map[formKey][]string {
	formsOnce.Do(func() {
		t := map[formKey][]string{}
		add := func(dim, neg int, name string) {
			k := formKey{dim: dim, neg: neg}
			t[k] = append(t[k], name)
		}
		addC := func(cdim int, name string) {
			k := formKey{dim: 2 * cdim, neg: -1, complex: true}
			t[k] = append(t[k], name)
		}
		// Dimension ≤ 15, by hand.
		add(3, 3, "su(2) ≅ so(3)")
		add(3, 1, "sl(2,R) ≅ so(2,1) ≅ su(1,1)")
		add(8, 8, "su(3)")
		add(8, 3, "sl(3,R)")
		add(8, 4, "su(2,1)")
		add(10, 10, "so(5) ≅ sp(2)")
		add(10, 6, "so(4,1) ≅ sp(1,1)")
		add(10, 4, "so(3,2) ≅ sp(4,R)")
		add(14, 14, "g2")
		add(14, 6, "g2(2)")
		add(15, 15, "su(4) ≅ so(6)")
		add(15, 6, "sl(4,R) ≅ so(3,3)")
		add(15, 7, "su(2,2) ≅ so(4,2)")
		add(15, 9, "su(3,1) ≅ so*(6)")
		add(15, 10, "sl(2,H) ≅ so(5,1)")
		addC(3, "sl(2,C) ≅ so(1,3)")
		addC(8, "sl(3,C)")
		addC(10, "so(5,C) ≅ sp(4,C)")
		addC(14, "g2(C)")
		addC(15, "sl(4,C) ≅ so(6,C)")
		// Dimension > 15: the classical families and the exceptional forms.
		const maxDim = 300
		for n := 5; n*n-1 <= maxDim; n++ {
			d := n*n - 1
			add(d, d, fmt.Sprintf("su(%d)", n))
			add(d, n*(n-1)/2, fmt.Sprintf("sl(%d,R)", n))
			for q := 1; 2*q <= n; q++ {
				p := n - q
				add(d, p*p+q*q-1, fmt.Sprintf("su(%d,%d)", p, q))
			}
			addC(d, fmt.Sprintf("sl(%d,C)", n))
		}
		for n := 3; 4*n*n-1 <= maxDim; n++ {
			add(4*n*n-1, n*(2*n+1), fmt.Sprintf("sl(%d,H)", n))
		}
		for N := 7; N*(N-1)/2 <= maxDim; N++ {
			d := N * (N - 1) / 2
			add(d, d, fmt.Sprintf("so(%d)", N))
			for q := 1; 2*q <= N; q++ {
				p := N - q
				add(d, p*(p-1)/2+q*(q-1)/2, fmt.Sprintf("so(%d,%d)", p, q))
			}
			addC(d, fmt.Sprintf("so(%d,C)", N))
		}
		for n := 4; n*(2*n-1) <= maxDim; n++ {
			add(n*(2*n-1), n*n, fmt.Sprintf("so*(%d)", 2*n))
		}
		for n := 3; n*(2*n+1) <= maxDim; n++ {
			d := n * (2*n + 1)
			add(d, d, fmt.Sprintf("sp(%d)", n))
			add(d, n*n, fmt.Sprintf("sp(%d,R)", 2*n))
			for q := 1; 2*q <= n; q++ {
				p := n - q
				add(d, p*(2*p+1)+q*(2*q+1), fmt.Sprintf("sp(%d,%d)", p, q))
			}
			addC(d, fmt.Sprintf("sp(%d,C)", 2*n))
		}
		for _, e := range []struct {
			dim, neg int
			name     string
		}{
			{52, 52, "f4"}, {52, 24, "f4(4)"}, {52, 36, "f4(-20)"},
			{78, 78, "e6"}, {78, 36, "e6(6)"}, {78, 38, "e6(2)"}, {78, 46, "e6(-14)"}, {78, 52, "e6(-26)"},
			{133, 133, "e7"}, {133, 63, "e7(7)"}, {133, 69, "e7(-5)"}, {133, 79, "e7(-25)"},
			{248, 248, "e8"}, {248, 120, "e8(8)"}, {248, 136, "e8(-24)"},
		} {
			add(e.dim, e.neg, e.name)
		}
		addC(52, "f4(C)")
		addC(78, "e6(C)")
		addC(133, "e7(C)")
		addC(248, "e8(C)")
		k := formKey{dim: 28, neg: 16}
		if names := t[k]; len(names) == 2 {
			t[k] = []string{names[0] + " ≅ " + names[1]} // so(6,2) ≅ so*(8)
		}
		forms = t
	})
	return forms
}

// simpleName names the simple algebra of dimension dim with Killing
// signature sig: a name when the invariants single it out, else candidates.
func simpleName(dim int, sig Signature, complexType bool) (string, []string) {
	key := formKey{dim: dim, neg: sig.Neg}
	if complexType {
		key = formKey{dim: dim, neg: -1, complex: true}
	} else if sig.Zero != 0 || sig.Pos+sig.Neg != dim {
		return "", nil
	}
	names := formTable()[key]
	switch len(names) {
	case 0:
		return "", nil
	case 1:
		return names[0], nil
	}
	return "", append([]string(nil), names...)
}

// shortName is the first of a name's aliases: "su(2) ≅ so(3)" → "su(2)".
func shortName(name string) string {
	if i := strings.Index(name, " ≅ "); i >= 0 {
		return name[:i]
	}
	return name
}

func abelianName(k int) string {
	if k == 1 {
		return "u(1)"
	}
	return fmt.Sprintf("u(1)^%d", k)
}

// sumAliases names a few direct sums classically.
var sumAliases = map[string]string{
	"su(2) ⊕ su(2)":     "so(4)",
	"sl(2,R) ⊕ sl(2,R)": "so(2,2)",
	"su(2) ⊕ sl(2,R)":   "so*(4)",
	"su(2) ⊕ u(1)":      "u(2)",
	"sl(2,R) ⊕ u(1)":    "gl(2,R)",
}

// label is an ideal's name inside a sum.
func label(id Ideal) string {
	switch {
	case id.Name != "":
		return shortName(id.Name)
	case len(id.Candidates) > 0:
		alts := make([]string, len(id.Candidates))
		for i, c := range id.Candidates {
			alts[i] = shortName(c)
		}
		return "(" + strings.Join(alts, " or ") + ")"
	}
	return unnamed(id)
}

// unnamed describes a simple ideal the table does not name.
func unnamed(id Ideal) string {
	s := id.KillingSignature
	switch {
	case id.Complex:
		return fmt.Sprintf("%d-dimensional complex-type simple", id.Dim)
	case s.Neg == id.Dim:
		return fmt.Sprintf("%d-dimensional compact simple", id.Dim)
	}
	return fmt.Sprintf("%d-dimensional simple (%d+,%d−)", id.Dim, s.Pos, s.Neg)
}

// sumName names the direct sum of the simple and abelian ideals ids.
func sumName(ids []Ideal) (string, []string) {
	if len(ids) == 0 {
		return "0", nil
	}
	if len(ids) == 1 && ids[0].Kind == IdealSimple {
		if ids[0].Name != "" {
			return ids[0].Name, nil
		}
		return unnamed(ids[0]), ids[0].Candidates
	}
	labels := make([]string, len(ids))
	options := [][]string{{""}}
	for i, id := range ids {
		labels[i] = label(id)
		alts := []string{labels[i]}
		if id.Name == "" && len(id.Candidates) > 0 {
			alts = nil
			for _, c := range id.Candidates {
				alts = append(alts, shortName(c))
			}
		}
		var next [][]string
		for _, o := range options {
			for _, a := range alts {
				next = append(next, append(append([]string(nil), o...), a))
			}
		}
		options = next
	}
	name := strings.Join(labels, " ⊕ ")
	if alias, ok := sumAliases[name]; ok {
		name = alias + " ≅ " + name
	}
	var cands []string
	if len(options) > 1 && len(options) <= 16 {
		for _, o := range options {
			cands = append(cands, strings.Join(o[1:], " ⊕ "))
		}
	}
	return name, cands
}

// sortIdeals orders simple ideals by decreasing dimension, compact ones
// first, then by name.
func sortIdeals(ids []Ideal) {
	sort.SliceStable(ids, func(i, j int) bool {
		a, b := ids[i], ids[j]
		if a.Dim != b.Dim {
			return a.Dim > b.Dim
		}
		if a.KillingSignature.Neg != b.KillingSignature.Neg {
			return a.KillingSignature.Neg > b.KillingSignature.Neg
		}
		return label(a) < label(b)
	})
}

// solvableName names a solvable algebra of dimension n whose derived
// algebra has dimension d and centre dimension c. A derived algebra of
// dimension 1 leaves two families: inside the centre (nilpotent), the
// Heisenberg algebra plus commuting generators; otherwise aff(1) plus
// commuting generators.
func solvableName(n, d, c int, nilpotent bool) string {
	plus := func(name string, k int) string {
		if k == 0 {
			return name
		}
		return name + " ⊕ " + abelianName(k)
	}
	switch {
	case d == 0:
		return abelianName(n)
	case d == 1 && nilpotent && c >= 1 && (n-c+1)%2 == 1:
		return plus(fmt.Sprintf("heisenberg(%d)", n-c+1), c-1)
	case d == 1 && !nilpotent && c == n-2:
		return plus("aff(1)", n-2)
	case nilpotent:
		return fmt.Sprintf("%d-dimensional nilpotent", n)
	}
	return fmt.Sprintf("%d-dimensional solvable", n)
}
