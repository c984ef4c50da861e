package sweeps

import (
	"slices"
	"testing"
)

// walk runs an ascent against a table of which (ℓ, N_g) pass every
// criterion ("c") or only the flow criteria ("f") and returns the levels
// it visited per ℓ.
func walk(t *testing.T, spec *Spec, flows bool, outcome func(l, ng int) string) map[int][]int {
	t.Helper()
	a := NewAscent(spec, flows)
	seen := map[int][]int{}
	for steps := 0; ; steps++ {
		if steps > 100 {
			t.Fatal("the ascent does not end")
		}
		ng, ls := a.Level()
		if len(ls) == 0 {
			return seen
		}
		res := map[int][]TrialResult{}
		for _, l := range ls {
			seen[l] = append(seen[l], ng)
			o := outcome(l, ng)
			for range spec.Seeds {
				res[l] = append(res[l], TrialResult{Passed: o == "c", FlowsPassed: o == "c" || o == "f"})
			}
		}
		a.Record(res)
	}
}

func TestAscentStopsAfterPatienceFailures(t *testing.T) {
	s := DefaultSpec()
	s.LatentDims, s.NG, s.Seeds = []int{3, 16}, []int{1, 2, 4, 6, 8}, []int{1, 2}
	s.Adaptive = Adaptive{Enabled: true, Patience: 2, MaxNG: 10}
	// ℓ = 3: closed at 1, flows only at 2, nothing above; ℓ = 16: flows up to 6.
	outcome := func(l, ng int) string {
		switch {
		case ng == 1:
			return "c"
		case l == 3 && ng == 2, l == 16 && ng <= 6:
			return "f"
		}
		return "x"
	}
	got := walk(t, &s, true, outcome)
	if want := []int{1, 2, 4, 6}; !slices.Equal(got[3], want) {
		t.Errorf("ℓ = 3 with flows: levels %v, want %v", got[3], want)
	}
	if want := []int{1, 2, 4, 6, 8, 9}; !slices.Equal(got[16], want) {
		t.Errorf("ℓ = 16 with flows: levels %v, want %v (two failures after 6)", got[16], want)
	}
	// Without Flows a level counts only when it closes.
	got = walk(t, &s, false, outcome)
	if want := []int{1, 2, 4}; !slices.Equal(got[16], want) {
		t.Errorf("ℓ = 16, closure only: levels %v, want %v", got[16], want)
	}
}

func TestAscentExtendsToMaxNG(t *testing.T) {
	s := DefaultSpec()
	s.LatentDims, s.NG = []int{2}, []int{1, 2}
	s.Adaptive = Adaptive{Enabled: true, Patience: 2}
	got := walk(t, &s, true, func(l, ng int) string { return "c" })
	if want := []int{1, 2, 3, 4}; !slices.Equal(got[2], want) {
		t.Errorf("levels %v, want %v (up to ℓ² = 4)", got[2], want)
	}
}

func TestDistinctFlows(t *testing.T) {
	// pairs of 4: (0,1) (0,2) (0,3) (1,2) (1,3) (2,3); 1 and 3 align.
	p := []float64{0.001, 0.002, 0.003, 0.001, 0.9, 0.002}
	if got := DistinctFlows(4, p, 0.01); got != 3 {
		t.Errorf("DistinctFlows = %d, want 3 (generator 4 aligns with 2)", got)
	}
	if got := DistinctFlows(4, []float64{0, 0, 0, 0, 0, 0}, 0.01); got != 4 {
		t.Errorf("orthogonal: %d, want 4", got)
	}
	if got := DistinctFlows(1, nil, 0.01); got != 1 {
		t.Errorf("one generator: %d", got)
	}
}

// TestAscentStaysInBounds: whatever passes, the ascent never asks for more
// than MaxNG generators (ℓ = 9, max_ng 0 = ℓ² = 81, used to reach 65), nor
// for more than ℓ² linear ones (max_ng above ℓ²), and Uncapped restores the
// old walk for replayed workflows.
func TestAscentStaysInBounds(t *testing.T) {
	for _, c := range []struct {
		kind     string
		latent   int
		maxNG    int
		wantLast int
		analytic [2]int // samples, eval_points of an analytic oracle in R^latent
	}{
		{"mlp", 9, 0, MaxNG, [2]int{}},
		{"linear", 9, 0, MaxNG, [2]int{}},
		{"linear", 3, 20, 9, [2]int{}},
		{"mlp", 3, 20, 20, [2]int{}},
		{"linear", 2, 0, 4, [2]int{}},
		// the analysis solves over min(samples, eval_points)·ℓ values: an
		// ascent that passed N_g = 20 used to train N_g = 21 and fail
		{"mlp", 2, 64, 20, [2]int{300, 10}},
		{"mlp", 2, 64, 12, [2]int{6, 10}},
	} {
		s := DefaultSpec()
		s.LatentDims, s.NG = []int{c.latent}, []int{1}
		if c.analytic[0] > 0 {
			s.Dataset = Dataset{Kind: "analytic", Oracle: "norm", Dim: c.latent, Samples: c.analytic[0]}
			s.Train.EvalPoints = c.analytic[1]
		}
		s.Generator.Kind = c.kind
		s.Adaptive = Adaptive{Enabled: true, Patience: 1, MaxNG: c.maxNG}
		a := NewAscent(&s, true)
		last := 0
		for {
			ng, ls := a.Level()
			if len(ls) == 0 {
				break
			}
			last = ng
			a.Record(map[int][]TrialResult{c.latent: {{Passed: true, FlowsPassed: true}}})
		}
		if last != c.wantLast {
			t.Errorf("%s ℓ = %d max_ng %d: the ascent ended at N_g = %d, want %d", c.kind, c.latent, c.maxNG, last, c.wantLast)
		}
	}
	s := DefaultSpec()
	s.LatentDims, s.NG = []int{9}, []int{80}
	s.Adaptive = Adaptive{Enabled: true, Patience: 1}
	a := NewAscent(&s, true)
	a.Uncapped()
	a.Record(map[int][]TrialResult{9: {{Passed: true}}})
	if ng, _ := a.Level(); ng != 81 {
		t.Errorf("Uncapped: next level %d, want 81 (ℓ², the old limit)", ng)
	}
}

// TestAscentLinearPerLatent: with linear generators each ℓ stops at its
// own ℓ² (ℓ = 2 went on to ℓ = 4's 16 with the largest ℓ's limit).
func TestAscentLinearPerLatent(t *testing.T) {
	s := DefaultSpec()
	s.LatentDims, s.NG = []int{2, 4}, []int{1}
	s.Generator.Kind = "linear"
	s.Adaptive = Adaptive{Enabled: true, Patience: 1}
	got := walk(t, &s, true, func(l, ng int) string { return "c" })
	if last := got[2][len(got[2])-1]; last != 4 {
		t.Errorf("ℓ = 2 ascended to N_g = %d, want 4 (ℓ²)", last)
	}
	if last := got[4][len(got[4])-1]; last != 16 {
		t.Errorf("ℓ = 4 ascended to N_g = %d, want 16", last)
	}
}
