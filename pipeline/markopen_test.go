package pipeline

import (
	"strings"
	"testing"

	"github.com/liesweep/liesweep/sweeps"
)

// TestMarkOpen: the "do not close" prefix follows the judgement it is
// written under — added when the trial fails on closure, replaced (not
// stacked) under another threshold, removed when a looser threshold lets
// the trial pass — and the structure's own words stay.
func TestMarkOpen(t *testing.T) {
	res := &sweeps.TrialResult{Metrics: sweeps.Metrics{ClosureRel: 0.5}}
	res.Algebra.Words = "Semisimple: su(2)."
	markOpen(res, 0.1)
	if !strings.HasPrefix(res.Algebra.Words, openPrefix+"0.5 > 0.1)") || !strings.HasSuffix(res.Algebra.Words, "Semisimple: su(2).") {
		t.Fatalf("failed on closure: %q", res.Algebra.Words)
	}
	markOpen(res, 0.2)
	if strings.Count(res.Algebra.Words, openPrefix) != 1 || !strings.Contains(res.Algebra.Words, "0.5 > 0.2)") {
		t.Errorf("re-judged at 0.2: %q", res.Algebra.Words)
	}
	res.Passed = true
	markOpen(res, 1)
	if res.Algebra.Words != "Semisimple: su(2)." {
		t.Errorf("passed under closure_rel ≤ 1: %q, want the prefix gone", res.Algebra.Words)
	}
}
