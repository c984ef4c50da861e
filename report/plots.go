package report

import (
	"bytes"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/liesweep/liesweep/datasets"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// dpi of every PNG: a 4×3 inch panel is 384×288 pixels.
const dpi = 96

// logFloor keeps zero losses drawable on a log axis (training curves
// only: the final metrics leave zeros out instead).
const logFloor = 1e-12

// Colours by meaning. Each of these stands for one thing in every figure
// of the report and for nothing else: the pass threshold, a trial that
// passed or failed, the mean over seeds, a trial that did not run. The
// categorical palettes (classColors, categorical) are keyed by each
// figure's legend: a class has one colour in every figure that shows
// classes, a seed one in every figure that shows seeds.
var (
	colourThreshold = color.RGBA{R: 200, A: 255}
	colourPassed    = color.RGBA{R: 0x00, G: 0x9E, B: 0x73, A: 255} // bluish green
	colourFailed    = color.RGBA{R: 0xD5, G: 0x5E, B: 0x00, A: 255} // vermilion
	colourMean      = color.RGBA{R: 70, G: 70, B: 70, A: 255}
	colourNotRun    = color.RGBA{R: 120, G: 120, B: 120, A: 255}
)

// categorical is the palette of seeds, loss terms and hyperparameter
// combinations: Okabe and Ito's colour-blind-safe set without the
// colours of meaning above (their bluish green and vermilion; red is the
// threshold) and without yellow (the streamlines), then Tol's olive and a
// brown.
var categorical = []color.RGBA{
	{R: 0x00, G: 0x72, B: 0xB2, A: 255}, // blue
	{R: 0xE6, G: 0x9F, B: 0x00, A: 255}, // orange
	{R: 0xCC, G: 0x79, B: 0xA7, A: 255}, // reddish purple
	{R: 0x56, G: 0xB4, B: 0xE9, A: 255}, // sky blue
	{R: 0x99, G: 0x99, B: 0x33, A: 255}, // olive
	{R: 0x8C, G: 0x56, B: 0x4B, A: 255}, // brown
}

// seedColour is the colour of the seed of rank i (0 for the smallest) in
// the sweep's seeds.
func seedColour(i int) color.Color { return categorical[i%len(categorical)] }

// logAxis makes ax a log axis over [lo, hi] (0 < lo ≤ hi), widened to
// labelled tick values at both ends (logRange), so that the labels cover
// the whole range. The axis is linear in log10 of the values: the
// panel's plotters must be given log10(y) (logY). (With gonum's LogScale
// a panel loses room at the top: the glyph box of the rotated axis label
// sits at the arithmetic midpoint of the range, near the top on a log
// axis, and pads the data area down by up to half the label's length.)
func logAxis(ax *plot.Axis, lo, hi float64) {
	a, b := logRange(lo, hi)
	ax.Min, ax.Max = math.Log10(a), math.Log10(b)
	ax.Tick.Marker = logTicks{}
}

// logY is where y > 0 is drawn on a logAxis.
func logY(y float64) float64 { return math.Log10(y) }

// logRange widens [lo, hi] to values that logTicks labels: to 1, 2 or 5
// times a power of ten when that spans two decades or less, else to
// powers of ten whose number of decades is a multiple of the labelled
// step (decadeStep), so that both ends carry a label. Values that are not
// positive and finite are clamped into [1e-300, 1e300] first: a metric with
// no finite value (lo = +Inf) beside a threshold of 1e300 panicked the
// whole report.
func logRange(lo, hi float64) (float64, float64) {
	clamp := func(x float64) float64 {
		switch {
		case math.IsNaN(x) || x < 1e-300:
			return 1e-300
		case x > 1e300:
			return 1e300
		}
		return x
	}
	lo, hi = clamp(lo), clamp(hi)
	if lo > hi {
		lo, hi = hi, lo
	}
	a, b := nice125(lo, false), nice125(hi, true)
	if a == b {
		b = nice125(b*1.01, true)
	}
	if b/a <= 100*(1+1e-9) {
		return a, b
	}
	first, last := decade(lo, false), decade(hi, true)
	step := decadeStep(last - first)
	first = last - (last-first+step-1)/step*step
	return math.Pow(10, float64(first)), math.Pow(10, float64(last))
}

// decade is the exponent of the power of ten at or below x (up: at or
// above).
func decade(x float64, up bool) int {
	e := math.Log10(x)
	if up {
		return int(math.Ceil(e - 1e-9))
	}
	return int(math.Floor(e + 1e-9))
}

// nice125 is the largest of 1, 2 and 5 times a power of ten at or below
// x (up: the smallest at or above).
func nice125(x float64, up bool) float64 {
	p := math.Pow(10, float64(decade(x, false)))
	if up {
		for _, m := range []float64{1, 2, 5} {
			if m*p >= x*(1-1e-9) {
				return m * p
			}
		}
		return 10 * p
	}
	for _, m := range []float64{5, 2} {
		if m*p <= x*(1+1e-9) {
			return m * p
		}
	}
	return p
}

// decadeStep labels every step-th power of ten over n decades: seven
// labels at most.
func decadeStep(n int) int { return max(1, (n+5)/6) }

// logTicks ticks a logAxis (its range and tick values in log10 of the
// values) with labels over its whole range: at 1, 2
// and 5 times the powers of ten when it spans two decades or less (at
// 1…9 times them under 0.7 decades), else at the powers of ten (every
// decadeStep-th labelled, counted from the bottom) with unlabelled ticks
// between them. Labels are decimals (0.02) unless one of them is below
// 1e-3 or above 1e3; then all of them are 2e-5 style. Between ends less
// than a factor 2 apart only the ends are labelled.
type logTicks struct{}

func (logTicks) Ticks(min, max float64) []plot.Tick {
	lo, hi := math.Pow(10, min), math.Pow(10, max)
	if !(lo > 0) || !(hi > lo) || math.IsInf(hi, 1) {
		return nil
	}
	type tick struct {
		m, e  int
		label bool
	}
	var ts []tick
	add := func(m, e int, label bool) {
		v := float64(m) * math.Pow(10, float64(e))
		if v >= lo*(1-1e-9) && v <= hi*(1+1e-9) {
			ts = append(ts, tick{m, e, label})
		}
	}
	first, last := decade(lo, false), decade(hi, true)
	if span := math.Log10(hi / lo); span <= 2+1e-9 {
		for e := first; e <= last; e++ {
			for m := 1; m <= 9; m++ {
				add(m, e, span < 0.7 || m == 1 || m == 2 || m == 5)
			}
		}
	} else {
		step := decadeStep(last - first)
		for e := first; e <= last; e++ {
			add(1, e, (e-first)%step == 0)
			if last-first <= 6 {
				for m := 2; m <= 9; m++ {
					add(m, e, false)
				}
			}
		}
	}
	labels, sci := 0, false
	for _, k := range ts {
		if k.label {
			labels++
			sci = sci || k.e < -3 || k.e > 3
		}
	}
	if labels < 2 {
		return []plot.Tick{{Value: min, Label: fmt.Sprintf("%.3g", lo)}, {Value: max, Label: fmt.Sprintf("%.3g", hi)}}
	}
	out := make([]plot.Tick, len(ts))
	for i, k := range ts {
		out[i].Value = float64(k.e) + math.Log10(float64(k.m))
		switch {
		case !k.label:
		case sci && k.e == 0:
			out[i].Label = strconv.Itoa(k.m)
		case sci:
			out[i].Label = fmt.Sprintf("%de%d", k.m, k.e)
		default:
			out[i].Label = decimal(k.m, k.e)
		}
	}
	return out
}

// decimal writes m·10^e (e within ±3) as a decimal: 0.02, 500.
func decimal(m, e int) string {
	if e >= 0 {
		return strconv.Itoa(m) + strings.Repeat("0", e)
	}
	return "0." + strings.Repeat("0", -e-1) + strconv.Itoa(m)
}

// lossTerms are the loss terms of the generators' training in the order
// of the legend (models.TrainGenerators); others follow alphabetically.
var lossTerms = []string{"total", "inv", "norm", "ortho", "closure"}

// lossRank is the place of a loss term in the legend and its style.
func lossRank(name string) int {
	if i := slices.Index(lossTerms, name); i >= 0 {
		return i
	}
	return len(lossTerms)
}

// lossStyle is the line of a loss term: the same in every panel,
// whichever terms a panel has. The total is black, the others take the
// categorical palette in lossTerms' order, dashed beyond it.
func lossStyle(name string) draw.LineStyle {
	i := lossRank(name)
	if i == 0 {
		return draw.LineStyle{Color: color.Black, Width: vg.Points(1.6)}
	}
	if i == len(lossTerms) {
		i += int(crc32.ChecksumIEEE([]byte(name)) % uint32(len(categorical)))
	}
	sty := draw.LineStyle{Color: categorical[(i-1)%len(categorical)], Width: vg.Points(1.3)}
	if i > len(lossTerms)-1 {
		sty.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
	}
	return sty
}

// sortLosses sorts loss term names in the legend's order.
func sortLosses(names []string) {
	sort.Slice(names, func(i, j int) bool {
		if ri, rj := lossRank(names[i]), lossRank(names[j]); ri != rj {
			return ri < rj
		}
		return names[i] < names[j]
	})
}

// lossCurves draws every loss term of one training against the epoch
// (log scale) and returns the names of the terms it drew; their key is
// the figure's (lossLegend), not the panel's.
func lossCurves(title string, history []map[string]float64) (*plot.Plot, []string, error) {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = panelTitle
	p.X.Label.Text = "epoch"
	p.Y.Label.Text = "loss (log)"
	var names []string
	if len(history) > 0 {
		for k := range history[0] {
			names = append(names, k)
		}
	} else {
		p.Title.Text += " (no loss history stored)"
	}
	sortLosses(names)
	var drawn []string
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, n := range names {
		pts := make(plotter.XYs, 0, len(history))
		for e, h := range history {
			v, ok := h[n]
			if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			y := math.Max(math.Abs(v), logFloor)
			pts = append(pts, plotter.XY{X: float64(e + 1), Y: logY(y)})
			lo, hi = math.Min(lo, y), math.Max(hi, y)
		}
		if len(pts) == 0 {
			continue
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return nil, nil, err
		}
		l.LineStyle = lossStyle(n)
		p.Add(l)
		drawn = append(drawn, n)
	}
	if len(drawn) == 0 {
		lo, hi = 0.1, 1
	}
	logAxis(&p.Y, lo, hi)
	p.X.Min, p.X.Max = 0, float64(max(1, len(history)))
	return p, drawn, nil
}

// lossLegend is the key of the training curves: one entry per loss term.
func lossLegend(names []string) ([]legendEntry, error) {
	var out []legendEntry
	for _, n := range names {
		l, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 0}})
		if err != nil {
			return nil, err
		}
		l.LineStyle = lossStyle(n)
		out = append(out, legendEntry{n, []plot.Thumbnailer{l}})
	}
	return out, nil
}

// metricPoint is one trial's value of a metric.
type metricPoint struct {
	NG     int
	Seed   int
	Passed bool
	Value  float64
}

// seedGlyph is a trial's marker in the final-metrics panels: its seed's
// colour (rank: the seed's place among the sweep's), filled when the
// trial passed, a ring when it failed.
func seedGlyph(rank int, passed bool) draw.GlyphStyle {
	g := draw.GlyphStyle{Color: seedColour(rank), Radius: vg.Points(3.2), Shape: draw.CircleGlyph{}}
	if !passed {
		g.Shape = ring{}
	}
	return g
}

// ring is an open circle drawn with a line thick enough to see its
// colour (draw.RingGlyph's is half a point).
type ring struct{}

func (ring) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	w := vg.Points(1.4)
	r := sty.Radius - w/2
	c.SetLineStyle(draw.LineStyle{Color: sty.Color, Width: w})
	var p vg.Path
	p.Move(vg.Point{X: pt.X + r, Y: pt.Y})
	p.Arc(pt, r, 0, 2*math.Pi)
	p.Close()
	c.Stroke(p)
}

func meanLine(xy plotter.XYs) (*plotter.Line, error) {
	l, err := plotter.NewLine(xy)
	if err != nil {
		return nil, err
	}
	l.Color, l.Width = colourMean, vg.Points(1.2)
	return l, nil
}

func thresholdLine(xy plotter.XYs) (*plotter.Line, error) {
	l, err := plotter.NewLine(xy)
	if err != nil {
		return nil, err
	}
	l.Color, l.Width = colourThreshold, vg.Points(1.4)
	l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
	return l, nil
}

// glyphThumb is a legend icon of one marker.
type glyphThumb draw.GlyphStyle

func (g glyphThumb) Thumbnail(c *draw.Canvas) {
	c.DrawGlyph(draw.GlyphStyle(g), c.Center())
}

// metricsLegend is the key of the final-metrics panels, drawn once below
// them: a marker per seed (seeds smallest first), filled and open when
// some trial failed, the mean and the threshold.
func metricsLegend(seeds []int, anyFailed bool) ([]legendEntry, error) {
	var out []legendEntry
	for i, s := range seeds {
		out = append(out, legendEntry{fmt.Sprintf("seed %d", s), []plot.Thumbnailer{glyphThumb(seedGlyph(i, true))}})
	}
	if anyFailed {
		passed, failed := seedGlyph(0, true), seedGlyph(0, false)
		passed.Color, failed.Color = colourMean, colourMean
		out = append(out, legendEntry{"filled: the trial passed", []plot.Thumbnailer{glyphThumb(passed)}},
			legendEntry{"open: it failed", []plot.Thumbnailer{glyphThumb(failed)}})
	}
	one := plotter.XYs{{X: 0, Y: 1}, {X: 1, Y: 1}}
	m, err := meanLine(one)
	if err != nil {
		return nil, err
	}
	t, err := thresholdLine(one)
	if err != nil {
		return nil, err
	}
	return append(out, legendEntry{"mean over seeds", []plot.Thumbnailer{m}}, legendEntry{"pass threshold", []plot.Thumbnailer{t}}), nil
}

// metricVsNG draws a metric of every trial against N_g on a log axis (a
// marker per trial, seedGlyph: seeds lists the sweep's seeds, smallest
// first), the mean over seeds as a line and the pass threshold as a
// dashed line, over the N_g in ngs. The points must be positive: the
// caller leaves out zeros and metrics that do not apply. The panel has no
// legend of its own (metricsLegend is drawn outside the data).
func metricVsNG(name string, pts []metricPoint, threshold float64, ngs, seeds []int) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s (threshold %g)", name, threshold)
	p.Title.TextStyle.Font.Size = panelTitle
	p.X.Label.Text = "N_g"
	p.Y.Label.Text = name + " (log)"
	sum, n := map[int]float64{}, map[int]int{}
	type key struct {
		rank   int
		passed bool
	}
	dots := map[key]plotter.XYs{}
	ylo, yhi := threshold, threshold
	for _, q := range pts {
		if !(q.Value > 0) {
			panic(fmt.Sprintf("report: metricVsNG: %s = %g is not drawable on a log axis", name, q.Value))
		}
		k := key{max(0, slices.Index(seeds, q.Seed)), q.Passed}
		dots[k] = append(dots[k], plotter.XY{X: float64(q.NG), Y: logY(q.Value)})
		sum[q.NG] += q.Value
		n[q.NG]++
		ylo, yhi = math.Min(ylo, q.Value), math.Max(yhi, q.Value)
	}
	xmin, xmax := float64(ngs[0]), float64(ngs[len(ngs)-1])
	pad := math.Max(0.5, 0.04*(xmax-xmin))
	var mean plotter.XYs
	for _, k := range ngs {
		if n[k] > 0 {
			mean = append(mean, plotter.XY{X: float64(k), Y: logY(sum[k] / float64(n[k]))})
		}
	}
	thr, err := thresholdLine(plotter.XYs{{X: xmin - pad, Y: logY(threshold)}, {X: xmax + pad, Y: logY(threshold)}})
	if err != nil {
		return nil, err
	}
	p.Add(thr)
	if len(pts) > 0 {
		l, err := meanLine(mean)
		if err != nil {
			return nil, err
		}
		p.Add(l)
		var keys []key
		for k := range dots {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			if keys[i].rank != keys[j].rank {
				return keys[i].rank < keys[j].rank
			}
			return !keys[i].passed && keys[j].passed
		})
		for _, k := range keys {
			s, err := plotter.NewScatter(dots[k])
			if err != nil {
				return nil, err
			}
			s.GlyphStyle = seedGlyph(k.rank, k.passed)
			p.Add(s)
		}
	} else {
		p.Title.Text += ": nothing drawn"
	}
	p.X.Min, p.X.Max = xmin-pad, xmax+pad
	p.X.Tick.Marker = ngTicks(ngs)
	// A factor 2 of margin, a decade at least in all, widened to labelled
	// ticks at both ends.
	lo, hi := ylo/2, yhi*2
	if hi/lo < 10 {
		mid := math.Sqrt(lo * hi)
		lo, hi = mid/math.Sqrt(10), mid*math.Sqrt(10)
	}
	logAxis(&p.Y, lo, hi)
	return p, nil
}

// ngTicks ticks the N_g of a sweep: every one labelled up to ten of them,
// else every other (the last always).
func ngTicks(ngs []int) plot.ConstantTicks {
	every := 1
	if len(ngs) > 10 {
		every = 2
	}
	var t plot.ConstantTicks
	for i, k := range ngs {
		label := ""
		if i%every == 0 || i == len(ngs)-1 {
			label = fmt.Sprint(k)
		}
		t = append(t, plot.Tick{Value: float64(k), Label: label})
	}
	return t
}

// quiver draws arrows from At[i] along V[i], scaled so the longest is Len
// data units.
type quiver struct {
	At, V [][2]float64
	Len   float64
	Color color.Color
}

func (q *quiver) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, trY := plt.Transforms(&c)
	maxN := 0.0
	for _, v := range q.V {
		maxN = math.Max(maxN, math.Hypot(v[0], v[1]))
	}
	if maxN == 0 {
		return
	}
	sty := draw.LineStyle{Color: q.Color, Width: vg.Points(0.8)}
	for i, a := range q.At {
		v := q.V[i]
		bx, by := a[0]+v[0]/maxN*q.Len, a[1]+v[1]/maxN*q.Len
		p0 := vg.Point{X: trX(a[0]), Y: trY(a[1])}
		p1 := vg.Point{X: trX(bx), Y: trY(by)}
		d := p1.Sub(p0)
		n := math.Hypot(float64(d.X), float64(d.Y))
		if n < 0.5 {
			continue
		}
		u := vg.Point{X: d.X / vg.Length(n), Y: d.Y / vg.Length(n)}
		head := vg.Length(math.Min(4, n/2))
		l := vg.Point{X: -u.X*head - u.Y*head/2, Y: -u.Y*head + u.X*head/2}
		r := vg.Point{X: -u.X*head + u.Y*head/2, Y: -u.Y*head - u.X*head/2}
		lines := c.ClipLinesXY([]vg.Point{p0, p1}, []vg.Point{p1.Add(l), p1, p1.Add(r)})
		c.StrokeLines(sty, lines...)
	}
}

func (q *quiver) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, ymin = math.Inf(1), math.Inf(1)
	xmax, ymax = math.Inf(-1), math.Inf(-1)
	for _, a := range q.At {
		xmin, xmax = math.Min(xmin, a[0]), math.Max(xmax, a[0])
		ymin, ymax = math.Min(ymin, a[1]), math.Max(ymax, a[1])
	}
	return
}

// grid is a heat map's values on a regular grid (plotter.GridXYZ).
type grid struct {
	Xs, Ys []float64
	Vals   [][]float64 // Vals[row(y)][col(x)]
	Lo, Hi float64
}

func (g *grid) Dims() (int, int)   { return len(g.Xs), len(g.Ys) }
func (g *grid) Z(c, r int) float64 { return g.Vals[r][c] }
func (g *grid) X(c int) float64    { return g.Xs[c] }
func (g *grid) Y(r int) float64    { return g.Ys[r] }
func (g *grid) Min() float64       { return g.Lo }
func (g *grid) Max() float64       { return g.Hi }

// strip tiles images of the given shape in one row, each scaled by zoom
// (grayscale white on black as MNIST is, or RGB).
func strip(images [][]float32, shape datasets.ImageShape, zoom int) ([]byte, error) {
	return tiles([][][]float32{images}, shape, zoom)
}

// tiles lays rows of images of the given shape (C×H×W pixels in [0, 1],
// channel-first) out as a grid, each scaled by zoom.
func tiles(rows [][][]float32, shape datasets.ImageShape, zoom int) ([]byte, error) {
	if shape == (datasets.ImageShape{}) {
		shape = datasets.MNISTShape
	}
	pad := 2
	cols := 0
	for _, r := range rows {
		cols = max(cols, len(r))
	}
	w := cols*(shape.W*zoom+pad) + pad
	h := len(rows)*(shape.H*zoom+pad) + pad
	level := func(v float32) uint8 { return uint8(math.Round(255 * math.Min(1, math.Max(0, float64(v))))) }
	hw := shape.H * shape.W
	// grayscale sets are drawn as gray PNGs, RGB ones as RGB
	var img interface {
		image.Image
		Set(x, y int, c color.Color)
	}
	if shape.C == 3 {
		img = image.NewRGBA(image.Rect(0, 0, w, h))
	} else {
		img = image.NewGray(image.Rect(0, 0, w, h))
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.Gray{Y: 96})
		}
	}
	for r, row := range rows {
		y0 := pad + r*(shape.H*zoom+pad)
		for k, im := range row {
			x0 := pad + k*(shape.W*zoom+pad)
			for y := 0; y < shape.H*zoom; y++ {
				for x := 0; x < shape.W*zoom; x++ {
					p := (y/zoom)*shape.W + x/zoom
					if shape.C == 3 {
						img.Set(x0+x, y0+y, color.RGBA{R: level(im[p]), G: level(im[hw+p]), B: level(im[2*hw+p]), A: 255})
					} else {
						img.Set(x0+x, y0+y, color.Gray{Y: level(im[p])})
					}
				}
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
