package report

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/liesweep/liesweep/models"
	"github.com/liesweep/liesweep/pipeline"
	"github.com/liesweep/liesweep/sweeps"
)

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
			return out, fmt.Sprintf("ψ: P(%s)", tr.ClassName(1)), nil
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
