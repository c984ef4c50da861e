package models

import (
	"math/rand/v2"
	"testing"

	"github.com/liesweep/liesweep/datasets"
)

// TestOracleRank: the rank of ∂ψ for formulas whose rank is known — one
// output (rank 1), two independent outputs (2), two outputs that are
// functions of one quantity (1), three outputs in R² (at most 2).
func TestOracleRank(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	pts := make([][]float64, 40)
	for i := range pts {
		pts[i] = []float64{r.NormFloat64(), r.NormFloat64(), r.NormFloat64(), r.NormFloat64()}
	}
	for _, c := range []struct {
		exprs []string
		dim   int
		want  int
	}{
		{[]string{"x0^2 + x1^2 + x2^2 + x3^2"}, 4, 1},
		{[]string{"x0^2 + x1^2", "x2^2 - x3"}, 4, 2},
		{[]string{"x0^2 + x1^2", "tanh(x0^2 + x1^2)"}, 4, 1},
		{[]string{"x0", "x1", "x0*x1"}, 2, 2},
	} {
		o, err := exprOracle(c.dim, c.exprs...)
		if err != nil {
			t.Fatal(err)
		}
		z := make([][]float64, len(pts))
		for i, p := range pts {
			z[i] = p[:c.dim]
		}
		rank, ranks, err := OracleRank(o, z, 1e-5)
		if err != nil {
			t.Fatal(err)
		}
		if rank != c.want || len(ranks) != len(z) {
			t.Errorf("%v: rank %d (per point %v), want %d", c.exprs, rank, ranks, c.want)
		}
	}
}

func exprOracle(dim int, src ...string) (*ExprOracle, error) {
	var exprs []*datasets.Expr
	for _, s := range src {
		e, err := datasets.ParseExpr(s, dim)
		if err != nil {
			return nil, err
		}
		exprs = append(exprs, e)
	}
	return NewExprOracle(dim, exprs), nil
}
