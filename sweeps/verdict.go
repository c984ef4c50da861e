package sweeps

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Level is one N_g of a (dataset, ℓ) group with its trials.
type Level struct {
	NG              int     `json:"ng"`
	Passed          bool    `json:"passed"`
	FlowsPassed     bool    `json:"flows_passed"`
	SuccessFraction float64 `json:"success_fraction"`
	// SuccessInterval is the 95 % Wilson interval of the fraction of
	// seeds that pass, from this level's seeds.
	SuccessInterval [2]float64 `json:"success_interval"`
	// WithinNoise is true when the level's outcome could change on another
	// draw of the evaluation points: counting every trial whose metric
	// intervals straddle a threshold as passing, or as failing, gives
	// different outcomes at the quorum.
	WithinNoise bool          `json:"within_noise,omitempty"`
	Trials      []TrialResult `json:"trials"`
}

// wilson is the 95 % Wilson score interval of k successes in n trials.
func wilson(k, n int) [2]float64 {
	if n == 0 {
		return [2]float64{0, 1}
	}
	const z = 1.959963984540054
	p, nf := float64(k)/float64(n), float64(n)
	c := (p + z*z/(2*nf)) / (1 + z*z/nf)
	h := z / (1 + z*z/nf) * math.Sqrt(p*(1-p)/nf+z*z/(4*nf*nf))
	return [2]float64{math.Max(0, c-h), math.Min(1, c+h)}
}

// couldFlip reports whether a trial's outcome could change on another
// draw of its evaluation points: a passing trial with a metric whose
// interval reaches above its threshold, or a failing one whose failing
// metrics all have intervals reaching down to theirs. Trials without
// intervals never flip.
func couldFlip(t TrialResult) bool {
	iv := t.MetricIntervals
	if iv == nil {
		return false
	}
	cis := map[string][2]float64{"inv_ratio": iv.InvRatio, "ortho_cos2": iv.OrthoCos2, "norm_dev": iv.NormDev, "closure_rel": iv.ClosureRel}
	lim := t.Thresholds.asMetrics()
	if t.Passed {
		for name, ci := range cis {
			if ci[1] > metricValue(lim, name) {
				return true
			}
		}
		return false
	}
	for _, name := range t.FailedOn {
		ci, ok := cis[name]
		if !ok || !(ci[0] <= metricValue(lim, name)) {
			return false
		}
	}
	return len(t.FailedOn) > 0
}

// Group is the verdict for one (dataset, ℓ).
type Group struct {
	Dataset   string `json:"dataset"`
	LatentDim int    `json:"latent_dim"`
	// Combo, Hyper and HyperLabel name the hyperparameter combination
	// of this group when the spec sweeps some: the verdict is per (dataset,
	// ℓ, combination).
	Combo      int            `json:"combo,omitempty"`
	Hyper      map[string]any `json:"hyper,omitempty"`
	HyperLabel string         `json:"hyper_label,omitempty"`
	// MaxNG is the largest passing N_g over the whole grid (0: none passed):
	// success is not monotone in N_g (so(3) has closed subalgebras of
	// dimension 1 and 3, none of 2).
	MaxNG int `json:"max_ng"`
	// Bounded is false when the largest N_g tried passed: the algebra may be
	// larger ("≥ MaxNG").
	Bounded bool `json:"bounded"`
	// MaxNGFlows is the largest N_g passing every criterion but closure.
	MaxNGFlows int     `json:"max_ng_flows"`
	Levels     []Level `json:"levels"`
	// Algebra is the classification of the best passing trial at MaxNG.
	Algebra *Algebra `json:"algebra,omitempty"`
	// TrivialFlows is, for MLP generators, the largest ℓ − rank ∂ψ over
	// the trials: any oracle of that rank has that many independent
	// tangent flows, so a level up to it that passes is not by itself a
	// discovery (0 for linear generators and for results without it).
	TrivialFlows int `json:"trivial_flows,omitempty"`
	// MaxDiscoveryNG is the largest passing N_g above TrivialFlows (MaxNG
	// when TrivialFlows is 0): the part of the verdict that is more than
	// any oracle of ψ's rank would give.
	MaxDiscoveryNG int    `json:"max_discovery_ng"`
	Evidence       string `json:"evidence"`
}

// Aggregate groups trial results by (dataset, ℓ) and N_g and derives the
// verdict: an N_g passes when at least quorum of its seeds pass.
func Aggregate(results []TrialResult, quorum int) []Group {
	type gk struct {
		ds    string
		l     int
		combo int
	}
	byGroup := map[gk]map[int][]TrialResult{}
	hyper := map[gk]TrialResult{}
	var order []gk
	for _, r := range results {
		k := gk{r.Dataset, r.LatentDim, r.Combo}
		if byGroup[k] == nil {
			byGroup[k] = map[int][]TrialResult{}
			order = append(order, k)
			hyper[k] = r
		}
		byGroup[k][r.NG] = append(byGroup[k][r.NG], r)
	}
	sort.Slice(order, func(i, j int) bool {
		if order[i].ds != order[j].ds {
			return order[i].ds < order[j].ds
		}
		if order[i].l != order[j].l {
			return order[i].l < order[j].l
		}
		return order[i].combo < order[j].combo
	})
	var out []Group
	for _, k := range order {
		h := hyper[k]
		g := Group{Dataset: k.ds, LatentDim: k.l, Combo: k.combo, Hyper: h.Hyper, HyperLabel: h.HyperLabel}
		var ngs []int
		for ng := range byGroup[k] {
			ngs = append(ngs, ng)
		}
		sort.Ints(ngs)
		for _, ng := range ngs {
			trials := byGroup[k][ng]
			sort.Slice(trials, func(i, j int) bool { return trials[i].Seed < trials[j].Seed })
			pass, flows := 0, 0
			for _, t := range trials {
				if t.Passed {
					pass++
				}
				if t.FlowsPassed {
					flows++
				}
			}
			for _, t := range trials {
				if t.TrivialFlows != nil {
					g.TrivialFlows = max(g.TrivialFlows, *t.TrivialFlows)
				}
			}
			up, down := 0, 0
			for _, t := range trials {
				if couldFlip(t) {
					if t.Passed {
						down++
					} else {
						up++
					}
				}
			}
			lv := Level{NG: ng, Passed: pass >= quorum, FlowsPassed: flows >= quorum, SuccessFraction: float64(pass) / float64(len(trials)),
				SuccessInterval: wilson(pass, len(trials)), WithinNoise: (pass-down >= quorum) != (pass+up >= quorum), Trials: trials}
			g.Levels = append(g.Levels, lv)
			if lv.Passed {
				g.MaxNG = ng
			}
			if lv.FlowsPassed {
				g.MaxNGFlows = ng
			}
		}
		for _, lv := range g.Levels {
			if lv.Passed && lv.NG > g.TrivialFlows {
				g.MaxDiscoveryNG = lv.NG
			}
		}
		last := g.Levels[len(g.Levels)-1]
		g.Bounded = !last.Passed
		if g.MaxNG > 0 {
			for _, lv := range g.Levels {
				if lv.NG == g.MaxNG {
					best := bestTrial(lv.Trials)
					a := best.Algebra
					g.Algebra = &a
				}
			}
		}
		g.Evidence = evidence(g)
		out = append(out, g)
	}
	return out
}

// hyperSuffix is sep + the group's hyperparameter combination, or "".
func (g Group) hyperSuffix(sep string) string {
	if g.HyperLabel == "" {
		return ""
	}
	return sep + g.HyperLabel
}

// OracleLine says how well the learned ψ of the group's seeds fits its
// validation split — the accuracy of a classifier, the R² of a regression
// — as the range over the seeds ("" for analytic oracles).
func (g Group) OracleLine() string {
	var acc, r2 []float64
	seen := map[int]bool{}
	for _, lv := range g.Levels {
		for _, t := range lv.Trials {
			if seen[t.Seed] {
				continue
			}
			seen[t.Seed] = true
			if t.OracleAccuracy != nil {
				acc = append(acc, *t.OracleAccuracy)
			}
			if t.OracleR2 != nil {
				r2 = append(r2, *t.OracleR2)
			}
		}
	}
	span := func(what string, v []float64) string {
		slices.Sort(v)
		switch {
		case len(v) == 1:
			return fmt.Sprintf("ψ: validation %s %.4f (1 seed)", what, v[0])
		case v[0] == v[len(v)-1]:
			return fmt.Sprintf("ψ: validation %s %.4f (all %d seeds)", what, v[0], len(v))
		}
		return fmt.Sprintf("ψ: validation %s %.4f – %.4f over %d seeds", what, v[0], v[len(v)-1], len(v))
	}
	switch {
	case len(acc) > 0:
		return span("accuracy", acc)
	case len(r2) > 0:
		return span("R²", r2)
	}
	return ""
}

// MaxLabel is the verdict in words: "N_g = 3", or "N_g ≥ 3" when the
// largest N_g tried passed.
func (g Group) MaxLabel() string {
	if !g.Bounded {
		return fmt.Sprintf("N_g ≥ %d", g.MaxNG)
	}
	return fmt.Sprintf("N_g = %d", g.MaxNG)
}

// DiscoveryLabel is the part of the verdict beyond the trivial bound in
// words: "N_g = 3", or "none (every passing level is within ℓ − rank ∂ψ)".
func (g Group) DiscoveryLabel() string {
	if g.MaxNG == 0 {
		return "none (no level passed)"
	}
	if g.MaxDiscoveryNG == 0 {
		return fmt.Sprintf("none (every passing level is within ℓ − rank ∂ψ = %d)", g.TrivialFlows)
	}
	return fmt.Sprintf("N_g = %d", g.MaxDiscoveryNG)
}

// bestTrial is the passing trial with the smallest closure residual.
func bestTrial(ts []TrialResult) TrialResult {
	best := -1
	for i, t := range ts {
		if t.Passed && (best < 0 || t.Metrics.ClosureRel < ts[best].Metrics.ClosureRel) {
			best = i
		}
	}
	if best < 0 {
		return ts[0]
	}
	return ts[best]
}

// evidence says in words why the verdict is what it is: for every failed
// level above the maximum, which metric failed and by how much.
func evidence(g Group) string {
	var parts []string
	if g.MaxNG == 0 {
		parts = append(parts, "no N_g passed")
	} else if g.Bounded {
		parts = append(parts, fmt.Sprintf("largest closed algebra N_g = %d", g.MaxNG))
	} else {
		parts = append(parts, fmt.Sprintf("N_g = %d, the largest tried, passed: the algebra may be larger (≥ %d)", g.MaxNG, g.MaxNG))
	}
	for _, lv := range g.Levels {
		if lv.Passed {
			continue
		}
		// the closest attempt: the trial with the smallest worst excess
		var best string
		bestExcess := math.Inf(1)
		for _, t := range lv.Trials {
			if t.Passed {
				continue // the closest failure is among the seeds that failed
			}
			worst, what := 0.0, ""
			for _, m := range t.FailedOn {
				v, lim := metricValue(t.Metrics, m), metricValue(t.Thresholds.asMetrics(), m)
				if !finite(v) {
					// no excess can beat it (a finite one that overflows
					// to +Inf ties and does not replace it)
					worst, what = math.Inf(1), m+" not finite (see the trial's notes)"
					continue
				}
				if e := v / lim; e > worst {
					worst, what = e, fmt.Sprintf("%s %.3g > %.3g", m, v, lim)
				}
			}
			if math.IsInf(worst, 1) && allUndefined(t) && len(t.Notes) > 0 {
				// a trial that failed as a whole (a diverged training, an
				// analysis that cannot be solved): its note says why, not
				// the first of its undefined metrics
				what, _, _ = strings.Cut(t.Notes[0], ", so the trial")
			}
			if worst < bestExcess || best == "" {
				bestExcess, best = worst, what
			}
		}
		parts = append(parts, fmt.Sprintf("N_g = %d failed (%.0f%% of seeds passed; best seed: %s)", lv.NG, 100*lv.SuccessFraction, best))
	}
	var noisy []string
	for _, lv := range g.Levels {
		if lv.WithinNoise {
			noisy = append(noisy, strconv.Itoa(lv.NG))
		}
	}
	if len(noisy) > 0 {
		parts = append(parts, fmt.Sprintf("within the noise: N_g = %s (a trial's 95%% bootstrap interval over the evaluation points straddles a threshold, and counting it the other way changes the level's outcome)", strings.Join(noisy, ", ")))
	}
	if g.TrivialFlows > 0 {
		what := "no level passed"
		switch {
		case g.MaxDiscoveryNG > 0:
			what = fmt.Sprintf("the levels above are; the largest is N_g = %d", g.MaxDiscoveryNG)
		case g.MaxNG > 0:
			what = fmt.Sprintf("N_g = %d is within it, so no level is a discovery", g.MaxNG)
		}
		parts = append(parts, fmt.Sprintf("ψ's Jacobian has rank %d on the evaluation points, so any oracle of that rank has ℓ − %d = %d independent tangent flows: a level up to N_g = %d that passes is not by itself a discovery, and %s", g.LatentDim-g.TrivialFlows, g.LatentDim-g.TrivialFlows, g.TrivialFlows, g.TrivialFlows, what))
	}
	return strings.Join(parts, "; ")
}

func (v Verdict) asMetrics() Metrics {
	return Metrics{InvRatio: v.InvRatio, OrthoCos2: v.OrthoCos2, NormDev: v.NormDev, ClosureRel: v.ClosureRel}
}

func metricValue(m Metrics, name string) float64 {
	switch name {
	case "inv_ratio":
		return m.InvRatio
	case "ortho_cos2":
		return m.OrthoCos2
	case "norm_dev":
		return m.NormDev
	case "closure_rel":
		return m.ClosureRel
	}
	return math.NaN()
}

// FormatTable renders the groups as a plain-text table: per N_g ✓ or ✗,
// the success fraction, the median of each metric over seeds ("–" where it
// does not apply: ortho_cos2 and closure_rel at N_g = 1) and what each
// seed failed on.
func FormatTable(groups []Group) string {
	var b strings.Builder
	for _, g := range groups {
		fmt.Fprintf(&b, "%s  ℓ=%d%s  maximal closed algebra %s  (distinct flows: %d)\n", g.Dataset, g.LatentDim, g.hyperSuffix("  "), g.MaxLabel(), g.MaxNGFlows)
		fmt.Fprintf(&b, "  %-5s %-6s %-8s %-10s %-10s %-10s %-10s %s\n", "N_g", "pass", "seeds", "inv_ratio", "ortho_cos2", "norm_dev", "closure", "failed on (per seed)")
		for _, lv := range g.Levels {
			med := median(lv.Trials)
			var fails []string
			for _, t := range lv.Trials {
				f := "-"
				if len(t.FailedOn) > 0 {
					f = strings.Join(t.FailedOn, "+")
				}
				fails = append(fails, fmt.Sprintf("s%d:%s", t.Seed, f))
			}
			fmt.Fprintf(&b, "  %-5d %-6s %-8s", lv.NG, check(lv.Passed), fmt.Sprintf("%.0f%%", 100*lv.SuccessFraction))
			for _, c := range metricCols {
				fmt.Fprintf(&b, " %-10s", metricCell(lv.NG, c.name, c.get(med)))
			}
			fmt.Fprintf(&b, " %s\n", strings.Join(fails, " "))
		}
		if g.Algebra != nil {
			fmt.Fprintf(&b, "  algebra at N_g = %d: %s\n", g.MaxNG, g.Algebra.Summary())
		}
		if g.TrivialFlows > 0 {
			fmt.Fprintf(&b, "  trivial bound ℓ − rank ∂ψ = %d: discovery %s\n", g.TrivialFlows, g.DiscoveryLabel())
		}
		fmt.Fprintf(&b, "  evidence: %s\n", g.Evidence)
		if l := g.OracleLine(); l != "" {
			fmt.Fprintf(&b, "  %s\n", l)
		}
		b.WriteString("\n")
	}
	b.WriteString(FormatCombos(groups))
	return b.String()
}

// FormatCombos compares the hyperparameter combinations of each (dataset,
// ℓ): per combination the success fraction of every N_g and the verdict,
// the best marked "★" (the largest maximal N_g, then the most distinct
// flows, then the highest mean success). "" without combinations.
func FormatCombos(groups []Group) string {
	var b strings.Builder
	for _, gs := range ComboSets(groups) {
		k := struct {
			ds string
			l  int
		}{gs[0].Dataset, gs[0].LatentDim}
		var ngs []int
		seen := map[int]bool{}
		for _, g := range gs {
			for _, lv := range g.Levels {
				if !seen[lv.NG] {
					seen[lv.NG] = true
					ngs = append(ngs, lv.NG)
				}
			}
		}
		sort.Ints(ngs)
		best := BestCombo(gs)
		fmt.Fprintf(&b, "%s  ℓ=%d  hyperparameter combinations (success fraction per N_g; ★ best)\n", k.ds, k.l)
		fmt.Fprintf(&b, "  %-3s %-10s", "", "verdict")
		for _, ng := range ngs {
			fmt.Fprintf(&b, " %-7s", fmt.Sprintf("N_g=%d", ng))
		}
		b.WriteString(" combination\n")
		for i, g := range gs {
			mark := " "
			if i == best {
				mark = "★"
			}
			fmt.Fprintf(&b, "  %-3s %-10s", mark, g.MaxLabel())
			for _, ng := range ngs {
				cell := "–"
				for _, lv := range g.Levels {
					if lv.NG == ng {
						cell = fmt.Sprintf("%.0f%%", 100*lv.SuccessFraction)
					}
				}
				fmt.Fprintf(&b, " %-7s", cell)
			}
			fmt.Fprintf(&b, " %s\n", g.HyperLabel)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// ComboSets splits the groups of a sweep with hyperparameter axes by
// (dataset, ℓ), in order: each set holds that (dataset, ℓ)'s combinations.
// Groups without a combination are left out.
func ComboSets(groups []Group) [][]Group {
	type key struct {
		ds string
		l  int
	}
	var order []key
	by := map[key][]Group{}
	for _, g := range groups {
		if g.HyperLabel == "" {
			continue
		}
		k := key{g.Dataset, g.LatentDim}
		if by[k] == nil {
			order = append(order, k)
		}
		by[k] = append(by[k], g)
	}
	out := make([][]Group, len(order))
	for i, k := range order {
		out[i] = by[k]
	}
	return out
}

// BestCombo is the index of the best of one (dataset, ℓ)'s combinations:
// the largest maximal closed N_g, then the largest number of distinct
// flows, then the highest mean success fraction, then the first.
func BestCombo(gs []Group) int {
	best := -1
	var bm, bf int
	var bs float64
	for i, g := range gs {
		var s float64
		for _, lv := range g.Levels {
			s += lv.SuccessFraction
		}
		if len(g.Levels) > 0 {
			s /= float64(len(g.Levels))
		}
		if best < 0 || g.MaxNG > bm || g.MaxNG == bm && (g.MaxNGFlows > bf || g.MaxNGFlows == bf && s > bs) {
			best, bm, bf, bs = i, g.MaxNG, g.MaxNGFlows, s
		}
	}
	return best
}

// median returns the per-metric median over trials.
func median(ts []TrialResult) Metrics {
	pick := func(f func(Metrics) float64) float64 {
		v := make([]float64, len(ts))
		for i, t := range ts {
			v[i] = f(t.Metrics)
		}
		sort.Float64s(v)
		if len(v) == 0 {
			return math.NaN()
		}
		return v[len(v)/2]
	}
	return Metrics{
		InvRatio:   pick(func(m Metrics) float64 { return m.InvRatio }),
		OrthoCos2:  pick(func(m Metrics) float64 { return m.OrthoCos2 }),
		NormDev:    pick(func(m Metrics) float64 { return m.NormDev }),
		ClosureRel: pick(func(m Metrics) float64 { return m.ClosureRel }),
	}
}

// Best is the trial a report shows for this level: the passing seed with
// the smallest closure residual, else the first seed.
func (lv Level) Best() TrialResult { return bestTrial(lv.Trials) }

// DistinctFlows counts the generators of a trial that are pairwise distinct:
// it keeps generators in order while each one's squared cosine with every
// one kept is at most thr (pairOrtho in the order of the pairs α < β). It
// returns n when every pair is below thr, fewer when some flows align.
func DistinctFlows(n int, pairOrtho []float64, thr float64) int {
	if n <= 1 || len(pairOrtho) != n*(n-1)/2 {
		return min(n, 1)
	}
	idx := func(a, b int) int { // position of pair (a, b), a < b
		return a*n - a*(a+1)/2 + (b - a - 1)
	}
	var kept []int
	for c := 0; c < n; c++ {
		ok := true
		for _, a := range kept {
			if pairOrtho[idx(a, c)] > thr {
				ok = false
				break
			}
		}
		if ok {
			kept = append(kept, c)
		}
	}
	return len(kept)
}

// VerdictSchemaVersion is the version of the verdict.json layout; it
// changes when a field changes meaning or is removed.
const VerdictSchemaVersion = 1

// allUndefined reports whether every metric of t is undefined (not finite).
func allUndefined(t TrialResult) bool {
	m := t.Metrics
	return !finite(m.InvRatio) && !finite(m.OrthoCos2) && !finite(m.NormDev) && !finite(m.ClosureRel)
}

// VerdictDoc is verdict.json, the one verdict document of a sweep: written
// by the Aggregate activity of a Temporal sweep and by `liesweep run`, and
// printed by `sweep report --format json`.
type VerdictDoc struct {
	SchemaVersion int      `json:"schema_version"`
	Sweep         string   `json:"sweep"`
	Spec          Spec     `json:"spec"`
	Groups        []Group  `json:"groups"`
	Notes         []string `json:"notes,omitempty"`
}

// NewVerdictDoc aggregates a sweep's trial results into its verdict.
func NewVerdictDoc(sweepID string, spec Spec, results []TrialResult) VerdictDoc {
	d := VerdictDoc{SchemaVersion: VerdictSchemaVersion, Sweep: sweepID, Spec: spec, Groups: Aggregate(results, spec.Verdict.Quorum)}
	if spec.Adaptive.Enabled && len(spec.NG) > 0 && len(spec.LatentDims) > 0 {
		limit := "the most the spec allows"
		if len(spec.Axes) == 0 {
			// a combination's limit is its own (a swept generator.kind or
			// eval_points moves it)
			limit = fmt.Sprintf("N_g = %d, the most this spec allows", NewAscent(&spec, false).Limit())
		}
		d.Notes = append(d.Notes, fmt.Sprintf("adaptive: levels ascended until %d consecutive failed levels (patience), or up to %s (adaptive.max_ng, MaxNG, ℓ² linear generators, and min(samples, eval_points)·ℓ for an analytic oracle)", spec.Adaptive.Patience, limit))
	}
	return d
}
