package report

import (
	"bytes"
	"fmt"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/liesweep/liesweep/report/reporttest"
	"github.com/liesweep/liesweep/sweeps"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// pageWidth is the widest a figure may be, in pixels: the HTML report's
// column (max-width 1400px less its padding), so that every figure is
// shown at 100 % there, its 9–10 point text at 12–13 pixels.
const pageWidth = 1300

// TestLogTicks: a log axis widened by logRange carries labels at both
// ends and in between, at most seven, in one style (decimals or 2e-5).
func TestLogTicks(t *testing.T) {
	for _, c := range []struct {
		lo, hi float64
		labels []string
	}{
		// inv_ratio of a run where every trial failed: the threshold 0.01
		// at the bottom, labels above it up to the top.
		{0.01 / 2, 0.0337 * 2, []string{"0.005", "0.01", "0.02", "0.05", "0.1"}},
		{0.2, 0.45, []string{"0.2", "0.3", "0.4", "0.5"}},
		{1e-12 / 2, 0.02, []string{"1e-13", "1e-11", "1e-9", "1e-7", "1e-5", "1e-3", "1e-1"}},
		{3e-7, 2e-3, []string{"1e-7", "1e-6", "1e-5", "1e-4", "1e-3", "1e-2"}},
		{0.05, 40, []string{"0.01", "0.1", "1", "10", "100"}},
		{2, 2, []string{"2", "3", "4", "5"}},
	} {
		t.Run(fmt.Sprint(c.lo, "-", c.hi), func(t *testing.T) {
			lo, hi := logRange(c.lo, c.hi)
			if lo > c.lo || hi < c.hi {
				t.Errorf("logRange(%g, %g) = [%g, %g]: narrower than the data", c.lo, c.hi, lo, hi)
			}
			var labels []string
			for _, k := range (logTicks{}).Ticks(math.Log10(lo), math.Log10(hi)) {
				if k.Label != "" {
					labels = append(labels, k.Label)
				}
			}
			if fmt.Sprint(labels) != fmt.Sprint(c.labels) {
				t.Errorf("[%g, %g]: labels %q, want %q", lo, hi, labels, c.labels)
			}
		})
	}
}

// l16Group is a sweep shaped like examples/mnist10_l16_rejudge.yaml (ℓ =
// 16, N_g = 1…10) with the given seeds: N_g = 1 fails on inv_ratio
// (0.0225 > 0.01, as the real run did), the rest pass, each with
// structure constants and a sparse basis of ten 16 × 16 matrices.
func l16Group(seeds []int) sweeps.Group {
	rng := rand.New(rand.NewPCG(1, 2))
	var trials []sweeps.TrialResult
	for ng := 1; ng <= 10; ng++ {
		for _, s := range seeds {
			m := sweeps.Metrics{InvRatio: 1e-3 * (1 + rng.Float64()), NormDev: 0.02 * rng.Float64(), OrthoCos2: 1e-4 * rng.Float64(), ClosureRel: 0.05 * rng.Float64()}
			if ng == 1 {
				m = sweeps.Metrics{InvRatio: 0.0225 + 0.01*rng.Float64(), NormDev: 0.052}
			}
			tr := judged(ng, s, m)
			tr.Dataset, tr.LatentDim = "mnist{0,1,2,3,4,5,6,7,8,9}", 16
			a := make([][][]float64, ng)
			for i := range a {
				a[i] = make([][]float64, ng)
				for j := range a[i] {
					a[i][j] = make([]float64, ng)
					for k := range a[i][j] {
						a[i][j][k] = rng.NormFloat64()
					}
				}
			}
			tr.StructureConstants = a
			ms := make([][][]float64, ng)
			for i := range ms {
				ms[i] = make([][]float64, 16)
				for r := range ms[i] {
					ms[i][r] = make([]float64, 16)
					for c := range ms[i][r] {
						if rng.Float64() < 0.15 {
							ms[i][r][c] = 2*rng.Float64() - 1
						}
					}
				}
			}
			tr.SparseBasis = &sweeps.SparseBasis{Matrices: ms, StructureConstants: a, Linearised: true}
			trials = append(trials, tr)
		}
	}
	g := sweeps.Aggregate(trials, 1)[0]
	g.Algebra = &sweeps.Algebra{}
	g.Algebra.Name = "test algebra"
	return g
}

// lossHistory is a made-up training of epochs epochs with the loss terms
// of N_g = ng generators.
func lossHistory(ng, epochs int) []map[string]float64 {
	h := make([]map[string]float64, epochs)
	for e := range h {
		x := float64(e+1) / float64(epochs)
		h[e] = map[string]float64{"inv": 0.2 * math.Exp(-3*x), "norm": 0.5 * math.Exp(-5*x)}
		if ng > 1 {
			h[e]["ortho"] = 1e-2 * math.Exp(-8*x)
			h[e]["closure"] = 1e-3 * (1 + math.Sin(20*x))
		}
		var total float64
		for _, v := range h[e] {
			total += v
		}
		h[e]["total"] = total
	}
	return h
}

// TestFiguresAtPageWidth renders every figure that does not need trained
// networks for an ℓ = 16, ten-class, N_g = 1…10 sweep with one and with
// three seeds and checks that each fits the page (pageWidth) and has
// labelled axes. LIESWEEP_FIGURE_DIR keeps the PNGs to look at.
func TestFiguresAtPageWidth(t *testing.T) {
	images := map[string][]byte{}
	for _, seeds := range [][]int{{1}, {1, 2, 3}} {
		g := l16Group(seeds)
		tag := fmt.Sprintf("seeds%d-", len(seeds))
		row, _, err := metricsPanels(g)
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range row {
			checkLogAxis(t, metricColumns[i].name, p, metricColumns[i].thr(g.Levels[0].Trials[0].Thresholds))
		}
		img, err := metricsImage(g)
		if err != nil {
			t.Fatal(err)
		}
		images[tag+"metrics"] = img.PNG
		img, err = curvesImage(g, func(tr sweeps.TrialResult) ([]map[string]float64, error) { return lossHistory(tr.NG, 2000), nil })
		if err != nil {
			t.Fatal(err)
		}
		images[tag+"losses"] = img.PNG
		for _, sparse := range []bool{false, true} {
			img, ok, err := structureImage(g, sparse)
			if err != nil || !ok {
				t.Fatalf("structureImage(sparse %v): %v, %v", sparse, ok, err)
			}
			images[tag+img.Name] = img.PNG
		}
		img, ok, err := sparseImage(g)
		if err != nil || !ok {
			t.Fatalf("sparseImage: %v, %v", ok, err)
		}
		images[tag+"sparse"] = img.PNG
	}
	// ψ along the streamlines through the ten class centres.
	var curves []probCurve
	for c := 0; c < 10; c++ {
		cv := probCurve{Class: c, LeftDataAt: -1}
		if c%3 == 1 {
			cv.LeftDataAt = 1000 * c / 2
		}
		for i := 0; i <= 100; i++ {
			cv.Steps = append(cv.Steps, float64(60*i))
			p := make([]float64, 10)
			keep := 1 / (1 + math.Exp(float64(60*i-4000-200*c)/300))
			p[c] = keep
			p[(c+1)%10] = 1 - keep
			cv.P = append(cv.P, p)
		}
		curves = append(curves, cv)
	}
	b, err := probabilityFigure(0, curves, func(k int) string { return "digit " + strconv.Itoa(k) }, 6000)
	if err != nil {
		t.Fatal(err)
	}
	images["probabilities"] = b
	images["hyper"] = combosImages(hyperGroups())[0].PNG

	reporttest.CheckImages(t, images)
	dir := os.Getenv("LIESWEEP_FIGURE_DIR")
	for name, b := range images {
		m, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if w := m.Bounds().Dx(); w > pageWidth {
			t.Errorf("%s: %d pixels wide, wider than the page (%d)", name, w, pageWidth)
		}
		if dir != "" {
			if err := os.WriteFile(filepath.Join(dir, name+".png"), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// checkLogAxis fails unless p's y axis carries labelled ticks at both
// ends, one at least above the threshold when the axis reaches a factor 2
// above it, and no legend inside the panel.
func checkLogAxis(t *testing.T, name string, p *plot.Plot, threshold float64) {
	t.Helper()
	var labelled []float64
	if _, ok := p.Y.Tick.Marker.(logTicks); !ok {
		t.Errorf("%s: y ticks %T, want a log axis", name, p.Y.Tick.Marker)
	}
	for _, k := range p.Y.Tick.Marker.Ticks(p.Y.Min, p.Y.Max) {
		if k.Label != "" {
			labelled = append(labelled, k.Value)
		}
	}
	if len(labelled) < 2 {
		t.Errorf("%s: %d labelled ticks on [%g, %g]", name, len(labelled), p.Y.Min, p.Y.Max)
		return
	}
	// the axis is in log10 of the values (logAxis)
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	if !near(labelled[0], p.Y.Min) || !near(labelled[len(labelled)-1], p.Y.Max) {
		t.Errorf("%s: labels from 1e%g to 1e%g on an axis from 1e%g to 1e%g", name, labelled[0], labelled[len(labelled)-1], p.Y.Min, p.Y.Max)
	}
	if thr := math.Log10(threshold); p.Y.Max > thr+math.Log10(2) && !(labelled[len(labelled)-1] > thr+1e-9) {
		t.Errorf("%s: no label above the threshold %g on an axis up to 1e%g", name, threshold, p.Y.Max)
	}
	c := draw.New(vgimg.New(4*vg.Inch, 3*vg.Inch))
	if r := p.Legend.Rectangle(c); r.Size().X != 0 || r.Size().Y != 0 {
		t.Errorf("%s: a legend of %v inside the panel", name, r.Size())
	}
}

// hyperGroups are two (dataset, ℓ) groups of a sweep over one
// hyperparameter with five values.
func hyperGroups() []sweeps.Group {
	var trials []sweeps.TrialResult
	for combo := 0; combo < 5; combo++ {
		for ng := 1; ng <= 4; ng++ {
			for seed := 1; seed <= 2; seed++ {
				m := sweeps.Metrics{InvRatio: 1e-4, NormDev: 1e-3, OrthoCos2: 1e-4, ClosureRel: 1e-3}
				if ng > combo%4+1 || (seed == 2 && ng == combo%4+1) {
					m.ClosureRel = 0.5
				}
				tr := judged(ng, seed, m)
				tr.Combo, tr.HyperLabel = combo, fmt.Sprintf("lr=%g", 1e-3*float64(combo+1))
				trials = append(trials, tr)
			}
		}
	}
	return sweeps.Aggregate(trials, 1)
}

// TestLogRangeOfNoFiniteData: a metric with no finite value beside a
// threshold of 1e300 (lo = +Inf) panicked the whole report; every range is
// now finite and positive.
func TestLogRangeOfNoFiniteData(t *testing.T) {
	for _, c := range [][2]float64{{math.Inf(1), 1e300}, {math.Inf(1), math.Inf(-1)}, {math.NaN(), 1}, {0, 1e308}, {1e-320, 1e-2}} {
		lo, hi := logRange(c[0], c[1])
		if !(lo > 0) || !(hi >= lo) || math.IsInf(hi, 0) || math.IsInf(math.Log10(hi), 0) {
			t.Errorf("logRange(%g, %g) = [%g, %g]", c[0], c[1], lo, hi)
		}
	}
}
