package pipeline

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/liesweep/liesweep/infra/filestore"
	"github.com/liesweep/liesweep/sweeps"
)

// TestAcceptedShapesAnalyse is the property behind issue 22's "shapes the
// analysis cannot solve": over random small analytic specs (dimension,
// samples, evaluation points, N_g, batch, generator kind and loss
// variants drawn independently, many of them degenerate), every spec that
// Validate accepts trains and is analysed to a result — no panic (a
// `mat: dimension mismatch` used to escape Analyze), no error and no
// unsolvable analysis (a failed trial noting "cannot be solved") — and
// every spec it refuses is refused as an invalid spec naming a field.
//
// shapeSeed seeds the draw; a wider search runs it with other seeds.
var shapeSeed uint64 = 22

func TestAcceptedShapesAnalyse(t *testing.T) {
	r := rand.New(rand.NewPCG(shapeSeed, 7))
	ctx := context.Background()
	accepted, refused := 0, 0
	for i := 0; accepted < 40 && i < 400; i++ {
		s := sweeps.DefaultSpec()
		dim := 1 + r.IntN(4)
		s.Dataset = sweeps.Dataset{Kind: "analytic", Oracle: []string{"norm", "lorentz", "expr"}[r.IntN(3)], Dim: dim, Samples: 2 + r.IntN(10)}
		if s.Dataset.Oracle == "expr" {
			s.Dataset.Expr = []string{fmt.Sprintf("x0^2 + %d*x%d", r.IntN(3), r.IntN(dim))}
		}
		s.Generator = sweeps.Generator{Kind: []string{"linear", "mlp"}[r.IntN(2)], Orthogonality: []string{"pointwise", "global"}[r.IntN(2)], Closure: []string{"posthoc", "joint"}[r.IntN(2)]}
		if s.Generator.Kind == "mlp" {
			s.Generator.Hidden = []int{1 + r.IntN(6)}
		}
		s.NG = []int{1 + r.IntN(12)}
		s.Seeds = []int{r.IntN(3)}
		s.Train.Epochs, s.Train.LR, s.Train.CheckpointEvery = 3+r.IntN(5), 1e-2, 2
		s.Train.EvalPoints = 10 + r.IntN(6)
		s.Train.Batch = r.IntN(4)
		s.Train.EarlyStop = false
		s.Normalize()
		if err := s.Validate(); err != nil {
			var fe *sweeps.FieldError
			if !errors.Is(err, sweeps.ErrInvalidSpec) || !errors.As(err, &fe) {
				t.Fatalf("case %d: refused with %v, not an invalid spec naming a field", i, err)
			}
			refused++
			continue
		}
		accepted++
		st, _ := filestore.New(t.TempDir())
		trial := sweeps.Trial{Latent: dim, NG: s.NG[0], Seed: s.Seeds[0]}
		desc := fmt.Sprintf("case %d: %s dim %d samples %d eval %d batch %d, %s %v %s/%s, N_g %d", i, s.Dataset.Oracle, dim, s.Dataset.Samples, s.Train.EvalPoints, s.Train.Batch, s.Generator.Kind, s.Generator.Hidden, s.Generator.Orthogonality, s.Generator.Closure, trial.NG)
		res, err := runGuarded(func() (*sweeps.TrialResult, error) { return (&Runner{Store: st}).RunTrial(ctx, &s, trial, Out{}) })
		switch {
		case err != nil:
			t.Errorf("%s: validate accepted it, the trial failed: %v", desc, err)
		case res == nil:
			t.Errorf("%s: no result", desc)
		case strings.Contains(strings.Join(res.Notes, "; "), "cannot be solved"):
			t.Errorf("%s: validate accepted it, the analysis could not solve it: %q", desc, res.Notes)
		}
	}
	if accepted < 40 || refused == 0 {
		t.Fatalf("%d accepted, %d refused: the draw must exercise both sides", accepted, refused)
	}
	t.Logf("%d accepted and analysed, %d refused", accepted, refused)
}

// runGuarded returns a panic as an error naming it.
func runGuarded(f func() (*sweeps.TrialResult, error)) (res *sweeps.TrialResult, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return f()
}
