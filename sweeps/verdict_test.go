package sweeps

import (
	"math"
	"strings"
	"testing"
)

func trial(ng, seed int, m Metrics) TrialResult {
	r := TrialResult{Dataset: "norm(n=3)", LatentDim: 3, NG: ng, Seed: seed, Metrics: m}
	r.Judge(DefaultSpec().Verdict)
	return r
}

var good = Metrics{InvRatio: 1e-7, OrthoCos2: 1e-9, NormDev: 1e-9, ClosureRel: 1e-7}

// TestAggregateNonMonotone: so(3)'s pattern 1 ✓ 2 ✗ 3 ✓ 4 ✗ gives max 3,
// never "the last N_g before the first failure" (1).
func TestAggregateNonMonotone(t *testing.T) {
	rs := []TrialResult{
		trial(1, 1, good), trial(1, 2, good),
		trial(2, 1, Metrics{ClosureRel: 0.98}), trial(2, 2, Metrics{ClosureRel: 0.5}),
		trial(3, 1, good), trial(3, 2, Metrics{ClosureRel: 0.3}),
		trial(4, 1, Metrics{OrthoCos2: 0.4, NormDev: 0.3}), trial(4, 2, Metrics{InvRatio: 0.2}),
	}
	g := Aggregate(rs, 1)
	if len(g) != 1 {
		t.Fatalf("%d groups", len(g))
	}
	if g[0].MaxNG != 3 || !g[0].Bounded || g[0].MaxNGFlows != 3 {
		t.Errorf("max_ng %d bounded %v flows %d; want 3, true, 3", g[0].MaxNG, g[0].Bounded, g[0].MaxNGFlows)
	}
	if f := g[0].Levels[2].SuccessFraction; f != 0.5 {
		t.Errorf("success fraction at N_g=3: %g, want 0.5", f)
	}
	if !strings.Contains(g[0].Evidence, "N_g = 4 failed") || !strings.Contains(g[0].Evidence, "closure_rel 0.5 > 0.1") {
		t.Errorf("evidence %q lacks the failed levels", g[0].Evidence)
	}
	// quorum 2: N_g = 3 no longer passes
	if g := Aggregate(rs, 2); g[0].MaxNG != 1 {
		t.Errorf("quorum 2: max_ng %d, want 1", g[0].MaxNG)
	}
	// largest tried passes: unbounded
	if g := Aggregate(rs[:6], 1); g[0].Bounded || !strings.Contains(g[0].Evidence, "≥ 3") {
		t.Errorf("unbounded verdict: %+v", g[0])
	}
	if s := FormatTable(g); !strings.Contains(s, "N_g = 3") {
		t.Errorf("table: %s", s)
	}
}

func TestJudge(t *testing.T) {
	r := trial(2, 1, Metrics{InvRatio: 1e-3, OrthoCos2: 0.5, NormDev: 0.01, ClosureRel: 0.2})
	if r.Passed || r.FlowsPassed || strings.Join(r.FailedOn, ",") != "closure_rel,ortho_cos2" {
		t.Errorf("judge: passed %v flows %v failed_on %v", r.Passed, r.FlowsPassed, r.FailedOn)
	}
	r = trial(2, 1, Metrics{InvRatio: 1e-3, ClosureRel: 0.3})
	if r.Passed || !r.FlowsPassed {
		t.Errorf("closure-only failure: passed %v flows %v", r.Passed, r.FlowsPassed)
	}
}

// TestAggregateTrivialBound: with MLP generators, a passing level within
// ℓ − rank ∂ψ is not a discovery; one above it is; linear generators
// (no trivial_flows) keep max_discovery_ng = max_ng.
func TestAggregateTrivialBound(t *testing.T) {
	two := 2
	mk := func(ng int, passed bool, trivial *int) TrialResult {
		return TrialResult{Dataset: "table(t.csv)", LatentDim: 3, NG: ng, Seed: 1, Passed: passed, FlowsPassed: passed, TrivialFlows: trivial}
	}
	for _, c := range []struct {
		name                 string
		results              []TrialResult
		maxNG, discovery, tf int
		says                 string
	}{
		{"within", []TrialResult{mk(1, true, &two), mk(2, true, &two), mk(3, false, &two)}, 2, 0, 2, "N_g = 2 is within it, so no level is a discovery"},
		{"above", []TrialResult{mk(1, true, &two), mk(2, false, &two), mk(3, true, &two)}, 3, 3, 2, "the largest is N_g = 3"},
		{"linear", []TrialResult{mk(1, true, nil), mk(2, true, nil), mk(3, false, nil)}, 2, 2, 0, ""},
	} {
		g := Aggregate(c.results, 1)[0]
		if g.MaxNG != c.maxNG || g.MaxDiscoveryNG != c.discovery || g.TrivialFlows != c.tf || !strings.Contains(g.Evidence, c.says) {
			t.Errorf("%s: max_ng %d discovery %d trivial %d evidence %q; want %d %d %d containing %q", c.name, g.MaxNG, g.MaxDiscoveryNG, g.TrivialFlows, g.Evidence, c.maxNG, c.discovery, c.tf, c.says)
		}
		if c.tf == 0 && strings.Contains(FormatTable([]Group{g}), "trivial bound") {
			t.Errorf("%s: the table mentions a trivial bound", c.name)
		}
	}
}

// TestAggregateWithinNoise: a level is within the noise when trials whose
// metric intervals straddle a threshold, counted the other way, change its
// outcome at the quorum; the success fraction carries its Wilson interval.
func TestAggregateWithinNoise(t *testing.T) {
	v := Verdict{InvRatio: 0.01, OrthoCos2: 0.1, NormDev: 0.1, ClosureRel: 0.01}
	mk := func(seed int, inv float64, ci [2]float64) TrialResult {
		r := TrialResult{Dataset: "d", LatentDim: 2, NG: 1, Seed: seed, Metrics: Metrics{InvRatio: inv},
			MetricIntervals: &MetricIntervals{InvRatio: ci, Rounds: 200}}
		r.Judge(v)
		return r
	}
	clear := [2]float64{0.001, 0.002}
	for _, c := range []struct {
		name   string
		trials []TrialResult
		quorum int
		noisy  bool
	}{
		{"clear pass", []TrialResult{mk(1, 0.0015, clear), mk(2, 0.0015, clear), mk(3, 0.02, [2]float64{0.015, 0.03})}, 2, false},
		{"a pass that could fail", []TrialResult{mk(1, 0.009, [2]float64{0.007, 0.012}), mk(2, 0.0015, clear), mk(3, 0.02, [2]float64{0.015, 0.03})}, 2, true},
		{"a fail that could pass", []TrialResult{mk(1, 0.0015, clear), mk(2, 0.011, [2]float64{0.008, 0.014}), mk(3, 0.02, [2]float64{0.015, 0.03})}, 2, true},
		{"flips that do not matter", []TrialResult{mk(1, 0.0015, clear), mk(2, 0.0015, clear), mk(3, 0.011, [2]float64{0.008, 0.014})}, 2, false},
	} {
		g := Aggregate(c.trials, c.quorum)[0]
		lv := g.Levels[0]
		if lv.WithinNoise != c.noisy || strings.Contains(g.Evidence, "within the noise") != c.noisy {
			t.Errorf("%s: within_noise %v, evidence %q; want %v", c.name, lv.WithinNoise, g.Evidence, c.noisy)
		}
	}
	if w := wilson(2, 3); math.Abs(w[0]-0.2077) > 1e-3 || math.Abs(w[1]-0.9385) > 1e-3 {
		t.Errorf("Wilson interval of 2/3 = %v, want [0.2077, 0.9385]", w)
	}
}
