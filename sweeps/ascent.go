package sweeps

import "slices"

// Ascent is adaptive mode's walk up the N_g levels of a sweep, shared by
// the Temporal workflow and `liesweep run`: it runs the spec's N_g values
// in order, then one more generator at a time up to adaptive.max_ng (0:
// ℓ², the dimension of gl(ℓ)), and drops a latent dimension after
// adaptive.patience consecutive failed levels.
//
// A level is alive for an ℓ when at least quorum of its seeds pass every
// criterion, or, with Flows set, every criterion but closure: then the
// ascent goes on while distinct invariant flows exist, so max_ng_flows is
// explored even where the flows stop closing.
type Ascent struct {
	levels   []int
	latents  []int
	fails    []int
	patience int
	quorum   int
	limit    int
	next     int
	ng       int
	done     bool
	uncapped int
	solvable int // the limit without the analysis' cap
	// linear caps each ℓ's ascent at its own ℓ² (unless Uncapped)
	linear bool
	// Flows keeps the ascent going on levels that pass the flow criteria
	// but not closure.
	Flows bool
}

// NewAscent starts the ascent of spec (normalised and valid).
func NewAscent(spec *Spec, flows bool) *Ascent {
	levels := slices.Clone(spec.NG)
	slices.Sort(levels)
	l := slices.Max(spec.LatentDims)
	limit := spec.Adaptive.MaxNG
	if limit == 0 {
		limit = l * l
	}
	a := &Ascent{
		levels: levels, latents: slices.Clone(spec.LatentDims), fails: make([]int, len(spec.LatentDims)),
		patience: max(1, spec.Adaptive.Patience), quorum: max(1, spec.Verdict.Quorum), limit: limit,
		ng: levels[0], Flows: flows,
	}
	// Every path obeys the bounds Validate puts on ng: at most MaxNG, and
	// at most ℓ² linear generators (gl(ℓ) has dimension ℓ²; more cannot be
	// linearly independent).
	a.uncapped = limit
	a.limit = min(limit, MaxNG)
	if spec.Generator.Kind == "linear" {
		a.limit = min(a.limit, l*l)
		a.linear = true
	}
	// An analytic oracle's structure constants are solved over the
	// min(samples, eval_points)·ℓ values of each field: no more
	// generators than that (Validate's bound on ng).
	a.solvable = a.limit
	if d := spec.Dataset; d.Kind == "analytic" && d.Samples > 0 && spec.Train.EvalPoints > 0 {
		a.limit = min(a.limit, min(d.Samples, spec.Train.EvalPoints)*d.Dim)
	}
	return a
}

// Limit is the largest N_g the ascent may reach.
func (a *Ascent) Limit() int { return a.limit }

// WithoutAnalysisCap lifts the cap at the values the analysis solves over,
// for workflows recorded before it (they replay the walk they took).
func (a *Ascent) WithoutAnalysisCap() { a.limit = a.solvable }

// Uncapped lifts the bounds NewAscent puts on the ascent's limit, for
// workflows recorded before it did (they replay the walk they took).
func (a *Ascent) Uncapped() { a.limit, a.linear = a.uncapped, false }

// Level returns the N_g to run next and the latent dimensions still
// ascending; none are left when the ascent is over.
func (a *Ascent) Level() (ng int, latents []int) {
	if a.done {
		return a.ng, nil
	}
	for i, l := range a.latents {
		if a.fails[i] < a.patience && !(a.linear && a.ng > l*l) {
			latents = append(latents, l)
		}
	}
	return a.ng, latents
}

// Record judges the level just run from its trials (by ℓ) and moves to
// the next one.
func (a *Ascent) Record(results map[int][]TrialResult) {
	_, active := a.Level()
	for i, l := range a.latents {
		if !slices.Contains(active, l) {
			continue
		}
		pass, flows := 0, 0
		for _, r := range results[l] {
			if r.Passed {
				pass++
			}
			if r.FlowsPassed {
				flows++
			}
		}
		if pass >= a.quorum || (a.Flows && flows >= a.quorum) {
			a.fails[i] = 0
		} else {
			a.fails[i]++
		}
	}
	a.next++
	switch {
	case a.next < len(a.levels):
		a.ng = a.levels[a.next]
	case a.ng+1 > a.limit:
		a.done = true
	default:
		a.ng++
	}
}
