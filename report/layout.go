package report

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// figure is a grid of panels drawn as one PNG, each panel a tile of W × H
// inches (a nil panel leaves its tile empty). Legend, when set, is drawn
// in a strip below the panels, outside every data area, so it never hides
// a point; a panel in Bars gets its colour bar in a strip at the right of
// its tile, level with its data; Key is one colour bar for every panel,
// in a strip at the right of the figure, level with the first row's data.
type figure struct {
	Panels [][]*plot.Plot
	W, H   float64
	Legend []legendEntry
	Bars   map[*plot.Plot]*colourBar
	Key    *colourBar
}

// wrap lays panels out in rows of perRow (small multiples that read at
// page width), the last row filled up with empty tiles.
func wrap(panels []*plot.Plot, perRow int) [][]*plot.Plot {
	perRow = max(1, min(perRow, len(panels)))
	var rows [][]*plot.Plot
	for i := 0; i < len(panels); i += perRow {
		row := make([]*plot.Plot, perRow)
		copy(row, panels[i:min(i+perRow, len(panels))])
		rows = append(rows, row)
	}
	return rows
}

// legendEntry is one entry of a figure's shared legend.
type legendEntry struct {
	Name   string
	Thumbs []plot.Thumbnailer
}

const (
	// barStrip is the width of a colour bar's strip, ticks and labels
	// included (inches).
	barStrip = 0.9
	// legendLine is the height of one line of a figure's legend (inches).
	legendLine = 0.28
)

// panelTitle is the font size of a small multiple's title.
const panelTitle = vg.Length(11)

func tilesOf(rows, cols int) draw.Tiles {
	pad := vg.Millimeter * 2
	return draw.Tiles{Rows: rows, Cols: cols, PadX: pad, PadY: pad, PadTop: pad, PadBottom: pad, PadLeft: pad, PadRight: pad}
}

func legendStyle() text.Style {
	return text.Style{Font: font.From(plot.DefaultFont, 10), Handler: plot.DefaultTextHandler, Color: color.Black}
}

// legendLines lays the entries out left to right, starting a new line when
// one would pass width; it returns the entries of each line.
func legendLines(entries []legendEntry, width vg.Length) [][]legendEntry {
	sty := legendStyle()
	var lines [][]legendEntry
	var x vg.Length
	for _, e := range entries {
		w := legendEntryWidth(sty, e)
		if len(lines) == 0 || x+w > width {
			lines = append(lines, nil)
			x = 0
		}
		lines[len(lines)-1] = append(lines[len(lines)-1], e)
		x += w
	}
	return lines
}

func legendEntryWidth(sty text.Style, e legendEntry) vg.Length {
	return vg.Points(20) + vg.Points(4) + sty.Width(e.Name) + vg.Points(16)
}

// render draws the figure as a PNG.
func (f figure) render() ([]byte, error) {
	rows, cols := len(f.Panels), len(f.Panels[0])
	key := vg.Length(0)
	if f.Key != nil {
		key = vg.Length(barStrip) * vg.Inch
	}
	width := vg.Length(f.W*float64(cols))*vg.Inch + key
	var lines [][]legendEntry
	if len(f.Legend) > 0 {
		lines = legendLines(f.Legend, width-vg.Millimeter*4)
	}
	legH := vg.Length(legendLine*float64(len(lines))) * vg.Inch
	if len(lines) > 0 {
		legH += vg.Millimeter * 2
	}
	height := vg.Length(f.H*float64(rows))*vg.Inch + legH
	c := vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(dpi))
	dc := draw.New(c)

	bar := vg.Length(0)
	if len(f.Bars) > 0 {
		bar = vg.Length(barStrip) * vg.Inch
	}
	area := dc
	area.Min.Y += legH
	area.Max.X -= bar*vg.Length(cols) + key
	canvases := plot.Align(f.Panels, tilesOf(rows, cols), area)
	for i := range f.Panels {
		// Align gives each tile as much room above its data as its own
		// tick labels need, so titles drawn at the tops of the tiles would
		// sit at different heights: draw the row's titles on one line, at
		// the lowest of those tops, centred over the data.
		top := vg.Length(math.Inf(1))
		for j, p := range f.Panels[i] {
			if p != nil {
				top = min(top, canvases[i][j].Max.Y)
			}
		}
		for j, p := range f.Panels[i] {
			if p == nil {
				continue
			}
			cv := canvases[i][j]
			cv.Min.X += bar * vg.Length(j)
			cv.Max.X += bar * vg.Length(j)
			title := p.Title.Text
			if title != "" {
				p.Title.Text = " " // keeps the title's room
			}
			p.Draw(cv)
			p.Title.Text = title
			if title != "" {
				da := p.DataCanvas(cv)
				sty := p.Title.TextStyle // as Plot.Draw places it
				cv.FillText(sty, vg.Point{X: (da.Min.X + da.Max.X) / 2, Y: top + sty.FontExtents().Descent}, title)
			}
			if b := f.Bars[p]; b != nil {
				da := p.DataCanvas(cv)
				b.draw(draw.Canvas{Canvas: cv.Canvas, Rectangle: vg.Rectangle{
					Min: vg.Point{X: cv.Max.X + vg.Millimeter*2, Y: da.Min.Y},
					Max: vg.Point{X: cv.Max.X + bar, Y: da.Max.Y},
				}})
			}
		}
	}
	if f.Key != nil {
		lo, hi := vg.Length(math.Inf(1)), vg.Length(math.Inf(-1))
		for j, p := range f.Panels[0] {
			if p != nil {
				da := p.DataCanvas(canvases[0][j])
				lo, hi = min(lo, da.Min.Y), max(hi, da.Max.Y)
			}
		}
		f.Key.draw(draw.Canvas{Canvas: dc.Canvas, Rectangle: vg.Rectangle{
			Min: vg.Point{X: area.Max.X + vg.Millimeter*2, Y: lo},
			Max: vg.Point{X: dc.Max.X, Y: hi},
		}})
	}
	if len(lines) > 0 {
		strip := dc
		strip.Max.Y = strip.Min.Y + legH
		drawLegend(strip, lines)
	}
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("encode png: %w", err)
	}
	return buf.Bytes(), nil
}

// drawLegend draws the legend's lines centred in c, top to bottom.
func drawLegend(c draw.Canvas, lines [][]legendEntry) {
	sty := legendStyle()
	sty.YAlign = draw.YCenter
	lh := vg.Length(legendLine) * vg.Inch
	for k, line := range lines {
		var w vg.Length
		for _, e := range line {
			w += legendEntryWidth(sty, e)
		}
		x := c.Min.X + (c.Max.X-c.Min.X-w)/2
		y := c.Max.Y - lh*vg.Length(k) - lh/2
		for _, e := range line {
			icon := draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{
				Min: vg.Point{X: x, Y: y - lh/3}, Max: vg.Point{X: x + vg.Points(20), Y: y + lh/3}}}
			for _, t := range e.Thumbs {
				t.Thumbnail(&icon)
			}
			c.FillText(sty, vg.Point{X: x + vg.Points(24), Y: y}, e.Name)
			x += legendEntryWidth(sty, e)
		}
	}
}

// colourMap maps t ∈ [0, 1] to a colour.
type colourMap func(t float64) color.RGBA

// ramp interpolates linearly between the stops, equally spaced on [0, 1].
func ramp(stops ...color.RGBA) colourMap {
	return func(t float64) color.RGBA {
		t = math.Min(1, math.Max(0, t))
		x := t * float64(len(stops)-1)
		i := min(int(x), len(stops)-2)
		s := x - float64(i)
		a, b := stops[i], stops[i+1]
		lerp := func(u, v uint8) uint8 { return uint8(math.Round(float64(u) + (float64(v)-float64(u))*s)) }
		return color.RGBA{R: lerp(a.R, b.R), G: lerp(a.G, b.G), B: lerp(a.B, b.B), A: 255}
	}
}

var (
	// greys is the heat map of ψ under the latents: one hue, light enough
	// that the black arrows and the coloured class markers stay legible.
	greys = ramp(color.RGBA{R: 250, G: 250, B: 250, A: 255}, color.RGBA{R: 110, G: 110, B: 110, A: 255})
	// spread is the palette of standard deviations: white at 0.
	spread = ramp(color.RGBA{R: 255, G: 255, B: 255, A: 255}, color.RGBA{R: 150, G: 150, B: 150, A: 255}, color.RGBA{R: 37, G: 37, B: 37, A: 255})
	// coolWarm is a blue–white–red palette for signed values (white at
	// the middle of the range).
	coolWarm = ramp(color.RGBA{R: 59, G: 76, B: 192, A: 255}, color.RGBA{R: 240, G: 240, B: 240, A: 255}, color.RGBA{R: 180, G: 4, B: 38, A: 255})
	// colourNaN marks a cell without a value.
	colourNaN = color.RGBA{R: 255, G: 0, B: 255, A: 255}
)

// colourBar is the key of a heat map: the palette from Lo (bottom) to Hi
// (top) with value ticks at its right.
type colourBar struct {
	Label  string
	Lo, Hi float64
	Map    colourMap
}

// draw draws the bar in c: a strip 10 points wide at c's left, ticks and
// their values right of it, the label above.
func (b *colourBar) draw(c draw.Canvas) {
	lo, hi := b.Lo, b.Hi
	if !(hi > lo) {
		hi = lo + 1
	}
	const n = 256
	img := image.NewRGBA(image.Rect(0, 0, 8, n))
	for y := 0; y < n; y++ {
		col := b.Map(1 - (float64(y)+0.5)/n)
		for x := 0; x < 8; x++ {
			img.SetRGBA(x, y, col)
		}
	}
	r := vg.Rectangle{Min: c.Min, Max: vg.Point{X: c.Min.X + vg.Points(10), Y: c.Max.Y}}
	c.DrawImage(r, img)
	edge := draw.LineStyle{Color: color.Black, Width: vg.Points(0.5)}
	c.StrokeLines(edge, []vg.Point{r.Min, {X: r.Max.X, Y: r.Min.Y}, r.Max, {X: r.Min.X, Y: r.Max.Y}, r.Min})
	sty := legendStyle()
	sty.Font.Size = vg.Points(8)
	sty.YAlign = draw.YCenter
	ticks := (plot.DefaultTicks{}).Ticks(lo, hi)
	if lo == -hi {
		// signed values: the ends and 0
		ticks = nil
		for _, v := range []float64{lo, lo / 2, 0, hi / 2, hi} {
			ticks = append(ticks, plot.Tick{Value: v, Label: fmt.Sprintf("%.3g", v)})
		}
	}
	for _, t := range ticks {
		if t.Label == "" || t.Value < lo-1e-12*(hi-lo) || t.Value > hi+1e-12*(hi-lo) {
			continue
		}
		y := r.Min.Y + vg.Length((t.Value-lo)/(hi-lo))*(r.Max.Y-r.Min.Y)
		c.StrokeLine2(edge, r.Max.X, y, r.Max.X+vg.Points(3), y)
		c.FillText(sty, vg.Point{X: r.Max.X + vg.Points(4), Y: y}, t.Label)
	}
	if b.Label != "" {
		sty.YAlign = draw.YBottom
		c.FillText(sty, vg.Point{X: r.Min.X, Y: r.Max.Y + vg.Points(3)}, b.Label)
	}
}

// rasterHeat draws a grid as one image: no seams between the cells (as a
// heat map of many filled rectangles has at their anti-aliased edges), and
// each cell a block of equal pixels, so small grids keep sharp cells.
type rasterHeat struct {
	G      *grid
	Map    colourMap
	Lo, Hi float64 // the values at the ends of the palette
}

func (h *rasterHeat) Plot(c draw.Canvas, plt *plot.Plot) {
	cols, rows := h.G.Dims()
	k := max(1, int(math.Ceil(480/float64(max(cols, rows)))))
	img := image.NewRGBA(image.Rect(0, 0, cols*k, rows*k))
	span := h.Hi - h.Lo
	if !(span > 0) {
		span = 1
	}
	for r := 0; r < rows; r++ {
		for cl := 0; cl < cols; cl++ {
			v := h.G.Z(cl, r)
			col := colourNaN
			if !math.IsNaN(v) {
				col = h.Map((v - h.Lo) / span)
			}
			for y := 0; y < k; y++ {
				for x := 0; x < k; x++ {
					img.SetRGBA(cl*k+x, (rows-1-r)*k+y, col) // row 0 at the bottom
				}
			}
		}
	}
	xmin, xmax, ymin, ymax := h.DataRange()
	plotter.NewImage(img, xmin, ymin, xmax, ymax).Plot(c, plt)
}

// DataRange is the grid's extent to the outer edges of its cells.
func (h *rasterHeat) DataRange() (xmin, xmax, ymin, ymax float64) {
	edges := func(n int, at func(int) float64) (float64, float64) {
		if n == 1 {
			return at(0) - 0.5, at(0) + 0.5
		}
		return at(0) - (at(1)-at(0))/2, at(n-1) + (at(n-1)-at(n-2))/2
	}
	cols, rows := h.G.Dims()
	xmin, xmax = edges(cols, h.G.X)
	ymin, ymax = edges(rows, h.G.Y)
	return
}

// cellText writes a label at the centre of grid cells, black on light
// cells and white on dark ones (Dark says which).
type cellText struct {
	At   []plotter.XY
	Text []string
	Dark []bool
	Size vg.Length
}

func (t *cellText) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, trY := plt.Transforms(&c)
	sty := legendStyle()
	sty.Font.Size = t.Size
	sty.XAlign, sty.YAlign = draw.XCenter, draw.YCenter
	for i, p := range t.At {
		sty.Color = color.Black
		if t.Dark[i] {
			sty.Color = color.White
		}
		c.FillText(sty, vg.Point{X: trX(p.X), Y: trY(p.Y)}, t.Text[i])
	}
}

// luminance is the relative luminance of a colour in [0, 1].
func luminance(c color.RGBA) float64 {
	return (0.2126*float64(c.R) + 0.7152*float64(c.G) + 0.0722*float64(c.B)) / 255
}

// classColors are the class colours of scatter plots and class curves:
// Okabe and Ito's colour-blind-safe set without its yellow (the colour of
// the streamlines) and black (the arrows), and Tol's olive.
var classColors = []color.RGBA{
	{R: 0xE6, G: 0x9F, B: 0x00, A: 255}, // orange
	{R: 0x00, G: 0x72, B: 0xB2, A: 255}, // blue
	{R: 0x00, G: 0x9E, B: 0x73, A: 255}, // bluish green
	{R: 0xD5, G: 0x5E, B: 0x00, A: 255}, // vermilion
	{R: 0x56, G: 0xB4, B: 0xE9, A: 255}, // sky blue
	{R: 0xCC, G: 0x79, B: 0xA7, A: 255}, // reddish purple
	{R: 0x99, G: 0x99, B: 0x33, A: 255}, // olive
}

// classColor is the colour of class i in scatter plots and class curves.
func classColor(i int) color.Color { return classColors[i%len(classColors)] }

// classGlyph is the marker of class i: its colour, one of five shapes
// (seven colours × five shapes: the first 35 classes differ), outlined.
func classGlyph(i int, radius vg.Length) draw.GlyphStyle {
	return draw.GlyphStyle{Color: classColor(i), Radius: radius, Shape: outlinedGlyph{Shape: i % 5}}
}

// outlinedGlyph is a filled marker with a thin dark outline, so markers
// stay distinct from each other and from the heat map below them.
type outlinedGlyph struct{ Shape int }

func (g outlinedGlyph) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	r := sty.Radius
	var p vg.Path
	poly := func(pts ...vg.Point) {
		p.Move(pt.Add(pts[0]))
		for _, q := range pts[1:] {
			p.Line(pt.Add(q))
		}
		p.Close()
	}
	switch g.Shape % 5 {
	case 0: // circle
		p.Move(vg.Point{X: pt.X + r, Y: pt.Y})
		p.Arc(pt, r, 0, 2*math.Pi)
		p.Close()
	case 1: // square
		s := r * 0.85
		poly(vg.Point{X: -s, Y: -s}, vg.Point{X: s, Y: -s}, vg.Point{X: s, Y: s}, vg.Point{X: -s, Y: s})
	case 2: // triangle up
		poly(vg.Point{X: 0, Y: r * 1.15}, vg.Point{X: r, Y: -r * 0.7}, vg.Point{X: -r, Y: -r * 0.7})
	case 3: // diamond
		poly(vg.Point{X: 0, Y: r * 1.2}, vg.Point{X: r, Y: 0}, vg.Point{X: 0, Y: -r * 1.2}, vg.Point{X: -r, Y: 0})
	case 4: // triangle down
		poly(vg.Point{X: 0, Y: -r * 1.15}, vg.Point{X: r, Y: r * 0.7}, vg.Point{X: -r, Y: r * 0.7})
	}
	c.SetColor(sty.Color)
	c.Fill(p)
	c.SetLineStyle(draw.LineStyle{Color: color.RGBA{R: 20, G: 20, B: 20, A: 255}, Width: vg.Points(0.4)})
	c.Stroke(p)
}
