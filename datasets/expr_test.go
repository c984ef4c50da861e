package datasets

import (
	"errors"
	"math"
	"strings"
	"testing"
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
	}
	for _, c := range cases {
		_, err := ParseExpr(c.src, 4)
		var ee *ExprError
		if !errors.As(err, &ee) {
			t.Fatalf("%q: error %v is not an *ExprError", c.src, err)
		}
		if ee.Pos != c.pos || !strings.Contains(ee.Msg, c.text) {
			t.Errorf("%q: position %d message %q, want position %d containing %q", c.src, ee.Pos, ee.Msg, c.pos, c.text)
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
