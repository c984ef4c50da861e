package report

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"strings"
	"testing"

	"github.com/liesweep/liesweep/report/reporttest"
	"github.com/liesweep/liesweep/sweeps"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

func judged(ng, seed int, m sweeps.Metrics) sweeps.TrialResult {
	t := sweeps.TrialResult{Dataset: "norm(n=3)", LatentDim: 3, NG: ng, Seed: seed, Metrics: m}
	t.Judge(sweeps.DefaultSpec().Verdict)
	return t
}

// TestMetricsPanels: the final-metrics panels leave out what has no place
// on a log axis (ortho_cos2 and closure_rel at N_g = 1, exact zeros)
// instead of drawing it at 1e-12, say so in the caption, label their y
// axes, and keep their legend out of the data (drawn once below them).
func TestMetricsPanels(t *testing.T) {
	ok := sweeps.Metrics{InvRatio: 1e-6, OrthoCos2: 1e-5, NormDev: 1e-4, ClosureRel: 1e-3}
	zeroNorm := ok
	zeroNorm.NormDev = 0
	g := sweeps.Aggregate([]sweeps.TrialResult{
		judged(1, 1, sweeps.Metrics{InvRatio: 1e-6, NormDev: 1e-4}), judged(1, 2, sweeps.Metrics{InvRatio: 2e-6, NormDev: 2e-4}),
		judged(2, 1, zeroNorm), judged(2, 2, ok),
		judged(3, 1, ok), judged(3, 2, ok),
	}, 1)[0]

	ortho := seriesOf(g, "ortho_cos2", func(m sweeps.Metrics) float64 { return m.OrthoCos2 })
	if ortho.NotApplicable != 2 || len(ortho.Zeros) != 0 || len(ortho.Points) != 4 {
		t.Errorf("ortho_cos2: %+v; want the two N_g = 1 trials not applicable, 4 points", ortho)
	}
	for _, p := range ortho.Points {
		if p.NG == 1 {
			t.Errorf("ortho_cos2 drawn at N_g = 1: %+v", p)
		}
	}
	norm := seriesOf(g, "norm_dev", func(m sweeps.Metrics) float64 { return m.NormDev })
	if len(norm.Zeros) != 1 || norm.Zeros[0] != "N_g = 2 (seed 1)" || len(norm.Points) != 5 {
		t.Errorf("norm_dev: %+v; want the zero at N_g = 2, seed 1 left out", norm)
	}

	row, caption, err := metricsPanels(g)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Not drawn at N_g = 1: ortho_cos2 and closure_rel", "norm_dev at N_g = 2 (seed 1)"} {
		if !strings.Contains(caption, want) {
			t.Errorf("caption %q lacks %q", caption, want)
		}
	}
	c := draw.New(vgimg.New(4*vg.Inch, 3*vg.Inch))
	for i, p := range row {
		name := metricColumns[i].name
		if want := name + " (log)"; p.Y.Label.Text != want {
			t.Errorf("%s: y label %q, want %q", name, p.Y.Label.Text, want)
		}
		// The smallest value drawn is 1e-6: the axis must not reach down
		// to a floor standing in for zeros.
		if lo := math.Pow(10, p.Y.Min); lo < 1e-7*(1-1e-9) {
			t.Errorf("%s: y axis from %g: stretched below the data (1e-6)", name, lo)
		}
		if r := p.Legend.Rectangle(c); r.Size().X != 0 || r.Size().Y != 0 {
			t.Errorf("%s: a legend of %v inside the panel", name, r.Size())
		}
	}
	img, err := metricsImage(g)
	if err != nil {
		t.Fatal(err)
	}
	reporttest.CheckImages(t, map[string][]byte{"metrics": img.PNG})
}

// render draws p alone on a w × h inch canvas and returns the image and
// the pixel rectangle of its data area.
func render(t *testing.T, p *plot.Plot, w, h vg.Length) (image.Image, image.Rectangle) {
	t.Helper()
	c := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(dpi))
	dc := draw.New(c)
	p.Draw(dc)
	da := p.DataCanvas(dc)
	px := func(l vg.Length) int { return int(math.Round(l.Dots(dpi))) }
	H := px(h)
	return c.Image(), image.Rect(px(da.Min.X), H-px(da.Max.Y), px(da.Max.X), H-px(da.Min.Y))
}

// TestRasterHeatSeamless: a heat map of one value is one colour all over
// its data area: no lighter seams between the cells.
func TestRasterHeatSeamless(t *testing.T) {
	n := 120
	g := &grid{}
	for i := 0; i < n; i++ {
		g.Xs = append(g.Xs, float64(i))
		g.Ys = append(g.Ys, float64(i))
		row := make([]float64, n)
		for j := range row {
			row[j] = 0.5
		}
		g.Vals = append(g.Vals, row)
	}
	p := plot.New()
	p.HideAxes()
	p.Add(&rasterHeat{G: g, Map: greys, Lo: 0, Hi: 1})
	img, r := render(t, p, 5*vg.Inch, 5*vg.Inch)
	want := greys(0.5)
	bad := 0
	for y := r.Min.Y + 2; y < r.Max.Y-2; y++ {
		for x := r.Min.X + 2; x < r.Max.X-2; x++ {
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			if absDiff(c.R, want.R) > 2 || absDiff(c.G, want.G) > 2 || absDiff(c.B, want.B) > 2 {
				bad++
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d pixels of the data area %v differ from the heat map's one colour %v: seams", bad, r, want)
	}
}

func absDiff(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

// TestColourBar: a panel with a colour bar shows both ends of its palette
// right of the data, where the panel itself has neither.
func TestColourBar(t *testing.T) {
	red, blue := color.RGBA{R: 255, A: 255}, color.RGBA{B: 255, A: 255}
	cmap := ramp(red, blue)
	p := plot.New()
	p.Title.Text = "panel"
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
	b, err := figure{Panels: [][]*plot.Plot{{p}}, W: 4, H: 3, Bars: map[*plot.Plot]*colourBar{p: {Label: "ψ", Lo: 0, Hi: 1, Map: cmap}}}.render()
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	right := img.Bounds().Dx() - int(math.Round(barStrip*dpi))
	found := map[color.RGBA]bool{}
	for y := 0; y < img.Bounds().Dy(); y++ {
		for x := 0; x < img.Bounds().Dx(); x++ {
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			for _, end := range []color.RGBA{red, blue} {
				if absDiff(c.R, end.R)+absDiff(c.G, end.G)+absDiff(c.B, end.B) < 30 {
					if x < right {
						t.Fatalf("palette colour %v at x = %d, left of the bar's strip (x ≥ %d)", c, x, right)
					}
					found[end] = true
				}
			}
		}
	}
	if !found[red] || !found[blue] {
		t.Errorf("the bar shows low end %v, high end %v; want both", found[red], found[blue])
	}
}

// TestClassMarkers: classes get distinct outlined markers whose colours
// are saturated (they cannot be taken for a level of the grey heat map)
// and none of them the streamlines' yellow.
func TestClassMarkers(t *testing.T) {
	seen := map[[2]any]int{}
	for i := 0; i < 10; i++ {
		g := classGlyph(i, vg.Points(2))
		sh, ok := g.Shape.(outlinedGlyph)
		if !ok {
			t.Fatalf("class %d: marker %T is not outlined", i, g.Shape)
		}
		key := [2]any{g.Color, sh.Shape % 5}
		if j, dup := seen[key]; dup {
			t.Errorf("classes %d and %d share a marker", j, i)
		}
		seen[key] = i
		c := color.RGBAModel.Convert(g.Color).(color.RGBA)
		hi := max(c.R, c.G, c.B)
		lo := min(c.R, c.G, c.B)
		if hi-lo < 60 {
			t.Errorf("class %d: colour %v is nearly grey, like the heat map", i, c)
		}
		if c == colorStream {
			t.Errorf("class %d has the streamlines' colour", i)
		}
	}
}

// TestSlugs: plot names are short ("l2-metrics.png"), keep the
// hyperparameter suffix, and take the dataset only when the report has
// several, keeping them apart even when two labels read alike.
func TestSlugs(t *testing.T) {
	for _, tc := range []struct {
		groups []sweeps.Group
		want   []string
	}{
		{[]sweeps.Group{{Dataset: "expr(x0^2 + x1^2 + x2^2, n=3)", LatentDim: 3}, {Dataset: "expr(x0^2 + x1^2 + x2^2, n=3)", LatentDim: 2}}, []string{"l3", "l2"}},
		{[]sweeps.Group{{Dataset: "d", LatentDim: 2, HyperLabel: "lr=0.1", Combo: 0}, {Dataset: "d", LatentDim: 2, HyperLabel: "lr=0.01", Combo: 1}}, []string{"l2-h0", "l2-h1"}},
		{[]sweeps.Group{{Dataset: "mnist{0,1}", LatentDim: 2}, {Dataset: "norm(n=2)", LatentDim: 2}}, []string{"mnist_0_1-l2", "norm_n_2-l2"}},
		{[]sweeps.Group{{Dataset: "a(b)", LatentDim: 2}, {Dataset: "a[b]", LatentDim: 2}}, []string{"a_b_1-l2", "a_b_2-l2"}},
	} {
		got := slugs(tc.groups)
		if strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("slugs = %q, want %q", got, tc.want)
		}
	}
}

// so3 are the generators L_x, L_y, L_z of so(3) (orthogonal under the
// Frobenius inner product).
var so3 = [][][]float64{
	{{0, 0, 0}, {0, 0, -1}, {0, 1, 0}},
	{{0, 0, 1}, {0, 0, 0}, {-1, 0, 0}},
	{{0, -1, 0}, {1, 0, 0}, {0, 0, 0}},
}

// constantsOf computes a_[αβ]γ of an orthogonal basis of matrices in
// result.json's convention, [M_α, M_β] = −(M_α M_β − M_β M_α) =
// Σ_γ a_[αβ]γ M_γ, by projecting each bracket on the basis.
func constantsOf(ms [][][]float64) [][][]float64 {
	mul := func(a, b [][]float64) [][]float64 {
		out := make([][]float64, len(a))
		for i := range a {
			out[i] = make([]float64, len(b[0]))
			for j := range b[0] {
				for k := range b {
					out[i][j] += a[i][k] * b[k][j]
				}
			}
		}
		return out
	}
	dot := func(a, b [][]float64) (s float64) {
		for i := range a {
			for j := range a[i] {
				s += a[i][j] * b[i][j]
			}
		}
		return s
	}
	n := len(ms)
	out := make([][][]float64, n)
	for a := range out {
		out[a] = make([][]float64, n)
		for b := range out[a] {
			ab, ba := mul(ms[a], ms[b]), mul(ms[b], ms[a])
			br := make([][]float64, len(ab))
			for i := range ab {
				br[i] = make([]float64, len(ab[i]))
				for j := range ab[i] {
					br[i][j] = -(ab[i][j] - ba[i][j])
				}
			}
			out[a][b] = make([]float64, n)
			for c := range ms {
				out[a][b][c] = dot(br, ms[c]) / dot(ms[c], ms[c])
			}
		}
	}
	return out
}

// TestStructureConstants: the mean and sample std over the passing seeds
// of a_[αβ]γ in the learned bases, and in the sparse bases after matching
// each seed's to the best seed's order and signs — where seeds that found
// the same so(3) in a permuted, sign-flipped sparse basis agree exactly.
func TestStructureConstants(t *testing.T) {
	// Seed 2's sparse basis is seed 1's in another order with signs
	// flipped: (−L_z, L_x, −L_y).
	ref := so3
	other := [][][]float64{scale(so3[2], -1), so3[0], scale(so3[1], -1)}
	passing := sweeps.Metrics{InvRatio: 1e-7, OrthoCos2: 1e-9, NormDev: 1e-9, ClosureRel: 1e-7}
	trials := []sweeps.TrialResult{judged(3, 1, passing), judged(3, 2, passing), judged(3, 3, sweeps.Metrics{ClosureRel: 0.9})}
	trials[1].Metrics.ClosureRel = 1e-6 // seed 1 is the best
	// Learned bases: a_[12]3 is 1, 3 and (failing, left out) 100.
	for i, v := range []float64{1, 3, 100} {
		a := constantsOf(so3)
		a[0][1][2], a[1][0][2] = v, -v
		trials[i].StructureConstants = a
	}
	trials[0].SparseBasis = &sweeps.SparseBasis{Matrices: ref, StructureConstants: constantsOf(ref)}
	trials[1].SparseBasis = &sweeps.SparseBasis{Matrices: other, StructureConstants: constantsOf(other)}
	g := sweeps.Aggregate(trials, 1)[0]
	if g.MaxNG != 3 {
		t.Fatalf("max N_g %d, want 3", g.MaxNG)
	}

	st, ok := learnedStructure(g)
	if !ok || len(st.Seeds) != 2 || st.Seeds[0] != 1 {
		t.Fatalf("learned: %+v, %v; want seeds 1 (best) and 2", st, ok)
	}
	// pair (1, 2) is row 0: mean (1+3)/2 = 2, sample std √2.
	if m, s := st.Mean[0][2], st.Std[0][2]; math.Abs(m-2) > 1e-12 || math.Abs(s-math.Sqrt2) > 1e-12 {
		t.Errorf("learned a_[12]3: %g ± %g, want 2 ± √2", m, s)
	}

	sp, ok := sparseStructure(g)
	if !ok || len(sp.Seeds) != 2 {
		t.Fatalf("sparse: %+v, %v", sp, ok)
	}
	want := constantsOf(ref)
	for k, pr := range sp.Pairs {
		for c := 0; c < 3; c++ {
			if math.Abs(sp.Mean[k][c]-want[pr[0]][pr[1]][c]) > 1e-12 || sp.Std[k][c] > 1e-12 {
				t.Errorf("sparse a_[%d%d]%d: %g ± %g, want %g ± 0", pr[0]+1, pr[1]+1, c+1, sp.Mean[k][c], sp.Std[k][c], want[pr[0]][pr[1]][c])
			}
		}
	}

	imgs := map[string][]byte{}
	for _, sparse := range []bool{false, true} {
		img, ok, err := structureImage(g, sparse)
		if err != nil || !ok {
			t.Fatalf("structureImage(sparse %v): %v, %v", sparse, ok, err)
		}
		imgs[img.Name] = img.PNG
		for _, w := range []string{"sample standard deviation", "seeds 1, 2"} {
			if !strings.Contains(img.Caption, w) {
				t.Errorf("%s caption lacks %q: %s", img.Name, w, img.Caption)
			}
		}
		if sparse && !strings.Contains(img.Caption, "canonical up to the order and the signs") {
			t.Errorf("sparse caption does not say why its mean is meaningful: %s", img.Caption)
		}
	}
	reporttest.CheckImages(t, imgs)

	// One passing seed: the mean alone, and the caption says so.
	one := sweeps.Aggregate([]sweeps.TrialResult{trials[0]}, 1)[0]
	img, ok, err := structureImage(one, false)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if st, _ := learnedStructure(one); st.Std != nil || !strings.Contains(img.Caption, "one seed passed") {
		t.Errorf("one seed: std %v, caption %q", st.Std, img.Caption)
	}
	// N_g = 1: no brackets, no figure.
	if _, ok, _ := structureImage(sweeps.Aggregate([]sweeps.TrialResult{judged(1, 1, passing)}, 1)[0], false); ok {
		t.Error("a structure-constant figure at N_g = 1")
	}
}

func scale(m [][]float64, s float64) [][]float64 {
	out := make([][]float64, len(m))
	for i := range m {
		out[i] = make([]float64, len(m[i]))
		for j := range m[i] {
			out[i][j] = s * m[i][j]
		}
	}
	return out
}
