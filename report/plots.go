package report

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"sort"

	"github.com/liesweep/liesweep/datasets"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// dpi of every PNG: a 4×3 inch panel is 384×288 pixels.
const dpi = 96

// renderPNG draws plots aligned in rows × cols tiles of w × h inches each.
func renderPNG(plots [][]*plot.Plot, w, h float64) ([]byte, error) {
	return figure{Panels: plots, W: w, H: h}.render()
}

// logFloor keeps zero losses drawable on a log axis (training curves
// only: the final metrics leave zeros out instead).
const logFloor = 1e-12

func logY(p *plot.Plot) {
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = decades{}
}

// decades ticks a log axis at powers of ten, labelled 1e-3 style, at most
// six of them labelled.
type decades struct{}

func (decades) Ticks(lo, hi float64) []plot.Tick {
	first, last := int(math.Floor(math.Log10(lo))), int(math.Ceil(math.Log10(hi)))
	step := max(1, (last-first+5)/6)
	var t []plot.Tick
	for e := first; e <= last; e++ {
		v := math.Pow(10, float64(e))
		if v < lo*0.999 || v > hi*1.001 {
			continue
		}
		label := ""
		if (e-first)%step == 0 {
			switch {
			case e == 0:
				label = "1"
			case e == 1:
				label = "10"
			default:
				label = fmt.Sprintf("1e%d", e)
			}
		}
		t = append(t, plot.Tick{Value: v, Label: label})
	}
	if len(t) < 2 {
		return plot.LogTicks{Prec: 2}.Ticks(lo, hi)
	}
	return t
}

// lossCurves draws every loss term of one training against the epoch.
func lossCurves(title string, history []map[string]float64) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "epoch"
	p.Y.Label.Text = "loss"
	logY(p)
	if len(history) == 0 {
		p.Title.Text += " (no loss history stored)"
		return p, nil
	}
	var names []string
	for k := range history[0] {
		names = append(names, k)
	}
	sort.Strings(names)
	var args []any
	for _, n := range names {
		pts := make(plotter.XYs, 0, len(history))
		for e, h := range history {
			v, ok := h[n]
			if !ok || math.IsNaN(v) {
				continue
			}
			pts = append(pts, plotter.XY{X: float64(e + 1), Y: math.Max(math.Abs(v), logFloor)})
		}
		if len(pts) > 0 {
			args = append(args, n, pts)
		}
	}
	if err := plotutil.AddLines(p, args...); err != nil {
		return nil, err
	}
	p.Legend.Top = true
	p.Legend.TextStyle.Font.Size = vg.Points(8)
	return p, nil
}

// metricPoint is one trial's value of a metric.
type metricPoint struct {
	NG    int
	Seed  int
	Value float64
}

// Styles of the final-metrics panels, shared with their legend.
var (
	colourSeeds     = color.RGBA{R: 40, G: 90, B: 200, A: 255}
	colourThreshold = color.RGBA{R: 200, A: 255}
)

func seedDots(xy plotter.XYs) (*plotter.Scatter, error) {
	s, err := plotter.NewScatter(xy)
	if err != nil {
		return nil, err
	}
	s.GlyphStyle.Shape = draw.CircleGlyph{}
	s.GlyphStyle.Color = colourSeeds
	return s, nil
}

func meanLine(xy plotter.XYs) (*plotter.Line, error) {
	l, err := plotter.NewLine(xy)
	if err != nil {
		return nil, err
	}
	l.Color = colourSeeds
	return l, nil
}

func thresholdLine(xy plotter.XYs) (*plotter.Line, error) {
	l, err := plotter.NewLine(xy)
	if err != nil {
		return nil, err
	}
	l.Color = colourThreshold
	l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	return l, nil
}

// metricsLegend is the key of the final-metrics panels, drawn once below
// them.
func metricsLegend() ([]legendEntry, error) {
	one := plotter.XYs{{X: 0, Y: 1}, {X: 1, Y: 1}}
	s, err := seedDots(one[:1])
	if err != nil {
		return nil, err
	}
	m, err := meanLine(one)
	if err != nil {
		return nil, err
	}
	t, err := thresholdLine(one)
	if err != nil {
		return nil, err
	}
	return []legendEntry{{"one seed", []plot.Thumbnailer{s}}, {"mean over seeds", []plot.Thumbnailer{m}}, {"pass threshold", []plot.Thumbnailer{t}}}, nil
}

// metricVsNG draws a metric of every trial against N_g on a log axis (one
// dot per seed), the mean over seeds as a line and the pass threshold as a
// dashed line, over the N_g in ngs. The points must be positive: the
// caller leaves out zeros and metrics that do not apply. The panel has no
// legend of its own (metricsLegend is drawn outside the data).
func metricVsNG(name string, pts []metricPoint, threshold float64, ngs []int) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s (threshold %g)", name, threshold)
	p.Title.TextStyle.Font.Size = vg.Points(10)
	p.X.Label.Text = "N_g"
	p.Y.Label.Text = name + " (log)"
	logY(p)
	sum, n := map[int]float64{}, map[int]int{}
	var dots plotter.XYs
	ylo, yhi := threshold, threshold
	for _, q := range pts {
		if !(q.Value > 0) {
			panic(fmt.Sprintf("report: metricVsNG: %s = %g is not drawable on a log axis", name, q.Value))
		}
		dots = append(dots, plotter.XY{X: float64(q.NG), Y: q.Value})
		sum[q.NG] += q.Value
		n[q.NG]++
		ylo, yhi = math.Min(ylo, q.Value), math.Max(yhi, q.Value)
	}
	xmin, xmax := float64(ngs[0]), float64(ngs[len(ngs)-1])
	var mean plotter.XYs
	for _, k := range ngs {
		if n[k] > 0 {
			mean = append(mean, plotter.XY{X: float64(k), Y: sum[k] / float64(n[k])})
		}
	}
	thr, err := thresholdLine(plotter.XYs{{X: xmin - 0.3, Y: threshold}, {X: xmax + 0.3, Y: threshold}})
	if err != nil {
		return nil, err
	}
	p.Add(thr)
	if len(dots) > 0 {
		s, err := seedDots(dots)
		if err != nil {
			return nil, err
		}
		l, err := meanLine(mean)
		if err != nil {
			return nil, err
		}
		p.Add(l, s)
	} else {
		p.Title.Text += ": nothing drawn"
	}
	p.X.Min, p.X.Max = xmin-0.5, xmax+0.5
	// A third of a decade of margin, and a decade at least in all.
	p.Y.Min, p.Y.Max = ylo/2, yhi*2
	if p.Y.Max/p.Y.Min < 10 {
		mid := math.Sqrt(p.Y.Min * p.Y.Max)
		p.Y.Min, p.Y.Max = mid/math.Sqrt(10), mid*math.Sqrt(10)
	}
	p.X.Tick.Marker = intTicks{}
	return p, nil
}

type intTicks struct{}

func (intTicks) Ticks(min, max float64) []plot.Tick {
	var t []plot.Tick
	for i := math.Ceil(min); i <= max; i++ {
		t = append(t, plot.Tick{Value: i, Label: fmt.Sprint(int(i))})
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
