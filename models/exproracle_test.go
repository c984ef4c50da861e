package models

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/liesweep/liesweep/datasets"
	"github.com/liesweep/liesweep/sweeps"
	G "gorgonia.org/gorgonia"
)

// TestExprOracleConstants: issue 11's expressions with a negated or called
// constant ("No Graph Supplied" before constants were folded) compile and
// agree with Eval, which computes them directly.
func TestExprOracleConstants(t *testing.T) {
	pts := [][]float64{{0.5, -2}, {1.5, 3}}
	for _, src := range []string{"-1 + x0^2", "x0^2*-2", "sqrt(4)+x0", "-(2)*x1 - exp(0)", "x0^0 + x1", "x1 / -(3)", "x0^-3 + x1^-64 * x0^13"} {
		e, err := datasets.ParseExpr(src, 2)
		if err != nil {
			t.Fatalf("%q: %v", src, err)
		}
		got, err := EvalOracle(NewExprOracle(2, []*datasets.Expr{e}), pts)
		if err != nil {
			t.Fatalf("%q: %v", src, err)
		}
		for i, x := range pts {
			if want := e.Eval(x); math.Abs(got[i][0]-want) > 1e-12 {
				t.Errorf("%q at %v = %g, want %g", src, x, got[i][0], want)
			}
		}
	}
}

// TestExprOracleUnfoldedConstants: a tree built by hand, with constant
// subtrees the parser would have folded, compiles too (the compiler folds
// them again), and a constant that is not finite is an invalid spec.
func TestExprOracleUnfoldedConstants(t *testing.T) {
	root := &datasets.Binary{Op: '+',
		L: &datasets.Neg{X: &datasets.Call{Fn: "sqrt", X: &datasets.Pow{X: &datasets.Num{Value: 2}, N: 4}}},
		R: &datasets.Var{Index: 0}}
	o := NewExprOracle(1, []*datasets.Expr{{Source: "-sqrt(2^4) + x0", Root: root}})
	got, err := EvalOracle(o, [][]float64{{1}, {5}})
	if err != nil {
		t.Fatal(err)
	}
	if got[0][0] != -3 || got[1][0] != 1 {
		t.Errorf("-sqrt(2^4) + x0 at 1 and 5 = %v, want -3 and 1", got)
	}
	root.L = &datasets.Call{Fn: "log", X: &datasets.Num{Value: -1}}
	if _, err := EvalOracle(o, [][]float64{{1}}); !errors.Is(err, sweeps.ErrInvalidSpec) || !strings.Contains(err.Error(), "not finite") {
		t.Errorf("log(-1) + x0: %v, want an invalid spec saying the constant is not finite", err)
	}
}

// TestExprOraclePowers: x^n compiles to binary exponentiation, with values
// and gradients n·x^(n−1) as math.Pow gives them (relative 1e-13: each of
// the ≤ 6 squarings at most doubles the rounding error of 1.1e-16), and a
// graph of O(log n) nodes: x0^64 was a chain of 63 products.
func TestExprOraclePowers(t *testing.T) {
	pts := [][]float64{{1.1}, {-0.9}, {1.7}}
	for _, n := range []int{1, 2, 3, 4, 5, 7, 13, 63, 64, -1, -2, -5, -13, -64} {
		src := "x0^" + itoa(n)
		e, err := datasets.ParseExpr(src, 1)
		if err != nil {
			t.Fatal(err)
		}
		o := NewExprOracle(1, []*datasets.Expr{e})
		g := G.NewGraph()
		x := matrixNode(g, "x", pts)
		y, err := o.apply(newBinder(g), x)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if nodes, most := len(g.AllNodes()), 2*bits(n)+5; nodes > most {
			t.Errorf("%s: %d graph nodes, want at most %d", src, nodes, most)
		}
		var yv G.Value
		G.Read(y, &yv) // the value before backpropagation reuses its memory
		if _, err := G.Grad(G.Must(G.Sum(y)), x); err != nil {
			t.Fatal(err)
		}
		vm := G.NewTapeMachine(g)
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		gv, err := x.Grad()
		if err != nil {
			t.Fatal(err)
		}
		vals, grads := yv.Data().([]float64), gv.Data().([]float64)
		for i, p := range pts {
			v, d := math.Pow(p[0], float64(n)), float64(n)*math.Pow(p[0], float64(n-1))
			if math.Abs(vals[i]-v) > 1e-13*math.Abs(v) || math.Abs(grads[i]-d) > 1e-13*math.Abs(d) {
				t.Errorf("%s at %g: value %g gradient %g, want %g and %g", src, p[0], vals[i], grads[i], v, d)
			}
		}
		vm.Close()
	}
}

func itoa(n int) string {
	if n < 0 {
		return "-" + itoa(-n)
	}
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + itoa(n%10)
}

// bits is the number of binary digits of |n|.
func bits(n int) int {
	if n < 0 {
		n = -n
	}
	b := 0
	for ; n > 0; n >>= 1 {
		b++
	}
	return b
}
