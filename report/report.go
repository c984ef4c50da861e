// Package report turns a finished sweep into something a researcher reads:
// the verdict tables of sweeps.FormatMarkdown, plots of every trial's
// training, the final metrics against N_g, and pictures of the learned
// flows (paper Figs. 4–8), as Markdown with PNGs and as one self-contained
// HTML file. It reads the trials' artifacts back through a pipeline.Runner
// and trains nothing.
package report

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/liesweep/liesweep/pipeline"
	"github.com/liesweep/liesweep/sweeps"
)

// Options tune the flow pictures.
type Options struct {
	// StreamSteps and StreamEps: streamlines are integrated with StreamSteps
	// Runge–Kutta steps of StreamEps (the paper: 6000 steps of 1e-3).
	StreamSteps int
	StreamEps   float64
	// Frames is the number of decoded images along a streamline.
	Frames int
	// Grid is the heat map's resolution per axis; Arrows the arrow grid's.
	Grid, Arrows int
	// TangencyPoints is the number of validation latents the tangency of
	// the flows to ψ's level sets is measured on.
	TangencyPoints int
}

// DefaultOptions are the paper's streamline steps and a legible picture.
func DefaultOptions() Options {
	return Options{StreamSteps: 6000, StreamEps: 1e-3, Frames: 11, Grid: 120, Arrows: 17, TangencyPoints: 1000}
}

// Image is one PNG of the report, stored as plots/<Name>.
type Image struct {
	Name    string
	Title   string
	Caption string
	PNG     []byte
}

// Tangency measures how well a generator's field follows ψ's level sets at
// the validation latents: Field = Σ_i Σ_k (g·∇ψ_k)² / Σ_i Σ_k |g|²|∇ψ_k|²,
// the mean squared cosine between the field and the oracle's gradients,
// weighted by their sizes (0 for a perfect symmetry). Random is the same
// for random unit directions (≈ 1/ℓ) and Rotated for the field turned by
// 90° (ℓ = 2 only, ≈ 1 − Field): the controls that show the measure can fail.
type Tangency struct {
	Dataset   string  `json:"dataset"`
	LatentDim int     `json:"latent_dim"`
	NG        int     `json:"ng"`
	Seed      int     `json:"seed"`
	Generator int     `json:"generator"`
	Points    int     `json:"points"`
	Field     float64 `json:"field"`
	Random    float64 `json:"random"`
	Rotated   float64 `json:"rotated,omitempty"`
}

// Drift is how far ψ's class probability moved along a streamline through
// a class centre: MaxDrift = max_t |p_c(z(t)) − p_c(z(0))|.
type Drift struct {
	Dataset   string  `json:"dataset"`
	LatentDim int     `json:"latent_dim"`
	NG        int     `json:"ng"`
	Seed      int     `json:"seed"`
	Generator int     `json:"generator"`
	Class     int     `json:"class"`
	Start     float64 `json:"start"`
	End       float64 `json:"end"`
	MaxDrift  float64 `json:"max_drift"`
	Steps     int     `json:"steps"`
	Eps       float64 `json:"eps"`
	// LeftDataAt is the first step at which the streamline is outside the
	// bounding box of the validation latents (-1: it never leaves), where
	// ψ and the generators are extrapolating; DriftInside is the largest
	// drift before that step.
	LeftDataAt  int     `json:"left_data_at"`
	DriftInside float64 `json:"drift_inside"`
}

// Report is a rendered sweep report.
type Report struct {
	Sweep    string
	Markdown string
	Images   []Image
	Tangency []Tangency
	Drift    []Drift
	// Morph holds the judged frames of the morphing grids (paper Fig. 8).
	Morph []Morph
	// Warnings say which plots could not be made and why (an artifact
	// missing from the store, say); the rest of the report is still there.
	Warnings []string
}

// Build renders the report of a sweep from its verdict groups, loading each
// trial's artifacts with r (which trains nothing here).
func Build(ctx context.Context, r *pipeline.Runner, spec *sweeps.Spec, sweep string, groups []sweeps.Group, notes []string, opt Options) (*Report, error) {
	rep := &Report{Sweep: sweep}
	var md strings.Builder
	md.WriteString(sweeps.FormatMarkdown(sweep, groups))
	for _, n := range notes {
		fmt.Fprintf(&md, "Note: %s\n\n", n)
	}
	names := slugs(groups)
	for _, img := range combosImages(groups) {
		rep.Images = append(rep.Images, img)
		fmt.Fprintf(&md, "## %s\n\n![%s](plots/%s)\n\n%s\n\n", img.Title, img.Title, img.Name, img.Caption)
	}
	for i, g := range groups {
		if err := rep.group(ctx, r, spec, g, opt, names[i], &md); err != nil {
			// The verdict tables stand without the plots: say why they are
			// missing instead of failing the whole report.
			w := fmt.Sprintf("plots of %s, ℓ = %d are incomplete: %v", g.Dataset, g.LatentDim, err)
			rep.Warnings = append(rep.Warnings, w)
			fmt.Fprintf(&md, "**Note: %s.**\n\n", w)
		}
	}
	rep.Markdown = md.String()
	return rep, nil
}

// group adds the plots and flow measurements of one (dataset, ℓ) to the
// report and its Markdown, naming its plots plots/<slug>-<name>.png.
func (rep *Report) group(ctx context.Context, r *pipeline.Runner, spec *sweeps.Spec, g sweeps.Group, opt Options, slug string, md *strings.Builder) error {
	if len(spec.Axes) > 0 {
		// The group's trials ran with its combination's spec: their stage
		// keys come from it.
		combos, err := spec.Combos()
		if err != nil {
			return err
		}
		if g.Combo < 0 || g.Combo >= len(combos) {
			return fmt.Errorf("combination %d is not in the spec's %d", g.Combo, len(combos))
		}
		spec = &combos[g.Combo].Spec
	}
	fmt.Fprintf(md, "## Plots: %s, ℓ = %d%s\n\n", g.Dataset, g.LatentDim, hyperSuffix(g))
	add := func(img Image) {
		img.Name = slug + "-" + img.Name + ".png"
		rep.Images = append(rep.Images, img)
		fmt.Fprintf(md, "### %s\n\n![%s](plots/%s)\n\n%s\n\n", img.Title, img.Title, img.Name, img.Caption)
	}
	img, err := metricsImage(g)
	if err != nil {
		return err
	}
	add(img)
	md.WriteString(flowsTable(g, spec.Verdict))
	if g.Algebra != nil && g.Algebra.Name != "" {
		fmt.Fprintf(md, "### The algebra at N_g = %d\n\n**%s**. %s\n\n", g.MaxNG, g.Algebra.Name, g.Algebra.Words)
		for _, l := range g.Algebra.DecompositionLines() {
			fmt.Fprintf(md, "- %s\n", l)
		}
		md.WriteString("\n")
	}
	if img, ok, err := structureImage(g, false); err != nil {
		return err
	} else if ok {
		add(img)
	}
	if g.Algebra != nil && g.Algebra.Name != "" {
		if img, ok, err := sparseImage(g); err != nil {
			return err
		} else if ok {
			add(img)
		}
	}
	if img, ok, err := structureImage(g, true); err != nil {
		return err
	} else if ok {
		add(img)
	}

	history := func(t sweeps.TrialResult) ([]map[string]float64, error) {
		if t.Artifacts[sweeps.StageGenerators] == "" {
			return nil, nil // a trial that failed before its generators were stored (its notes say why)
		}
		return r.History(ctx, spec, sweeps.Trial{Latent: g.LatentDim, NG: t.NG, Seed: t.Seed})
	}
	if img, err = curvesImage(g, history); err != nil {
		return err
	}
	add(img)

	focus := focusTrial(g)
	if focus.Artifacts[sweeps.StageGenerators] == "" {
		fmt.Fprintf(md, "No flows to draw: no trial of this group stored its generators (N_g = %d, seed %d: %s).\n\n", focus.NG, focus.Seed, strings.Join(focus.Notes, "; "))
		return nil
	}
	tr, err := r.Load(ctx, spec, sweeps.Trial{Latent: g.LatentDim, NG: focus.NG, Seed: focus.Seed})
	if err != nil {
		return err
	}
	who := fmt.Sprintf("N_g = %d, seed %d", focus.NG, focus.Seed)
	tans, err := measureTangency(tr, opt, focus)
	if err != nil {
		return err
	}
	for i := range tans {
		tans[i].Dataset, tans[i].LatentDim = g.Dataset, g.LatentDim
	}
	rep.Tangency = append(rep.Tangency, tans...)
	fmt.Fprintf(md, "### Tangency of the flows to ψ's level sets (%s)\n\n", who)
	md.WriteString("Mean squared cosine between each generator's field and ψ's gradient at the validation latents (0: the field follows the level sets; random directions give ≈ 1/ℓ).\n\n| generator | points | field | random directions | field turned 90° |\n|---|---|---|---|---|\n")
	for _, t := range tans {
		rot := "–"
		if g.LatentDim == 2 {
			rot = fmt.Sprintf("%.3g", t.Rotated)
		}
		fmt.Fprintf(md, "| J%d | %d | %.3g | %.3g | %s |\n", t.Generator, t.Points, t.Field, t.Random, rot)
	}
	md.WriteString("\n")

	switch g.LatentDim {
	case 2:
		if img, err = field2D(tr, opt, who); err != nil {
			return err
		}
		add(img)
	case 3:
		if img, err = projections3D(tr, opt, who); err != nil {
			return err
		}
		add(img)
	}
	if tr.AE != nil {
		imgs, drifts, err := decodedStreamlines(tr, opt, focus)
		if err != nil {
			return err
		}
		for i := range drifts {
			drifts[i].Dataset, drifts[i].LatentDim = g.Dataset, g.LatentDim
		}
		rep.Drift = append(rep.Drift, drifts...)
		for _, img := range imgs {
			add(img)
		}
		fmt.Fprintf(md, "### Class probability along the streamlines (%s)\n\n| generator | through centre of | p at start | p at end | largest drift | leaves the data at step | largest drift inside |\n|---|---|---|---|---|---|---|\n", who)
		for _, d := range drifts {
			left := "never"
			if d.LeftDataAt >= 0 {
				left = fmt.Sprint(d.LeftDataAt)
			}
			fmt.Fprintf(md, "| J%d | digit %d | %.4f | %.4f | %.4f | %s | %.4f |\n", d.Generator, d.Class, d.Start, d.End, d.MaxDrift, left, d.DriftInside)
		}
		fmt.Fprintf(md, "\n(%d Runge–Kutta steps of ε = %g.)\n\n", opt.StreamSteps, opt.StreamEps)
		if err := rep.morph(ctx, r, spec, g, opt, tr, focus, add, md); err != nil {
			return err
		}
	}
	return nil
}

// morph adds the paper's Fig. 8 to an MNIST group: the morphing grid along
// the single flow of the best N_g = 1 trial, with ψ's and φ's verdicts on
// every frame.
func (rep *Report) morph(ctx context.Context, r *pipeline.Runner, spec *sweeps.Spec, g sweeps.Group, opt Options, focusTr *pipeline.Trained, focus sweeps.TrialResult, add func(Image), md *strings.Builder) error {
	one, tr := focus, focusTr
	for _, lv := range g.Levels {
		if lv.NG == 1 && len(lv.Trials) > 0 {
			one = lv.Best()
		}
	}
	if one.NG != 1 {
		return nil
	}
	if one.NG != focus.NG || one.Seed != focus.Seed {
		var err error
		if tr, err = r.Load(ctx, spec, sweeps.Trial{Latent: g.LatentDim, NG: 1, Seed: one.Seed}); err != nil {
			return err
		}
	}
	img, morphs, notes, err := morphGrid(tr, opt, one, 0)
	if err != nil {
		return err
	}
	for _, n := range notes {
		rep.Warnings = append(rep.Warnings, n)
		fmt.Fprintf(md, "**Note: %s.**\n\n", n)
	}
	for i := range morphs {
		morphs[i].Dataset, morphs[i].LatentDim = g.Dataset, g.LatentDim
	}
	rep.Morph = append(rep.Morph, morphs...)
	add(img)
	fmt.Fprintf(md, "### Judging the morphed digits (N_g = 1, seed %d)\n\n", one.Seed)
	switch {
	case tr.PhiProblem != "":
		rep.Warnings = append(rep.Warnings, tr.PhiProblem)
		fmt.Fprintf(md, "No φ column: %s.\n\n", tr.PhiProblem)
	case tr.Phi == nil:
		md.WriteString("No pixel classifier φ is stored for this sweep (it ran before liesweep trained one): start the spec again into the same store (`liesweep run --spec … --out DIR`, or `liesweep sweep start` on the same bucket) to train φ, every other stage is reused.\n\n")
	}
	md.WriteString(morphTable(morphs, tr.PhiAccuracy))
	return nil
}

// WriteDir writes report.md, report.html and plots/*.png to dir.
func (rep *Report) WriteDir(dir string) error {
	if err := os.MkdirAll(filepath.Join(dir, "plots"), 0o755); err != nil {
		return err
	}
	for _, img := range rep.Images {
		if err := os.WriteFile(filepath.Join(dir, "plots", img.Name), img.PNG, 0o644); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "report.md"), []byte(rep.Markdown), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "report.html"), rep.HTML(), 0o644)
}

// Files lists every file of the report by its path relative to the report
// folder (for storing beside the sweep in the bucket).
func (rep *Report) Files() map[string][]byte {
	out := map[string][]byte{"report.md": []byte(rep.Markdown), "report.html": rep.HTML()}
	for _, img := range rep.Images {
		out["plots/"+img.Name] = img.PNG
	}
	return out
}

// slugs names each group's plots, short and unique within the report:
// "l<ℓ>", with "-h<k>" for hyperparameter combination k; only when the
// groups come from several datasets (a sweep has one) is the dataset put
// in front ("mnist_0_1-l2"), with its index when two datasets read alike.
func slugs(groups []sweeps.Group) []string {
	var datasets []string
	index := map[string]int{}
	for _, g := range groups {
		if _, ok := index[g.Dataset]; !ok {
			index[g.Dataset] = len(datasets)
			datasets = append(datasets, g.Dataset)
		}
	}
	prefix := map[string]string{}
	if len(datasets) > 1 {
		seen := map[string]int{}
		for _, d := range datasets {
			seen[datasetSlug(d)]++
		}
		for _, d := range datasets {
			p := datasetSlug(d)
			if seen[p] > 1 {
				p += fmt.Sprintf("_%d", index[d]+1)
			}
			prefix[d] = p + "-"
		}
	}
	out := make([]string, len(groups))
	for i, g := range groups {
		out[i] = prefix[g.Dataset] + fmt.Sprintf("l%d", g.LatentDim)
		if g.HyperLabel != "" {
			out[i] += fmt.Sprintf("-h%d", g.Combo)
		}
	}
	return out
}

// datasetSlug keeps a dataset label's letters and digits, the rest one "_".
func datasetSlug(label string) string {
	var b strings.Builder
	under := false
	for _, r := range label {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			b.WriteRune(r)
			under = false
		case !under:
			b.WriteRune('_')
			under = true
		}
	}
	s := strings.Trim(b.String(), "_")
	if s == "" {
		s = "data"
	}
	return s
}

// hyperSuffix is ", <combination>" for a group of a hyperparameter sweep.
func hyperSuffix(g sweeps.Group) string {
	if g.HyperLabel == "" {
		return ""
	}
	return ", " + g.HyperLabel
}

// focusTrial is the trial whose flows the report draws: the best seed at
// the verdict's N_g, or at the smallest N_g when none passed.
func focusTrial(g sweeps.Group) sweeps.TrialResult {
	for _, lv := range g.Levels {
		if lv.NG == g.MaxNG {
			return lv.Best()
		}
	}
	if t := g.Levels[0].Best(); t.Artifacts[sweeps.StageGenerators] != "" {
		return t
	}
	// the best trial failed before storing generators: draw another's
	for _, lv := range g.Levels {
		for _, t := range lv.Trials {
			if t.Artifacts[sweeps.StageGenerators] != "" {
				return t
			}
		}
	}
	return g.Levels[0].Best()
}

// flowsTable says, for each N_g, how many of the best seed's flows are
// distinct (pairwise squared cosine at most the ortho threshold) and
// whether they close, with the algebra in words where they do.
func flowsTable(g sweeps.Group, v sweeps.Verdict) string {
	var b strings.Builder
	multi := false
	for _, lv := range g.Levels {
		multi = multi || lv.NG > 1
	}
	if !multi {
		return ""
	}
	fmt.Fprintf(&b, "### Distinct flows and closure per N_g\n\nBest seed of each level. Distinct: generators kept while each has squared cosine ≤ %g with every one kept (pairwise, on the evaluation points); closure_rel ≤ %g means the brackets lie in the span.\n\n", v.OrthoCos2, v.ClosureRel)
	b.WriteString("| N_g | seed | flows pass | distinct flows | largest pairwise cos² | inv_ratio | closure_rel | closed algebra |\n|---|---|---|---|---|---|---|---|\n")
	for _, lv := range g.Levels {
		t := lv.Best()
		maxCos := 0.0
		for _, c := range t.PairOrtho {
			maxCos = math.Max(maxCos, c)
		}
		cos := "–"
		if t.NG > 1 && t.PairOrtho != nil {
			cos = fmt.Sprintf("%.3g", maxCos)
		}
		distinct := "–"
		if t.PairOrtho != nil || t.NG == 1 {
			distinct = fmt.Sprintf("%d of %d", sweeps.DistinctFlows(t.NG, t.PairOrtho, v.OrthoCos2), t.NG)
		}
		alg := "✗"
		if t.Passed {
			alg = t.Algebra.Summary()
		}
		closure := "–" // 0 by definition for one generator
		if sweeps.MetricApplies("closure_rel", t.NG) {
			closure = fmt.Sprintf("%.3g", t.Metrics.ClosureRel)
		}
		fmt.Fprintf(&b, "| %d | %d | %s | %s | %s | %.3g | %s | %s |\n", lv.NG, t.Seed, check(lv.FlowsPassed), distinct, cos, t.Metrics.InvRatio, closure, alg)
	}
	b.WriteString("\n")
	return b.String()
}

// check is ✓ or ✗, as the verdict tables spell a bool.
func check(v bool) string {
	if v {
		return "✓"
	}
	return "✗"
}
