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
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/liesweep/liesweep/models"
	"github.com/liesweep/liesweep/pipeline"
	"github.com/liesweep/liesweep/sweeps"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
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
	for _, g := range groups {
		if err := rep.group(ctx, r, spec, g, opt, &md); err != nil {
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
// report and its Markdown.
func (rep *Report) group(ctx context.Context, r *pipeline.Runner, spec *sweeps.Spec, g sweeps.Group, opt Options, md *strings.Builder) error {
	slug := slugOf(g)
	fmt.Fprintf(md, "## Plots: %s, ℓ = %d\n\n", g.Dataset, g.LatentDim)
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

	history := func(t sweeps.TrialResult) ([]map[string]float64, error) {
		return r.History(ctx, spec, sweeps.Trial{Latent: g.LatentDim, NG: t.NG, Seed: t.Seed})
	}
	if img, err = curvesImage(g, history); err != nil {
		return err
	}
	add(img)

	focus := focusTrial(g)
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

func slugOf(g sweeps.Group) string {
	var b strings.Builder
	for _, r := range g.Dataset {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteRune('_')
		}
	}
	return fmt.Sprintf("%s-l%d", strings.Trim(b.String(), "_"), g.LatentDim)
}

// focusTrial is the trial whose flows the report draws: the best seed at
// the verdict's N_g, or at the smallest N_g when none passed.
func focusTrial(g sweeps.Group) sweeps.TrialResult {
	for _, lv := range g.Levels {
		if lv.NG == g.MaxNG {
			return lv.Best()
		}
	}
	return g.Levels[0].Best()
}

func metricsImage(g sweeps.Group) (Image, error) {
	type col struct {
		name string
		get  func(sweeps.Metrics) float64
		thr  func(sweeps.Verdict) float64
	}
	cols := []col{
		{"inv_ratio", func(m sweeps.Metrics) float64 { return m.InvRatio }, func(v sweeps.Verdict) float64 { return v.InvRatio }},
		{"ortho_cos2", func(m sweeps.Metrics) float64 { return m.OrthoCos2 }, func(v sweeps.Verdict) float64 { return v.OrthoCos2 }},
		{"norm_dev", func(m sweeps.Metrics) float64 { return m.NormDev }, func(v sweeps.Verdict) float64 { return v.NormDev }},
		{"closure_rel", func(m sweeps.Metrics) float64 { return m.ClosureRel }, func(v sweeps.Verdict) float64 { return v.ClosureRel }},
	}
	row := make([]*plot.Plot, len(cols))
	var thr sweeps.Verdict
	for i, c := range cols {
		var pts []metricPoint
		for _, lv := range g.Levels {
			for _, t := range lv.Trials {
				pts = append(pts, metricPoint{NG: t.NG, Value: c.get(t.Metrics)})
				thr = t.Thresholds
			}
		}
		p, err := metricVsNG(c.name, pts, c.thr(thr))
		if err != nil {
			return Image{}, err
		}
		row[i] = p
	}
	b, err := renderPNG([][]*plot.Plot{row}, 3.2, 3)
	if err != nil {
		return Image{}, err
	}
	return Image{Name: "metrics", Title: "Final metrics against N_g", PNG: b,
		Caption: "One dot per seed, the line joins the means over seeds, the dashed line is the pass threshold (log scale; zeros drawn at 1e-12)."}, nil
}

func curvesImage(g sweeps.Group, history func(sweeps.TrialResult) ([]map[string]float64, error)) (Image, error) {
	seeds := map[int]bool{}
	for _, lv := range g.Levels {
		for _, t := range lv.Trials {
			seeds[t.Seed] = true
		}
	}
	var seedList []int
	for s := range seeds {
		seedList = append(seedList, s)
	}
	sort.Ints(seedList)
	grid := make([][]*plot.Plot, len(g.Levels))
	for i, lv := range g.Levels {
		grid[i] = make([]*plot.Plot, len(seedList))
		for j, s := range seedList {
			var t *sweeps.TrialResult
			for k := range lv.Trials {
				if lv.Trials[k].Seed == s {
					t = &lv.Trials[k]
				}
			}
			if t == nil {
				p := plot.New()
				p.Title.Text = fmt.Sprintf("N_g=%d seed %d: not run", lv.NG, s)
				grid[i][j] = p
				continue
			}
			h, err := history(*t)
			if err != nil {
				return Image{}, err
			}
			mark := "passed"
			if !t.Passed {
				mark = "failed"
			}
			p, err := lossCurves(fmt.Sprintf("N_g=%d seed %d: %s", t.NG, t.Seed, mark), h)
			if err != nil {
				return Image{}, err
			}
			grid[i][j] = p
		}
	}
	b, err := renderPNG(grid, 3.4, 2.6)
	if err != nil {
		return Image{}, err
	}
	return Image{Name: "losses", Title: "Training curves of the generators", PNG: b,
		Caption: "Every loss term of each trial per epoch (rows: N_g, columns: seeds; log scale)."}, nil
}

// measureTangency computes Tangency for every generator of a trial.
func measureTangency(tr *pipeline.Trained, opt Options, t sweeps.TrialResult) ([]Tangency, error) {
	pts := tr.Val
	if len(pts) > opt.TangencyPoints {
		pts = pts[:opt.TangencyPoints]
	}
	grads, err := models.Gradient(tr.Oracle, pts, 1e-4)
	if err != nil {
		return nil, err
	}
	dim := tr.Set.Dim
	rng := rand.New(rand.NewPCG(uint64(t.Seed), 0x7a9))
	random := make([][]float64, len(pts))
	for i := range random {
		v := make([]float64, dim)
		for d := range v {
			v[d] = rng.NormFloat64()
		}
		random[i] = v
	}
	cos2 := func(field func(i int) []float64) float64 {
		var num, den float64
		for i := range pts {
			f := field(i)
			for _, gk := range grads[i] {
				var dot, ff, gg float64
				for d := range f {
					dot += f[d] * gk[d]
					ff += f[d] * f[d]
					gg += gk[d] * gk[d]
				}
				num += dot * dot
				den += ff * gg
			}
		}
		if den == 0 {
			return 0
		}
		return num / den
	}
	randomT := cos2(func(i int) []float64 { return random[i] })
	var out []Tangency
	for a := 0; a < tr.Set.N; a++ {
		fields := make([][]float64, len(pts))
		for i, p := range pts {
			fields[i] = tr.Set.At(a, p)
		}
		tg := Tangency{NG: t.NG, Seed: t.Seed, Generator: a + 1, Points: len(pts), Random: randomT,
			Field: cos2(func(i int) []float64 { return fields[i] })}
		if dim == 2 {
			tg.Rotated = cos2(func(i int) []float64 { return []float64{-fields[i][1], fields[i][0]} })
		}
		out = append(out, tg)
	}
	return out, nil
}

// centres returns the mean latent of each class (analytic: three points
// at radii 0.5, 1 and 1.5 along the first axis).
func centres(tr *pipeline.Trained) ([][]float64, []int) {
	dim := tr.Set.Dim
	if tr.ValY == nil {
		var out [][]float64
		for _, r := range []float64{0.5, 1, 1.5} {
			p := make([]float64, dim)
			p[0] = r
			out = append(out, p)
		}
		return out, nil
	}
	sum := map[int][]float64{}
	n := map[int]int{}
	for i, y := range tr.ValY {
		if sum[y] == nil {
			sum[y] = make([]float64, dim)
		}
		for d, v := range tr.Val[i] {
			sum[y][d] += v
		}
		n[y]++
	}
	var out [][]float64
	var classes []int
	for c := range sum {
		classes = append(classes, c)
	}
	sort.Ints(classes)
	for _, c := range classes {
		p := sum[c]
		for d := range p {
			p[d] /= float64(n[c])
		}
		out = append(out, p)
	}
	return out, classes
}

// heatValue is what the heat map shows: the probability of the second
// class for a two-class ψ, the largest class probability otherwise, or
// the first component of an analytic oracle.
func heatValues(tr *pipeline.Trained, pts [][]float64) ([]float64, string, error) {
	if tr.Classifier != nil {
		p, err := tr.Classifier.Probabilities(pts)
		if err != nil {
			return nil, "", err
		}
		out := make([]float64, len(p))
		for i, r := range p {
			if len(r) == 2 {
				out[i] = r[1]
			} else {
				for _, v := range r {
					out[i] = math.Max(out[i], v)
				}
			}
		}
		if len(tr.Classes) == 2 {
			return out, fmt.Sprintf("ψ: P(digit %d)", tr.Classes[1]), nil
		}
		return out, "ψ: largest class probability", nil
	}
	v, err := models.EvalOracle(tr.Oracle, pts)
	if err != nil {
		return nil, "", err
	}
	out := make([]float64, len(v))
	for i, r := range v {
		out[i] = r[0]
	}
	return out, "ψ₁(z)", nil
}

// box is the bounding box of the points.
func box(pts [][]float64) (lo, hi []float64) {
	lo, hi = append([]float64(nil), pts[0]...), append([]float64(nil), pts[0]...)
	for _, p := range pts {
		for d, v := range p {
			lo[d], hi[d] = math.Min(lo[d], v), math.Max(hi[d], v)
		}
	}
	return lo, hi
}

func inside(p, lo, hi []float64) bool {
	for d, v := range p {
		if v < lo[d] || v > hi[d] {
			return false
		}
	}
	return true
}

// bounds returns a square window around the validation latents.
func bounds(pts [][]float64, a, b int) (lo, hi [2]float64) {
	lo = [2]float64{math.Inf(1), math.Inf(1)}
	hi = [2]float64{math.Inf(-1), math.Inf(-1)}
	for _, p := range pts {
		for k, d := range []int{a, b} {
			lo[k], hi[k] = math.Min(lo[k], p[d]), math.Max(hi[k], p[d])
		}
	}
	for k := range lo {
		pad := 0.08 * (hi[k] - lo[k])
		lo[k], hi[k] = lo[k]-pad, hi[k]+pad
	}
	return lo, hi
}

func scatterByClass(p *plot.Plot, tr *pipeline.Trained, a, b, max int) error {
	byClass := map[int]plotter.XYs{}
	for i, z := range tr.Val {
		if i >= max {
			break
		}
		c := 0
		if tr.ValY != nil {
			c = tr.ValY[i]
		}
		byClass[c] = append(byClass[c], plotter.XY{X: z[a], Y: z[b]})
	}
	var keys []int
	for c := range byClass {
		keys = append(keys, c)
	}
	sort.Ints(keys)
	for i, c := range keys {
		s, err := plotter.NewScatter(byClass[c])
		if err != nil {
			return err
		}
		s.GlyphStyle.Radius = vg.Points(1.2)
		s.GlyphStyle.Shape = draw.CircleGlyph{}
		s.GlyphStyle.Color = classColor(i)
		p.Add(s)
		if tr.ValY != nil {
			p.Legend.Add(fmt.Sprintf("digit %d", tr.Classes[c]), s)
		}
	}
	return nil
}

// field2D draws, for each generator of an ℓ = 2 trial, ψ as a heat map, the
// validation latents by class, the field as arrows and three streamlines
// (paper Fig. 4).
func field2D(tr *pipeline.Trained, opt Options, who string) (Image, error) {
	lo, hi := bounds(tr.Val, 0, 1)
	n := opt.Grid
	g := &grid{Lo: math.Inf(1), Hi: math.Inf(-1)}
	var pts [][]float64
	for i := 0; i < n; i++ {
		g.Xs = append(g.Xs, lo[0]+(hi[0]-lo[0])*(float64(i)+0.5)/float64(n))
		g.Ys = append(g.Ys, lo[1]+(hi[1]-lo[1])*(float64(i)+0.5)/float64(n))
	}
	for _, y := range g.Ys {
		for _, x := range g.Xs {
			pts = append(pts, []float64{x, y})
		}
	}
	vals, label, err := heatValues(tr, pts)
	if err != nil {
		return Image{}, err
	}
	for r := 0; r < n; r++ {
		row := vals[r*n : (r+1)*n]
		g.Vals = append(g.Vals, row)
		for _, v := range row {
			g.Lo, g.Hi = math.Min(g.Lo, v), math.Max(g.Hi, v)
		}
	}
	starts, _ := centres(tr)
	if len(starts) < 3 {
		// a third start between the class centres
		mid := make([]float64, 2)
		for _, s := range starts {
			mid[0] += s[0] / float64(len(starts))
			mid[1] += s[1] / float64(len(starts))
		}
		starts = append(starts, mid)
	}
	starts = starts[:3]
	row := make([]*plot.Plot, tr.Set.N)
	for a := range row {
		p := plot.New()
		p.Title.Text = fmt.Sprintf("J%d: %s", a+1, label)
		p.X.Label.Text, p.Y.Label.Text = "z₁", "z₂"
		h := plotter.NewHeatMap(g, coolWarm(64))
		p.Add(h)
		if err := scatterByClass(p, tr, 0, 1, 1500); err != nil {
			return Image{}, err
		}
		q := &quiver{Len: 0.7 * (hi[0] - lo[0]) / float64(opt.Arrows), Color: colorBlack}
		for i := 0; i < opt.Arrows; i++ {
			for j := 0; j < opt.Arrows; j++ {
				z := []float64{lo[0] + (hi[0]-lo[0])*(float64(i)+0.5)/float64(opt.Arrows), lo[1] + (hi[1]-lo[1])*(float64(j)+0.5)/float64(opt.Arrows)}
				v := tr.Set.At(a, z)
				q.At = append(q.At, [2]float64{z[0], z[1]})
				q.V = append(q.V, [2]float64{v[0], v[1]})
			}
		}
		p.Add(q)
		for _, s := range starts {
			line, err := tr.Set.Streamline(a, s, opt.StreamEps, opt.StreamSteps, 10)
			if err != nil {
				return Image{}, err
			}
			xy := make(plotter.XYs, len(line))
			for k, z := range line {
				xy[k] = plotter.XY{X: z[0], Y: z[1]}
			}
			l, err := plotter.NewLine(xy)
			if err != nil {
				return Image{}, err
			}
			l.Color, l.Width = colorStream, vg.Points(1.8)
			p.Add(l)
		}
		p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = lo[0], hi[0], lo[1], hi[1]
		p.Legend.Top = true
		row[a] = p
	}
	b, err := renderPNG([][]*plot.Plot{row}, 5, 5)
	if err != nil {
		return Image{}, err
	}
	return Image{Name: "field", Title: "Latent space, oracle and flows (" + who + ")", PNG: b,
		Caption: fmt.Sprintf("Validation latents by class over ψ's heat map (%s); black arrows: the generator's field (direction, longest scaled to a grid cell); yellow: streamlines through the class centres (%d Runge–Kutta steps of ε = %g). For a symmetry the arrows and streamlines follow the heat map's contours.", label, opt.StreamSteps, opt.StreamEps)}, nil
}

// projections3D draws an ℓ = 3 trial's latents and fields in the three
// coordinate planes (paper Fig. 7): one row per generator.
func projections3D(tr *pipeline.Trained, opt Options, who string) (Image, error) {
	planes := [][2]int{{0, 1}, {0, 2}, {1, 2}}
	rows := make([][]*plot.Plot, tr.Set.N)
	at := tr.Val
	if len(at) > 200 {
		at = at[:200]
	}
	for a := range rows {
		rows[a] = make([]*plot.Plot, len(planes))
		fields := make([][]float64, len(at))
		for i, z := range at {
			fields[i] = tr.Set.At(a, z)
		}
		for k, pl := range planes {
			p := plot.New()
			p.Title.Text = fmt.Sprintf("J%d in the (z%d, z%d) plane", a+1, pl[0]+1, pl[1]+1)
			p.X.Label.Text, p.Y.Label.Text = fmt.Sprintf("z%d", pl[0]+1), fmt.Sprintf("z%d", pl[1]+1)
			if err := scatterByClass(p, tr, pl[0], pl[1], 1500); err != nil {
				return Image{}, err
			}
			lo, hi := bounds(tr.Val, pl[0], pl[1])
			q := &quiver{Len: 0.06 * (hi[0] - lo[0]), Color: colorBlack}
			for i, z := range at {
				q.At = append(q.At, [2]float64{z[pl[0]], z[pl[1]]})
				q.V = append(q.V, [2]float64{fields[i][pl[0]], fields[i][pl[1]]})
			}
			p.Add(q)
			p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = lo[0], hi[0], lo[1], hi[1]
			rows[a][k] = p
		}
	}
	b, err := renderPNG(rows, 3.6, 3.6)
	if err != nil {
		return Image{}, err
	}
	return Image{Name: "projections", Title: "Latents and flows in 2-D projections (" + who + ")", PNG: b,
		Caption: "Validation latents by class in each coordinate plane; arrows: each generator's field at 200 validation latents, projected onto the plane."}, nil
}

// decodedStreamlines follows each generator from each class centre, decodes
// frames along the way ("platonic" digits, paper Figs. 5 and 8) and plots
// ψ's class probabilities along the streamline.
func decodedStreamlines(tr *pipeline.Trained, opt Options, t sweeps.TrialResult) ([]Image, []Drift, error) {
	starts, classes := centres(tr)
	lo, hi := box(tr.Val)
	var imgs []Image
	var drifts []Drift
	every := max(1, opt.StreamSteps/100)
	for a := 0; a < tr.Set.N; a++ {
		var strips [][]byte
		probRow := make([]*plot.Plot, 0, len(starts))
		for ci, s := range starts {
			line, err := tr.Set.Streamline(a, s, opt.StreamEps, opt.StreamSteps, every)
			if err != nil {
				return nil, nil, err
			}
			probs, err := tr.Classifier.Probabilities(line)
			if err != nil {
				return nil, nil, err
			}
			d := Drift{NG: t.NG, Seed: t.Seed, Generator: a + 1, Class: tr.Classes[classes[ci]], Steps: opt.StreamSteps, Eps: opt.StreamEps,
				Start: probs[0][classes[ci]], End: probs[len(probs)-1][classes[ci]]}
			d.LeftDataAt = -1
			for i, pr := range probs {
				step := min(i*every, opt.StreamSteps)
				drift := math.Abs(pr[classes[ci]] - d.Start)
				d.MaxDrift = math.Max(d.MaxDrift, drift)
				if d.LeftDataAt < 0 && !inside(line[i], lo, hi) {
					d.LeftDataAt = step
				}
				if d.LeftDataAt < 0 {
					d.DriftInside = math.Max(d.DriftInside, drift)
				}
			}
			drifts = append(drifts, d)
			var frames [][]float64
			for f := 0; f < opt.Frames; f++ {
				frames = append(frames, line[f*(len(line)-1)/max(1, opt.Frames-1)])
			}
			dec, err := tr.AE.Decode(frames)
			if err != nil {
				return nil, nil, err
			}
			b, err := strip(dec, 3)
			if err != nil {
				return nil, nil, err
			}
			strips = append(strips, b)
			p := plot.New()
			p.Title.Text = fmt.Sprintf("J%d from the centre of digit %d", a+1, d.Class)
			p.X.Label.Text, p.Y.Label.Text = "step", "ψ class probability"
			p.Y.Min, p.Y.Max = 0, 1
			for k := range probs[0] {
				xy := make(plotter.XYs, len(probs))
				for i, pr := range probs {
					xy[i] = plotter.XY{X: float64(min(i*every, opt.StreamSteps)), Y: pr[k]}
				}
				l, err := plotter.NewLine(xy)
				if err != nil {
					return nil, nil, err
				}
				l.Color, l.Width = classColor(k), vg.Points(1.5)
				p.Add(l)
				p.Legend.Add(fmt.Sprintf("P(digit %d)", tr.Classes[k]), l)
			}
			if d.LeftDataAt >= 0 {
				exit, err := plotter.NewLine(plotter.XYs{{X: float64(d.LeftDataAt), Y: 0}, {X: float64(d.LeftDataAt), Y: 1}})
				if err != nil {
					return nil, nil, err
				}
				exit.Color, exit.Dashes = colorBlack, []vg.Length{vg.Points(3), vg.Points(3)}
				p.Add(exit)
				p.Legend.Add("leaves the data", exit)
			}
			p.Legend.Top, p.Legend.Left = false, true
			probRow = append(probRow, p)
		}
		b, err := renderPNG([][]*plot.Plot{probRow}, 4, 2.6)
		if err != nil {
			return nil, nil, err
		}
		imgs = append(imgs, Image{Name: fmt.Sprintf("probabilities-J%d", a+1), Title: fmt.Sprintf("ψ along the streamlines of J%d", a+1), PNG: b,
			Caption: fmt.Sprintf("Class probabilities along the streamline of J%d through each class centre (%d steps of ε = %g): flat lines mean the flow keeps the class; the dashed line marks where the streamline leaves the bounding box of the validation latents (beyond it ψ and the flow extrapolate).", a+1, opt.StreamSteps, opt.StreamEps)})
		for ci, sb := range strips {
			imgs = append(imgs, Image{Name: fmt.Sprintf("decoded-J%d-digit%d", a+1, tr.Classes[classes[ci]]),
				Title: fmt.Sprintf("Decoded along J%d from the centre of digit %d", a+1, tr.Classes[classes[ci]]), PNG: sb,
				Caption: fmt.Sprintf("%d images decoded at equal steps along the streamline, left to right (start: the class centre).", opt.Frames)})
		}
	}
	return imgs, drifts, nil
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
		alg := "no"
		if t.Passed {
			alg = t.Algebra.Description
		}
		fmt.Fprintf(&b, "| %d | %d | %s | %s | %s | %.3g | %.3g | %s |\n", lv.NG, t.Seed, yesNo(lv.FlowsPassed), distinct, cos, t.Metrics.InvRatio, t.Metrics.ClosureRel, alg)
	}
	b.WriteString("\n")
	return b.String()
}

func yesNo(v bool) string {
	if v {
		return "yes"
	}
	return "no"
}
