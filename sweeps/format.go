package sweeps

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// BracketLines writes the non-zero structure constants of one trial as
// "[J1, J2] = 0.998 J3" lines (|a| below AlgebraPrintTol is left out).
func BracketLines(a [][][]float64) []string {
	var out []string
	for x := range a {
		for y := x + 1; y < len(a); y++ {
			var terms []string
			for c, v := range a[x][y] {
				if math.Abs(v) >= AlgebraPrintTol {
					terms = append(terms, fmt.Sprintf("%+.3f J%d", v, c+1))
				}
			}
			rhs := "0"
			if len(terms) > 0 {
				rhs = strings.TrimPrefix(strings.Join(terms, " "), "+")
			}
			out = append(out, fmt.Sprintf("[J%d, J%d] = %s", x+1, y+1, rhs))
		}
	}
	return out
}

// AlgebraPrintTol is the smallest structure constant a report prints.
const AlgebraPrintTol = 1e-2

// meanStd returns the mean and the sample standard deviation of a metric
// over trials,
//
//	s = sqrt( Σ_i (x_i − x̄)² / (n − 1) ),
//
// the estimate of the spread over seeds that does not shrink to 0 with one
// seed: s is NaN for fewer than two trials, where it is undefined (and
// both are NaN without trials).
func meanStd(ts []TrialResult, f func(Metrics) float64) (float64, float64) {
	if len(ts) == 0 {
		return math.NaN(), math.NaN()
	}
	var s, ss float64
	for _, t := range ts {
		s += f(t.Metrics)
	}
	m := s / float64(len(ts))
	if len(ts) < 2 {
		return m, math.NaN()
	}
	for _, t := range ts {
		ss += (f(t.Metrics) - m) * (f(t.Metrics) - m)
	}
	return m, math.Sqrt(ss / float64(len(ts)-1))
}

// MetricApplies reports whether a metric means something for a trial with
// ng generators: ortho_cos2 and closure_rel are about pairs of generators
// and are 0 by definition for one. Human tables print "–" and plots draw
// nothing where a metric does not apply; CSV and JSON keep the 0.
func MetricApplies(name string, ng int) bool {
	return ng > 1 || name != "ortho_cos2" && name != "closure_rel"
}

// notApplicable is what a human table prints for a metric that does not
// apply.
const notApplicable = "–"

// check is ✓ or ✗, the human tables' spelling of a bool.
func check(v bool) string {
	if v {
		return "✓"
	}
	return "✗"
}

// meanStdCell is a mean ± sample std table cell: "n/a" for the std of a
// single seed, "–" where the metric does not apply.
func meanStdCell(ng int, ts []TrialResult, name string, f func(Metrics) float64) string {
	if !MetricApplies(name, ng) {
		return notApplicable
	}
	m, s := meanStd(ts, f)
	if len(ts) < 2 || !finite(m) {
		return FormatMetric(m) + " ± n/a"
	}
	return fmt.Sprintf("%.3g ± %.2g", m, s)
}

// metricCell is one trial's metric in a human table ("–" where it does not
// apply).
func metricCell(ng int, name string, v float64) string {
	if !MetricApplies(name, ng) {
		return notApplicable
	}
	return FormatMetric(v)
}

// FormatMetric is a metric for people: three significant digits, or
// "undefined" where it is not finite (null in result.json, where the
// trial's notes say why; "+Inf" and "NaN" read as measured values).
func FormatMetric(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "undefined"
	}
	return fmt.Sprintf("%.3g", v)
}

var metricCols = []struct {
	name string
	get  func(Metrics) float64
}{
	{"inv_ratio", func(m Metrics) float64 { return m.InvRatio }},
	{"ortho_cos2", func(m Metrics) float64 { return m.OrthoCos2 }},
	{"norm_dev", func(m Metrics) float64 { return m.NormDev }},
	{"closure_rel", func(m Metrics) float64 { return m.ClosureRel }},
}

// intervalCell is a trial metric's 95 % bootstrap interval, " [lo, hi]",
// or "" without one (results written before liesweep measured them).
func intervalCell(t TrialResult, name string) string {
	iv := t.MetricIntervals
	if iv == nil {
		return ""
	}
	ci := map[string][2]float64{"inv_ratio": iv.InvRatio, "ortho_cos2": iv.OrthoCos2, "norm_dev": iv.NormDev, "closure_rel": iv.ClosureRel}[name]
	if !finite(ci[0]) || !finite(ci[1]) {
		return " [undefined]"
	}
	return fmt.Sprintf(" [%.3g, %.3g]", ci[0], ci[1])
}

// csvStages are the stages whose wall time FormatCSV gives a column.
var csvStages = []string{StageAutoencoder, StageLatents, StageOracle, StageGenerators, StageAnalysis}

// FormatCSV writes one row per trial, for pandas, every number at full
// precision (the shortest decimal that reads back to the same float64).
// The columns up to "worker" are the original ones, in their order; after
// them come the generator epochs configured and run and whether early
// stopping ended training, the thresholds the trial was judged with, the
// seconds of each stage (0 for a stage reused from the store) and their
// total, the algebra's name and the structure constants a[α][β][γ] as a
// compact JSON array (NaN and ±Inf as null).
func FormatCSV(sweep string, groups []Group) string {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	header := []string{"sweep", "dataset", "latent_dim", "ng", "seed", "passed", "flows_passed", "failed_on",
		"loss_total", "loss_inv", "loss_norm", "loss_ortho", "loss_closure",
		"inv_ratio", "ortho_cos2", "norm_dev", "closure_rel", "algebra_dim", "abelian", "derived_dim",
		"killing_pos", "killing_neg", "killing_zero", "oracle_accuracy", "autoencoder_mse", "worker",
		"epochs", "epochs_run", "stopped_early",
		"threshold_inv_ratio", "threshold_ortho_cos2", "threshold_norm_dev", "threshold_closure_rel"}
	for _, st := range csvStages {
		header = append(header, "seconds_"+st)
	}
	header = append(header, "seconds_total", "algebra_name", "structure_constants", "hyper_label", "hyper", "oracle_r2")
	w.Write(header)
	f := func(v float64) string {
		if !finite(v) {
			return "" // an empty cell, NaN to pandas: not "+Inf" or "NaN" beside null in JSON
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	opt := func(p *float64) string {
		if p == nil {
			return ""
		}
		return f(*p)
	}
	for _, g := range groups {
		for _, lv := range g.Levels {
			for _, t := range lv.Trials {
				a, th := t.Algebra, t.Thresholds
				epochsRun := ""
				if t.EpochsRun > 0 {
					epochsRun = strconv.Itoa(t.EpochsRun)
				}
				row := []string{sweep, g.Dataset, strconv.Itoa(g.LatentDim), strconv.Itoa(t.NG), strconv.Itoa(t.Seed),
					strconv.FormatBool(t.Passed), strconv.FormatBool(t.FlowsPassed), strings.Join(t.FailedOn, "+"),
					f(t.Losses.Total), f(t.Losses.Inv), f(t.Losses.Norm), f(t.Losses.Ortho), f(t.Losses.Closure),
					f(t.Metrics.InvRatio), f(t.Metrics.OrthoCos2), f(t.Metrics.NormDev), f(t.Metrics.ClosureRel),
					strconv.Itoa(a.Dim), strconv.FormatBool(a.Abelian), strconv.Itoa(a.DerivedDim),
					strconv.Itoa(a.KillingSignature.Pos), strconv.Itoa(a.KillingSignature.Neg), strconv.Itoa(a.KillingSignature.Zero),
					opt(t.OracleAccuracy), opt(t.AutoencoderMSE), t.Worker,
					strconv.Itoa(t.Epochs), epochsRun, strconv.FormatBool(t.StoppedEarly),
					f(th.InvRatio), f(th.OrthoCos2), f(th.NormDev), f(th.ClosureRel)}
				var total float64
				for _, st := range csvStages {
					cell := ""
					for _, r := range t.Stages {
						if r.Stage == st {
							cell = f(r.Seconds)
							total += r.Seconds
						}
					}
					row = append(row, cell)
				}
				hyper := ""
				if len(t.Hyper) > 0 {
					if hb, err := json.Marshal(t.Hyper); err == nil {
						hyper = string(hb)
					}
				}
				row = append(row, f(total), a.Name, jsonFloats3(t.StructureConstants), t.HyperLabel, hyper, opt(t.OracleR2))
				w.Write(row)
			}
		}
	}
	w.Flush()
	return b.String()
}

// jsonFloats3 writes a[α][β][γ] as a compact JSON array with every number
// at full precision; NaN and ±Inf, which JSON lacks, become null.
func jsonFloats3(a [][][]float64) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, x := range a {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('[')
		for j, y := range x {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('[')
			for k, v := range y {
				if k > 0 {
					b.WriteByte(',')
				}
				if math.IsNaN(v) || math.IsInf(v, 0) {
					b.WriteString("null")
				} else {
					b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
				}
			}
			b.WriteByte(']')
		}
		b.WriteByte(']')
	}
	b.WriteByte(']')
	return b.String()
}

// FormatMarkdown renders the verdict, the per-N_g mean ± sample std over
// seeds ("n/a" with one seed), the N_g × seed table (✓/✗ for pass and
// fail, "–" for a metric that does not apply at that N_g) and the
// structure constants of the best seed.
func FormatMarkdown(sweep string, groups []Group) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Sweep %s\n\n", sweep)
	for _, g := range groups {
		fmt.Fprintf(&b, "## %s, ℓ = %d%s\n\n**Maximal closed algebra: %s** (distinct flows: %d).\n\n", g.Dataset, g.LatentDim, g.hyperSuffix(", "), g.MaxLabel(), g.MaxNGFlows)
		if g.TrivialFlows > 0 {
			fmt.Fprintf(&b, "**Beyond the trivial bound** (ℓ − rank ∂ψ = %d tangent flows any oracle of ψ's rank has): %s.\n\n", g.TrivialFlows, g.DiscoveryLabel())
		}
		fmt.Fprintf(&b, "%s\n\n", g.Evidence)
		if l := g.OracleLine(); l != "" {
			fmt.Fprintf(&b, "%s\n\n", l)
		}
		if g.Algebra != nil {
			fmt.Fprintf(&b, "Algebra at N_g = %d: %s\n\n", g.MaxNG, g.Algebra.Summary())
			for _, l := range g.Algebra.DecompositionLines() {
				fmt.Fprintf(&b, "- %s\n", l)
			}
			if len(g.Algebra.Decomposition) > 0 {
				fmt.Fprintf(&b, "\n(Solvable: %s, nilpotent: %s; derived series %v, lower central series %v; tolerance %.3g from the closure residual.)\n\n",
					check(g.Algebra.Solvable), check(g.Algebra.Nilpotent), g.Algebra.DerivedSeries, g.Algebra.LowerCentralSeries, g.Algebra.Tol)
			}
		}
		b.WriteString("| N_g | passed | success (95% interval) | inv_ratio | ortho_cos2 | norm_dev | closure_rel |\n|---|---|---|---|---|---|---|\n")
		for _, lv := range g.Levels {
			noise := ""
			if lv.WithinNoise {
				noise = " (within the noise)"
			}
			fmt.Fprintf(&b, "| %d | %s%s | %.0f%% (%.0f–%.0f%%) |", lv.NG, check(lv.Passed), noise, 100*lv.SuccessFraction, 100*lv.SuccessInterval[0], 100*lv.SuccessInterval[1])
			for _, c := range metricCols {
				fmt.Fprintf(&b, " %s |", meanStdCell(lv.NG, lv.Trials, c.name, c.get))
			}
			b.WriteString("\n")
		}
		b.WriteString("\n| N_g | seed | passed | failed on | inv_ratio | ortho_cos2 | norm_dev | closure_rel | worker |\n|---|---|---|---|---|---|---|---|---|\n")
		for _, lv := range g.Levels {
			for _, t := range lv.Trials {
				fail := strings.Join(t.FailedOn, ", ")
				if fail == "" {
					fail = "–"
				}
				fmt.Fprintf(&b, "| %d | %d | %s | %s |", t.NG, t.Seed, check(t.Passed), fail)
				for _, c := range metricCols {
					fmt.Fprintf(&b, " %s%s |", metricCell(t.NG, c.name, c.get(t.Metrics)), intervalCell(t, c.name))
				}
				fmt.Fprintf(&b, " %s |\n", t.Worker)
			}
		}
		// what the trials say of themselves (why a metric is undefined,
		// why a training failed): the evidence points here
		first := true
		for _, lv := range g.Levels {
			for _, t := range lv.Trials {
				for _, n := range t.Notes {
					if first {
						b.WriteString("\nNotes of the trials:\n\n")
						first = false
					}
					fmt.Fprintf(&b, "- N_g = %d, seed %d: %s\n", t.NG, t.Seed, n)
				}
			}
		}
		for _, lv := range g.Levels {
			if lv.NG == g.MaxNG && g.MaxNG > 1 {
				best := bestTrial(lv.Trials)
				fmt.Fprintf(&b, "\nStructure constants at N_g = %d (seed %d):\n\n", lv.NG, best.Seed)
				for _, l := range BracketLines(best.StructureConstants) {
					fmt.Fprintf(&b, "    %s\n", l)
				}
				if sb := best.SparseBasis; sb != nil {
					what := "the generators"
					if sb.Linearised {
						what = "the generators' Jacobians at the mean of the evaluation points (MLP generators, linearised)"
					}
					fmt.Fprintf(&b, "\nIn the sparse basis (%s rotated to the fewest non-zero entries):\n\n", what)
					for _, l := range BracketLines(sb.StructureConstants) {
						fmt.Fprintf(&b, "    %s\n", strings.ReplaceAll(l, "J", "M"))
					}
				}
			}
		}
		b.WriteString("\n")
	}
	if c := FormatCombos(groups); c != "" {
		fmt.Fprintf(&b, "## Hyperparameter combinations\n\n```\n%s```\n\n", c)
	}
	return b.String()
}

// FormatCompare sets two sweeps' verdicts side by side per (dataset, ℓ)
// and N_g: success fraction and median metrics, with "*" marking what
// differs (pass/fail of a level, or the verdict).
func FormatCompare(idA string, a []Group, idB string, b []Group) string {
	var out strings.Builder
	// groups pair by dataset, ℓ and hyperparameter combination (by
	// combination the compare dropped all but one)
	find := func(gs []Group, ds string, l int, hyper string) *Group {
		for i := range gs {
			if gs[i].Dataset == ds && gs[i].LatentDim == l && gs[i].HyperLabel == hyper {
				return &gs[i]
			}
		}
		return nil
	}
	seen := map[string]bool{}
	for _, g := range append(append([]Group(nil), a...), b...) {
		key := fmt.Sprintf("%s/%d/%s", g.Dataset, g.LatentDim, g.HyperLabel)
		if seen[key] {
			continue
		}
		seen[key] = true
		ga, gb := find(a, g.Dataset, g.LatentDim, g.HyperLabel), find(b, g.Dataset, g.LatentDim, g.HyperLabel)
		label := func(x *Group) string {
			if x == nil {
				return "–"
			}
			return x.MaxLabel()
		}
		mark := ""
		if label(ga) != label(gb) {
			mark = " *"
		}
		fmt.Fprintf(&out, "%s ℓ=%d%s   %s: %s   %s: %s%s\n", g.Dataset, g.LatentDim, g.hyperSuffix(" "), idA, label(ga), idB, label(gb), mark)
		fmt.Fprintf(&out, "  %-4s | %-30s | %-30s\n", "N_g", idA+" (pass, inv, ortho, closure)", idB+" (pass, inv, ortho, closure)")
		levels := map[int]bool{}
		var ngs []int
		for _, x := range []*Group{ga, gb} {
			if x == nil {
				continue
			}
			for _, lv := range x.Levels {
				if !levels[lv.NG] {
					levels[lv.NG] = true
					ngs = append(ngs, lv.NG)
				}
			}
		}
		sortInts(ngs)
		cell := func(x *Group, ng int) (string, string) {
			if x == nil {
				return "–", ""
			}
			for _, lv := range x.Levels {
				if lv.NG == ng {
					m := median(lv.Trials)
					p := "✗"
					if lv.Passed {
						p = "✓"
					}
					return fmt.Sprintf("%s %3.0f%% %.2g %.2g %.2g", p, 100*lv.SuccessFraction, m.InvRatio, m.OrthoCos2, m.ClosureRel), p
				}
			}
			return "–", ""
		}
		for _, ng := range ngs {
			ca, pa := cell(ga, ng)
			cb, pb := cell(gb, ng)
			m := ""
			if pa != pb {
				m = " *"
			}
			fmt.Fprintf(&out, "  %-4d | %-30s | %-30s%s\n", ng, ca, cb, m)
		}
		out.WriteString("\n")
	}
	return out.String()
}

func sortInts(x []int) {
	for i := 1; i < len(x); i++ {
		for j := i; j > 0 && x[j] < x[j-1]; j-- {
			x[j], x[j-1] = x[j-1], x[j]
		}
	}
}
