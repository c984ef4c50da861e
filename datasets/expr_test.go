package datasets

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/liesweep/liesweep/sweeps"
)

func TestParseExprValues(t *testing.T) {
	x := []float64{0.5, -2, 3, 1.5}
	cases := []struct {
		src  string
		want float64 // computed by hand
	}{
		{"x0^2 + 2*x1^2", 0.25 + 8},
		{"sin(x2) * x3", math.Sin(3) * 1.5},
		{"-x1^2", -4},
		{"(-x1)^2", 4},
		{"x0 - x1 - x2", 0.5 + 2 - 3},
		{"x2 / x3 / 2", 1},
		{"x1^-2", 0.25},
		{"x3^0 * x0", 0.5},
		{"exp(x0) + log(x2) - sqrt(x3) + cos(x1) + tanh(x0)", math.Exp(0.5) + math.Log(3) - math.Sqrt(1.5) + math.Cos(-2) + math.Tanh(0.5)},
		{"1.5e1 * x0", 7.5},
		{"x0^5", 0.03125},
	}
	for _, c := range cases {
		e, err := ParseExpr(c.src, 4)
		if err != nil {
			t.Fatalf("%q: %v", c.src, err)
		}
		if got := e.Eval(x); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%q = %g, want %g", c.src, got, c.want)
		}
	}
}

func TestParseExprErrors(t *testing.T) {
	cases := []struct {
		src  string
		pos  int // 0-based
		text string
	}{
		{"x0 + x4", 5, "unknown variable x4"},
		{"x0 +* x1", 4, "expected a number"},
		{"sin x0", 4, "expected '('"},
		{"x0^1.5", 3, "not an integer"},
		{"(x0 + x1", 8, "expected ')'"},
		{"foo(x0)", 0, "unknown name"},
		{"x0 x1", 3, "unexpected"},
		{"2 + 3", 0, "uses no variable"},
		{"x0^2^2", 4, "chained"},
		// Non-ASCII is refused whole, with the ASCII it stands for (a byte
		// of it used to print as "x\xe2"); positions are in characters.
		{"x₀ + x1", 1, "(x0, not x₀)"},
		{"x0 + x1²", 7, "(x0^2, not x0²)"},
		{"x0 + x1⁴", 7, "(x0^4, not x0⁴)"},
		{"x0 − x1", 3, "ASCII '-'"},
		{"ψ(x0)", 0, "'ψ' (U+03C8)"},
		{"x0 + \xff", 5, "byte 0xff is not UTF-8"},
	}
	for _, c := range cases {
		_, err := ParseExpr(c.src, 4)
		var ee *ExprError
		if !errors.As(err, &ee) {
			t.Fatalf("%q: error %v is not an *ExprError", c.src, err)
		}
		if pos := utf8.RuneCountInString(c.src[:min(ee.Pos, len(c.src))]); pos != c.pos || !strings.Contains(ee.Msg, c.text) {
			t.Errorf("%q: position %d message %q, want position %d containing %q", c.src, pos, ee.Msg, c.pos, c.text)
		}
		if want := fmt.Sprintf("at position %d\n", c.pos+1); !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error does not say %q:\n%v", c.src, want, err)
		}
		if !strings.Contains(err.Error(), strings.Repeat(" ", c.pos)+"^") {
			t.Errorf("%q: error does not point at the position:\n%v", c.src, err)
		}
	}
}

func TestAnalyticOracles(t *testing.T) {
	x := []float64{1, 2, 3}
	norm, err := AnalyticOracle(OracleNorm, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	lor, err := AnalyticOracle(OracleLorentz, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := norm[0].Eval(x); got != 14 {
		t.Errorf("norm = %g, want 14", got)
	}
	if got := lor[0].Eval(x); got != 1-4-9 {
		t.Errorf("lorentz = %g, want -12", got)
	}
	if _, err := AnalyticOracle(OracleExpr, 2, []string{"x0", "x2"}); err == nil || !strings.Contains(err.Error(), "dataset.expr[1]") {
		t.Errorf("want an error naming dataset.expr[1], got %v", err)
	}
}

// TestParseExprBounds: issue 11's hostile expressions are errors that point
// at the problem, never a hang, an out-of-memory or a stack overflow.
func TestParseExprBounds(t *testing.T) {
	cases := []struct {
		name, src string
		pos       int
		text      string
	}{
		{"length", strings.Repeat("x0+", MaxExprLen/3) + "x0", MaxExprLen, "over the bound of 4096"},
		{"112k characters", strings.Repeat("x0*", 112_000/3) + "x0", MaxExprLen, "bytes long"},
		{"3M unary minus", strings.Repeat("-", 3_000_000) + "x0", MaxExprLen, "bytes long"},
		{"nested minus", strings.Repeat("-", MaxExprDepth+1) + "x0", MaxExprDepth, "nested deeper than 64"},
		{"nested plus", strings.Repeat("+", MaxExprDepth+1) + "x0", MaxExprDepth, "nested deeper"},
		{"nested parentheses", strings.Repeat("(", MaxExprDepth+1) + "x0" + strings.Repeat(")", MaxExprDepth+1), MaxExprDepth, "nested deeper"},
		{"nested calls", strings.Repeat("sin(", MaxExprDepth+1) + "x0" + strings.Repeat(")", MaxExprDepth+1), 4*MaxExprDepth + 3, "nested deeper"},
		{"exponent", "x0^65", 3, "beyond the bound |n| ≤ 64"},
		{"negative exponent", "x0^-65", 3, "beyond the bound"},
		{"exponent 10000", "x0^10000", 3, "beyond the bound"},
		{"exponent 1e8", "x0^100000000", 3, "beyond the bound"},
		{"exponent out of int", "x0^99999999999999999999", 3, "beyond the bound"},
		{"NaN constant", "sqrt(-1)+x0", 0, `constant "sqrt(-1)" is not finite`},
		{"infinite constant", "x0 + 2*(1/0)", 8, `constant "1/0" is not finite`},
		{"overflowing constant", "x0 + 1e300*1e300", 5, `constant "1e300*1e300" is not finite`},
		{"overflowing power", "x0 * 1e10^40", 5, `constant "1e10^40" is not finite`},
		{"huge number", "x0 * 1e999", 5, "out of the range of float64"},
		{"constant x^0", "x0^0", 0, "is a constant"},
		{"folds to a constant", "-(2*3)", 0, "is a constant"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseExpr(c.src, 4)
			var ee *ExprError
			if !errors.As(err, &ee) {
				t.Fatalf("error %v is not an *ExprError", err)
			}
			if ee.Pos != c.pos || !strings.Contains(ee.Msg, c.text) {
				t.Errorf("position %d message %q, want position %d containing %q", ee.Pos, ee.Msg, c.pos, c.text)
			}
			if !errors.Is(err, sweeps.ErrInvalidSpec) {
				t.Errorf("error does not wrap sweeps.ErrInvalidSpec: %v", err)
			}
			// the message quotes a window of the source, not all of it
			if n := len(err.Error()); n > 600 {
				t.Errorf("message of %d bytes for a %d-byte expression", n, len(c.src))
			}
		})
	}
	for _, ok := range []string{
		strings.Repeat("-", MaxExprDepth) + "x0",
		strings.Repeat("(", MaxExprDepth) + "x0" + strings.Repeat(")", MaxExprDepth),
		"x0^64", "x0^-64", "x0^+3",
		strings.Repeat("x0+", (MaxExprLen-2)/3) + "x0",
	} {
		if _, err := ParseExpr(ok, 4); err != nil {
			t.Errorf("%.40q…: %v", ok, err)
		}
	}
}

// TestParseExprFoldsConstants: a subexpression without variables is one
// number in the tree (so the compiler never applies an operation to a bare
// constant), with the value the unfolded expression has.
func TestParseExprFoldsConstants(t *testing.T) {
	x := []float64{0.5, -2}
	cases := []struct {
		src  string
		want Node    // the root after folding
		val  float64 // at x, by hand
	}{
		{"-1 + x0^2", &Binary{Op: '+', L: &Num{-1}, R: &Pow{X: &Var{0}, N: 2}}, -0.75},
		{"x0^2*-2", &Binary{Op: '*', L: &Pow{X: &Var{0}, N: 2}, R: &Num{-2}}, -0.5},
		{"sqrt(4)+x0", &Binary{Op: '+', L: &Num{2}, R: &Var{0}}, 2.5},
		{"2^3*x1", &Binary{Op: '*', L: &Num{8}, R: &Var{1}}, -16},
		{"x3^0 * x0", &Binary{Op: '*', L: &Num{1}, R: &Var{0}}, 0.5},
		{"-(-(x0))", &Neg{X: &Neg{X: &Var{0}}}, 0.5},
		{"exp(-(1-1)) * x1 / (2*2)", &Binary{Op: '/', L: &Binary{Op: '*', L: &Num{1}, R: &Var{1}}, R: &Num{4}}, -0.5},
	}
	for _, c := range cases {
		e, err := ParseExpr(c.src, 4)
		if err != nil {
			t.Errorf("%q: %v", c.src, err)
			continue
		}
		if !reflect.DeepEqual(e.Root, c.want) {
			t.Errorf("%q parsed to %s, want %s", c.src, show(e.Root), show(c.want))
		}
		if got := e.Eval(append(x, 0, 0)); math.Abs(got-c.val) > 1e-15 {
			t.Errorf("%q = %g, want %g", c.src, got, c.val)
		}
	}
}

func show(n Node) string {
	switch n := n.(type) {
	case *Num:
		return fmt.Sprint(n.Value)
	case *Var:
		return fmt.Sprintf("x%d", n.Index)
	case *Neg:
		return "-(" + show(n.X) + ")"
	case *Binary:
		return "(" + show(n.L) + string(n.Op) + show(n.R) + ")"
	case *Pow:
		return fmt.Sprintf("(%s)^%d", show(n.X), n.N)
	case *Call:
		return n.Fn + "(" + show(n.X) + ")"
	}
	return fmt.Sprintf("%T", n)
}

// TestCheckExprs: every bad expression is reported as its own field
// dataset.expr[i], an invalid spec that still carries the position.
func TestCheckExprs(t *testing.T) {
	if err := CheckExprs([]string{"x0^2 + x1^2", "-1 + x2^2"}, 3); err != nil {
		t.Fatal(err)
	}
	err := CheckExprs([]string{"x0", "x0^2.5 + abs(x1) + x3", "x1", "sqrt(-1)+x0"}, 3)
	if !errors.Is(err, sweeps.ErrInvalidSpec) {
		t.Fatalf("CheckExprs = %v, want an invalid spec", err)
	}
	var fields []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var fe *sweeps.FieldError
		var ee *ExprError
		if !errors.As(e, &fe) || !errors.As(e, &ee) {
			t.Fatalf("%v is not a *sweeps.FieldError wrapping an *ExprError", e)
		}
		fields = append(fields, fe.Field)
	}
	if want := []string{"dataset.expr[1]", "dataset.expr[3]"}; !reflect.DeepEqual(fields, want) {
		t.Errorf("fields %v, want %v", fields, want)
	}
	if !strings.Contains(err.Error(), "not an integer") || !strings.Contains(err.Error(), "not finite") {
		t.Errorf("messages do not say what is wrong:\n%v", err)
	}
}

// TestBuiltinOraclesFitTheBounds: norm and lorentz are written out as
// expressions, which must parse at the largest dim a spec may have.
func TestBuiltinOraclesFitTheBounds(t *testing.T) {
	for _, kind := range []string{OracleNorm, OracleLorentz} {
		es, err := AnalyticOracle(kind, sweeps.MaxDim, nil)
		if err != nil {
			t.Fatalf("%s at dim %d: %v", kind, sweeps.MaxDim, err)
		}
		x := make([]float64, sweeps.MaxDim)
		x[0] = 1
		if got := es[0].Eval(x); got != 1 {
			t.Errorf("%s(e0) = %g, want 1", kind, got)
		}
	}
}

// TestAnalyticOracleErrorsAreInvalidSpec: at train time, on a worker, a bad
// expression is an invalid spec too, so the activity does not retry it.
func TestAnalyticOracleErrorsAreInvalidSpec(t *testing.T) {
	for _, src := range []string{"x0^10000", "x0^2.5", "sqrt(-1)+x0", strings.Repeat("-", 3_000_000) + "x0"} {
		_, err := AnalyticOracle(OracleExpr, 2, []string{"x1", src})
		if !errors.Is(err, sweeps.ErrInvalidSpec) || !strings.Contains(err.Error(), "dataset.expr[1]") {
			t.Errorf("%.20q: %v, want an invalid spec naming dataset.expr[1]", src, err)
		}
	}
}
