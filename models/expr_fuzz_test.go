package models

import (
	"errors"
	"regexp"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/liesweep/liesweep/datasets"
	"github.com/liesweep/liesweep/sweeps"
	G "gorgonia.org/gorgonia"
)

// FuzzParseExpr parses an expression over a dim from the input and
// compiles what parses: parsing never panics and rejects with an
// *ExprError that is an invalid spec; whatever parses compiles (no "No
// Graph Supplied") into a graph whose size is linear in the source (no
// chain of n products for x^n), within a per-input time that the bounds
// make generous. Small expressions are also evaluated.
func FuzzParseExpr(f *testing.F) {
	// a byte of a multi-byte character, quoted on its own
	brokenByte := regexp.MustCompile(`\\x[89a-f][0-9a-f]`)
	f.Fuzz(func(t *testing.T, src string, dim int) {
		if m := sweeps.MaxDim + 4; dim < -2 || dim > sweeps.MaxDim+1 {
			dim = (dim%m+m)%m - 2 // −2 … MaxDim+1: invalid dims too
		}
		start := time.Now()
		e, err := datasets.ParseExpr(src, dim)
		if err != nil {
			var ee *datasets.ExprError
			if !errors.As(err, &ee) || !errors.Is(err, sweeps.ErrInvalidSpec) {
				t.Fatalf("ParseExpr(%q, %d): error %v is not an *ExprError wrapping ErrInvalidSpec", src, dim, err)
			}
			if msg := err.Error(); utf8.ValidString(src) && (!utf8.ValidString(msg) || brokenByte.MatchString(msg)) {
				t.Fatalf("ParseExpr(%q): the error shows broken bytes: %s", src, msg)
			}
			return
		}
		if len(src) > datasets.MaxExprLen {
			t.Fatalf("accepted %d bytes, over MaxExprLen", len(src))
		}
		if _, ok := e.Root.(*datasets.Num); ok || dim < 1 {
			t.Fatalf("ParseExpr(%q, %d) accepted a constant or an empty dim", src, dim)
		}
		o := NewExprOracle(dim, []*datasets.Expr{e})
		g := G.NewGraph()
		x := matrixNode(g, "x", [][]float64{make([]float64, dim), make([]float64, dim)})
		if _, err := o.apply(newBinder(g), x); err != nil {
			t.Fatalf("%q parsed but does not compile: %v", src, err)
		}
		// every byte adds at most one operation, a power at most
		// 2·log2(MaxExprExponent) = 12 nodes for its ≥ 3 bytes
		if n, most := len(g.AllNodes()), 4*len(src)+8; n > most {
			t.Errorf("%q: %d graph nodes for %d bytes, want at most %d", src, n, len(src), most)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%q: parse and compile took %v", src, d)
		}
		if len(src) <= 64 {
			pt := make([]float64, dim)
			for i := range pt {
				pt[i] = 0.5 + float64(i)
			}
			if _, err := EvalOracle(o, [][]float64{pt}); err != nil {
				t.Errorf("%q: evaluate: %v", src, err)
			}
		}
	})
}
