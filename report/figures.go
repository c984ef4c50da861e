package report

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/liesweep/liesweep/pipeline"
	"github.com/liesweep/liesweep/sweeps"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// metricColumns are the final metrics drawn against N_g, with their pass
// thresholds.
var metricColumns = []struct {
	name string
	get  func(sweeps.Metrics) float64
	thr  func(sweeps.Verdict) float64
}{
	{"inv_ratio", func(m sweeps.Metrics) float64 { return m.InvRatio }, func(v sweeps.Verdict) float64 { return v.InvRatio }},
	{"ortho_cos2", func(m sweeps.Metrics) float64 { return m.OrthoCos2 }, func(v sweeps.Verdict) float64 { return v.OrthoCos2 }},
	{"norm_dev", func(m sweeps.Metrics) float64 { return m.NormDev }, func(v sweeps.Verdict) float64 { return v.NormDev }},
	{"closure_rel", func(m sweeps.Metrics) float64 { return m.ClosureRel }, func(v sweeps.Verdict) float64 { return v.ClosureRel }},
}

// metricSeries is what the final-metrics panel of one metric draws: the
// positive values of the trials it applies to. Zeros have no place on a
// log axis and are listed in Zeros, as "N_g = 2 (seeds 1, 2)" (a NaN,
// infinite or negative value with its value: "seed 1: NaN"); the trials
// the metric does not apply to (ortho_cos2 and closure_rel at N_g = 1, 0
// by definition) are left out and counted in NotApplicable.
type metricSeries struct {
	Points        []metricPoint
	Zeros         []string
	NotApplicable int
}

func seriesOf(g sweeps.Group, name string, get func(sweeps.Metrics) float64) metricSeries {
	var s metricSeries
	for _, lv := range g.Levels {
		var seeds []string
		for _, t := range lv.Trials {
			v := get(t.Metrics)
			switch {
			case !sweeps.MetricApplies(name, t.NG):
				s.NotApplicable++
			case v > 0 && !math.IsInf(v, 1):
				s.Points = append(s.Points, metricPoint{NG: t.NG, Seed: t.Seed, Passed: t.Passed, Value: v})
			case v == 0:
				seeds = append(seeds, fmt.Sprint(t.Seed))
			default:
				seeds = append(seeds, fmt.Sprintf("%d: %g", t.Seed, v))
			}
		}
		switch len(seeds) {
		case 0:
		case 1:
			s.Zeros = append(s.Zeros, fmt.Sprintf("N_g = %d (seed %s)", lv.NG, seeds[0]))
		default:
			s.Zeros = append(s.Zeros, fmt.Sprintf("N_g = %d (seeds %s)", lv.NG, strings.Join(seeds, ", ")))
		}
	}
	return s
}

// seedsOf is the seeds of the group's trials, smallest first, and
// whether any trial failed.
func seedsOf(g sweeps.Group) ([]int, bool) {
	var seeds []int
	failed := false
	for _, lv := range g.Levels {
		for _, t := range lv.Trials {
			if !slices.Contains(seeds, t.Seed) {
				seeds = append(seeds, t.Seed)
			}
			failed = failed || !t.Passed
		}
	}
	sort.Ints(seeds)
	return seeds, failed
}

// metricsPanels draws one log-scale panel per final metric against N_g
// and says in the caption what was left out.
func metricsPanels(g sweeps.Group) ([]*plot.Plot, string, error) {
	var ngs []int
	var thr sweeps.Verdict
	for _, lv := range g.Levels {
		ngs = append(ngs, lv.NG)
		for _, t := range lv.Trials {
			thr = t.Thresholds
		}
	}
	seeds, _ := seedsOf(g)
	row := make([]*plot.Plot, len(metricColumns))
	var notApplicable, zeros []string
	for i, c := range metricColumns {
		s := seriesOf(g, c.name, c.get)
		if s.NotApplicable > 0 {
			notApplicable = append(notApplicable, c.name)
		}
		if len(s.Zeros) > 0 {
			zeros = append(zeros, fmt.Sprintf("%s at %s", c.name, strings.Join(s.Zeros, " and ")))
		}
		p, err := metricVsNG(c.name, s.Points, c.thr(thr), ngs, seeds)
		if err != nil {
			return nil, "", err
		}
		row[i] = p
	}
	caption := "One marker per trial in its seed's colour (filled: the trial passed, open: it failed), the grey line joins the means over seeds, the dashed red line is the pass threshold (log scale)."
	if len(notApplicable) > 0 {
		caption += fmt.Sprintf(" Not drawn at N_g = 1: %s (0 by definition with one generator: there is no pair).", strings.Join(notApplicable, " and "))
	}
	if len(zeros) > 0 {
		caption += fmt.Sprintf(" Values with no place on a log axis (exact zeros unless a value is given) are not drawn: %s.", strings.Join(zeros, "; "))
	}
	return row, caption, nil
}

func metricsImage(g sweeps.Group) (Image, error) {
	row, caption, err := metricsPanels(g)
	if err != nil {
		return Image{}, err
	}
	legend, err := metricsLegend(seedsOf(g))
	if err != nil {
		return Image{}, err
	}
	b, err := figure{Panels: wrap(row, 4), W: 3.2, H: 3, Legend: legend}.render()
	if err != nil {
		return Image{}, err
	}
	return Image{Name: "metrics", Title: "Final metrics against N_g", PNG: b, Caption: caption}, nil
}

// curvesImage draws the training curves of every trial, a panel each
// titled with its N_g, seed and verdict (in colourPassed or colourFailed):
// a row per N_g and a column per seed for two to four seeds, else four
// panels a row in the order of N_g and seed. The loss terms' key is drawn
// once below the panels.
func curvesImage(g sweeps.Group, history func(sweeps.TrialResult) ([]map[string]float64, error)) (Image, error) {
	seedList, _ := seedsOf(g)
	var panels []*plot.Plot
	var terms []string
	for _, lv := range g.Levels {
		for _, s := range seedList {
			var t *sweeps.TrialResult
			for k := range lv.Trials {
				if lv.Trials[k].Seed == s {
					t = &lv.Trials[k]
				}
			}
			if t == nil {
				p := plot.New()
				p.Title.Text = fmt.Sprintf("N_g = %d, seed %d: not run", lv.NG, s)
				p.Title.TextStyle.Font.Size = panelTitle
				p.Title.TextStyle.Color = colourNotRun
				p.HideAxes()
				panels = append(panels, p)
				continue
			}
			h, err := history(*t)
			if err != nil {
				return Image{}, err
			}
			mark, colour := "passed", colourPassed
			if !t.Passed {
				mark, colour = "failed", colourFailed
			}
			p, drawn, err := lossCurves(fmt.Sprintf("N_g = %d, seed %d: %s", t.NG, t.Seed, mark), h)
			if err != nil {
				return Image{}, err
			}
			p.Title.TextStyle.Color = colour
			for _, n := range drawn {
				if !slices.Contains(terms, n) {
					terms = append(terms, n)
				}
			}
			panels = append(panels, p)
		}
	}
	sortLosses(terms)
	legend, err := lossLegend(terms)
	if err != nil {
		return Image{}, err
	}
	perRow, layout := 4, "a panel per trial by N_g, four to a row"
	if len(seedList) > 1 {
		layout = "a panel per trial by N_g and seed, four to a row"
	}
	if n := len(seedList); n >= 2 && n <= 4 {
		perRow, layout = n, "rows: N_g, columns: seeds"
	}
	b, err := figure{Panels: wrap(panels, perRow), W: 3.2, H: 2.5, Legend: legend}.render()
	if err != nil {
		return Image{}, err
	}
	return Image{Name: "losses", Title: "Training curves of the generators", PNG: b,
		Caption: fmt.Sprintf("Every loss term of each trial per epoch (%s; log scale); each title says whether the trial passed.", layout)}, nil
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

// scatterByClass draws the first max validation latents in the (a, b)
// plane, each class with its own outlined marker, and returns the legend
// entries of the classes (none for unlabelled data).
func scatterByClass(p *plot.Plot, tr *pipeline.Trained, a, b, max int) ([]legendEntry, error) {
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
	var legend []legendEntry
	for _, c := range keys {
		s, err := plotter.NewScatter(byClass[c])
		if err != nil {
			return nil, err
		}
		s.GlyphStyle = classGlyph(c, vg.Points(1.9))
		p.Add(s)
		if tr.ValY != nil {
			legend = append(legend, legendEntry{tr.ClassName(c), []plot.Thumbnailer{s}})
		}
	}
	return legend, nil
}

// streamStyles draw a streamline yellow with a black edge, visible on the
// light and the dark end of the heat map alike.
var streamStyles = []draw.LineStyle{
	{Color: colorBlack, Width: vg.Points(3.2)},
	{Color: colorStream, Width: vg.Points(1.8)},
}

func streamline(xy plotter.XYs) ([]plot.Plotter, []plot.Thumbnailer, error) {
	var ps []plot.Plotter
	var th []plot.Thumbnailer
	for _, sty := range streamStyles {
		l, err := plotter.NewLine(xy)
		if err != nil {
			return nil, nil, err
		}
		l.LineStyle = sty
		ps, th = append(ps, l), append(th, l)
	}
	return ps, th, nil
}

// field2D draws, for each generator of an ℓ = 2 trial, ψ as a grey heat
// map with its colour bar, the validation latents by class, the field as
// arrows and three streamlines (paper Fig. 4).
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
	if tr.Classifier != nil {
		g.Lo, g.Hi = 0, 1 // probabilities: the whole scale
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
	bars := map[*plot.Plot]*colourBar{}
	var legend []legendEntry
	for a := range row {
		p := plot.New()
		p.Title.Text = fmt.Sprintf("J%d: %s", a+1, label)
		p.X.Label.Text, p.Y.Label.Text = "z₁", "z₂"
		p.Add(&rasterHeat{G: g, Map: greys, Lo: g.Lo, Hi: g.Hi})
		bars[p] = &colourBar{Label: "ψ", Lo: g.Lo, Hi: g.Hi, Map: greys}
		classes, err := scatterByClass(p, tr, 0, 1, 1500)
		if err != nil {
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
		var streamThumb []plot.Thumbnailer
		for _, s := range starts {
			line, err := tr.Set.Streamline(a, s, opt.StreamEps, opt.StreamSteps, 10)
			if err != nil {
				return Image{}, err
			}
			xy := make(plotter.XYs, len(line))
			for k, z := range line {
				xy[k] = plotter.XY{X: z[0], Y: z[1]}
			}
			ls, th, err := streamline(xy)
			if err != nil {
				return Image{}, err
			}
			p.Add(ls...)
			streamThumb = th
		}
		p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = lo[0], hi[0], lo[1], hi[1]
		row[a] = p
		if a == 0 {
			arrow, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 0}})
			if err != nil {
				return Image{}, err
			}
			arrow.Color, arrow.Width = colorBlack, vg.Points(0.8)
			legend = append(classes, legendEntry{"field (arrows)", []plot.Thumbnailer{arrow}}, legendEntry{"streamlines", streamThumb})
		}
	}
	b, err := figure{Panels: wrap(row, 2), W: 5.6, H: 5, Legend: legend, Bars: bars}.render()
	if err != nil {
		return Image{}, err
	}
	return Image{Name: "field", Title: "Latent space, oracle and flows (" + who + ")", PNG: b,
		Caption: fmt.Sprintf("Validation latents by class (outlined markers) over ψ's heat map (%s; grey scale, the bar at the right of each panel); black arrows: the generator's field (direction, longest scaled to a grid cell); yellow, black-edged: streamlines through the class centres (%d Runge–Kutta steps of ε = %g). For a symmetry the arrows and streamlines follow the heat map's contours.", label, opt.StreamSteps, opt.StreamEps)}, nil
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
	var legend []legendEntry
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
			classes, err := scatterByClass(p, tr, pl[0], pl[1], 1500)
			if err != nil {
				return Image{}, err
			}
			legend = classes
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
	b, err := figure{Panels: rows, W: 3.6, H: 3.6, Legend: legend}.render()
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
		var curves []probCurve
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
			b, err := strip(dec, tr.AE.Shape, 3)
			if err != nil {
				return nil, nil, err
			}
			strips = append(strips, b)
			at := make([]float64, len(probs))
			for i := range probs {
				at[i] = float64(min(i*every, opt.StreamSteps))
			}
			curves = append(curves, probCurve{Class: classes[ci], Steps: at, P: probs, LeftDataAt: d.LeftDataAt})
		}
		b, err := probabilityFigure(a, curves, tr.ClassName, opt.StreamSteps)
		if err != nil {
			return nil, nil, err
		}
		imgs = append(imgs, Image{Name: fmt.Sprintf("probabilities-J%d", a+1), Title: fmt.Sprintf("ψ along the streamlines of J%d", a+1), PNG: b,
			Caption: fmt.Sprintf("Class probabilities along the streamline of J%d through each class centre, a panel per centre (%d steps of ε = %g): flat lines mean the flow keeps the class; the thick line is the class of the centre; the dashed line marks where the streamline leaves the bounding box of the validation latents (beyond it ψ and the flow extrapolate).", a+1, opt.StreamSteps, opt.StreamEps)})
		for ci, sb := range strips {
			imgs = append(imgs, Image{Name: fmt.Sprintf("decoded-J%d-digit%d", a+1, tr.Classes[classes[ci]]),
				Title: fmt.Sprintf("Decoded along J%d from the centre of %s", a+1, tr.ClassName(classes[ci])), PNG: sb,
				Caption: fmt.Sprintf("%d images decoded at equal steps along the streamline, left to right (start: the class centre).", opt.Frames)})
		}
	}
	return imgs, drifts, nil
}

// probCurve is ψ's class probabilities P[i][k] at the steps Steps[i] of
// a streamline through the centre of class Class, which leaves the data's
// bounding box at step LeftDataAt (−1: never).
type probCurve struct {
	Class      int
	Steps      []float64
	P          [][]float64
	LeftDataAt int
}

// probLine is the line of class k's probability: its class colour
// (dashed for the classes whose colour repeats an earlier one's), thick
// for the class of the panel's centre.
func probLine(xy plotter.XYs, k int, own bool) (*plotter.Line, error) {
	l, err := plotter.NewLine(xy)
	if err != nil {
		return nil, err
	}
	l.Color, l.Width = classColor(k), vg.Points(1.2)
	if own {
		l.Width = vg.Points(2.6)
	}
	if k >= len(classColors) {
		l.Dashes = []vg.Length{vg.Points(5), vg.Points(2)}
	}
	return l, nil
}

// probabilityFigure draws ψ's class probabilities along the streamlines
// of generator a, a panel per curve, four panels a row, with one key for
// the classes below them.
func probabilityFigure(a int, curves []probCurve, className func(int) string, steps int) ([]byte, error) {
	var panels []*plot.Plot
	exits := false
	nClasses := 0
	for _, c := range curves {
		p := plot.New()
		p.Title.Text = fmt.Sprintf("J%d from the centre of %s", a+1, className(c.Class))
		p.Title.TextStyle.Font.Size = panelTitle
		p.X.Label.Text, p.Y.Label.Text = "step", "ψ class probability"
		p.X.Min, p.X.Max = 0, float64(steps)
		p.Y.Min, p.Y.Max = 0, 1
		p.Y.Tick.Marker = plot.ConstantTicks{{Value: 0, Label: "0"}, {Value: 0.25}, {Value: 0.5, Label: "0.5"}, {Value: 0.75}, {Value: 1, Label: "1"}}
		if len(c.P) > 0 {
			nClasses = max(nClasses, len(c.P[0]))
		}
		if c.LeftDataAt >= 0 {
			exit, err := plotter.NewLine(plotter.XYs{{X: float64(c.LeftDataAt), Y: 0}, {X: float64(c.LeftDataAt), Y: 1}})
			if err != nil {
				return nil, err
			}
			exit.Color, exit.Dashes = colorBlack, []vg.Length{vg.Points(3), vg.Points(3)}
			p.Add(exit)
			exits = true
		}
		if len(c.P) == 0 {
			panels = append(panels, p)
			continue
		}
		// the centre's class last: on top of the others
		var order []int
		for k := range c.P[0] {
			if k != c.Class {
				order = append(order, k)
			}
		}
		for _, k := range append(order, c.Class) {
			xy := make(plotter.XYs, len(c.P))
			for i, pr := range c.P {
				xy[i] = plotter.XY{X: c.Steps[i], Y: pr[k]}
			}
			l, err := probLine(xy, k, k == c.Class)
			if err != nil {
				return nil, err
			}
			p.Add(l)
		}
		panels = append(panels, p)
	}
	var legend []legendEntry
	for k := 0; k < nClasses; k++ {
		l, err := probLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 0}}, k, false)
		if err != nil {
			return nil, err
		}
		legend = append(legend, legendEntry{fmt.Sprintf("P(%s)", className(k)), []plot.Thumbnailer{l}})
	}
	if exits {
		exit, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 0}})
		if err != nil {
			return nil, err
		}
		exit.Color, exit.Dashes = colorBlack, []vg.Length{vg.Points(3), vg.Points(3)}
		legend = append(legend, legendEntry{"leaves the data", []plot.Thumbnailer{exit}})
	}
	return figure{Panels: wrap(panels, 4), W: 3.2, H: 2.4, Legend: legend}.render()
}

// sparseImage draws the sparse basis of the best trial at the group's
// maximal N_g as small heat maps, one per generator (entries in [−1, 1]).
func sparseImage(g sweeps.Group) (Image, bool, error) {
	var best *sweeps.TrialResult
	for _, lv := range g.Levels {
		if lv.NG == g.MaxNG {
			b := lv.Best()
			best = &b
		}
	}
	if best == nil || best.SparseBasis == nil || len(best.SparseBasis.Matrices) == 0 {
		return Image{}, false, nil
	}
	sb := best.SparseBasis
	var panels []*plot.Plot
	for a, m := range sb.Matrices {
		n := len(m)
		gr := &grid{}
		for i := 0; i < n; i++ {
			gr.Xs = append(gr.Xs, float64(i))
			gr.Ys = append(gr.Ys, float64(i))
		}
		gr.Vals = make([][]float64, n)
		for r := range gr.Vals {
			gr.Vals[r] = m[n-1-r] // row 0 of the matrix at the top
		}
		p := plot.New()
		p.Title.Text = fmt.Sprintf("M%d", a+1)
		p.Add(&rasterHeat{G: gr, Map: coolWarm, Lo: -1, Hi: 1})
		p.HideAxes()
		panels = append(panels, p)
	}
	key := &colourBar{Label: "entry", Lo: -1, Hi: 1, Map: coolWarm}
	png, err := figure{Panels: wrap(panels, 5), W: 2, H: 2.1, Key: key}.render()
	if err != nil {
		return Image{}, false, err
	}
	what := "the learned generators rotated, within their span, to the basis with the fewest non-zero entries"
	if sb.Linearised {
		what = "the Jacobians of the MLP generators at the mean of the evaluation points (linearised), rotated to the basis with the fewest non-zero entries"
	}
	return Image{
		Name:    "sparse",
		Title:   fmt.Sprintf("Sparse basis at N_g = %d (seed %d)", best.NG, best.Seed),
		Caption: fmt.Sprintf("%s: each scaled so its largest |entry| is 1 (blue −1, white 0, red +1: the bar at the right). Algebra: %s.", what, g.Algebra.Name),
		PNG:     png,
	}, true, nil
}

// combosImages draws, per (dataset, ℓ) of a sweep with hyperparameter axes,
// the success fraction against N_g of every combination, the best one
// (sweeps.BestCombo) drawn thick and marked "(best)" in the legend.
func combosImages(groups []sweeps.Group) []Image {
	sets := sweeps.ComboSets(groups)
	var out []Image
	for i, gs := range sets {
		k := struct {
			ds string
			l  int
		}{gs[0].Dataset, gs[0].LatentDim}
		best := sweeps.BestCombo(gs)
		p := plot.New()
		p.Title.Text = fmt.Sprintf("%s, ℓ = %d: hyperparameter combinations", k.ds, k.l)
		p.X.Label.Text, p.Y.Label.Text = "N_g", "fraction of seeds passing"
		p.Y.Min, p.Y.Max = -0.05, 1.05
		var legend []legendEntry
		var ticks []plot.Tick
		seen := map[int]bool{}
		for _, g := range gs {
			for _, lv := range g.Levels {
				if !seen[lv.NG] {
					seen[lv.NG] = true
					ticks = append(ticks, plot.Tick{Value: float64(lv.NG), Label: fmt.Sprint(lv.NG)})
				}
			}
		}
		p.X.Tick.Marker = plot.ConstantTicks(ticks)
		for ci, g := range gs {
			var pts plotter.XYs
			for _, lv := range g.Levels {
				pts = append(pts, plotter.XY{X: float64(lv.NG), Y: lv.SuccessFraction})
			}
			line, dots, err := plotter.NewLinePoints(pts)
			if err != nil {
				continue
			}
			c := categorical[ci%len(categorical)]
			line.Color, dots.Color = c, c
			line.Width = vg.Points(1)
			name := g.HyperLabel
			if ci == best {
				line.Width = vg.Points(3)
				name += " (best)"
			}
			p.Add(line, dots)
			legend = append(legend, legendEntry{name, []plot.Thumbnailer{line, dots}})
		}
		png, err := figure{Panels: [][]*plot.Plot{{p}}, W: 7, H: 4.5, Legend: legend}.render()
		if err != nil {
			continue
		}
		name := fmt.Sprintf("hyper-%d.png", i)
		if len(sets) == 1 {
			name = "hyper.png"
		}
		out = append(out, Image{
			Name:    name,
			Title:   fmt.Sprintf("Hyperparameter combinations, %s, ℓ = %d", k.ds, k.l),
			Caption: fmt.Sprintf("Fraction of seeds passing at each N_g, one line per combination; the best (the largest closed N_g, then the most distinct flows, then the highest mean success: %s) is drawn thick.", gs[best].HyperLabel),
			PNG:     png,
		})
	}
	return out
}
