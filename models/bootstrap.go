package models

import (
	"math"
	"math/rand/v2"
	"slices"

	"github.com/liesweep/liesweep/lie"
	"github.com/liesweep/liesweep/sweeps"
	"gonum.org/v1/gonum/mat"
)

// BootstrapRounds is how many resamples of the evaluation points give a
// trial's metric intervals.
const BootstrapRounds = 200

// pointTerms are the per-point pieces of a trial's metrics, from which
// the metrics of any weighting of the evaluation points follow without
// evaluating ψ or the generators again: the bootstrap resamples points by
// weighting them (w_i = how often point i was drawn).
type pointTerms struct {
	m, n int
	// inv_ratio: the change of ψ along each generator's unit direction
	// and along a random one, per point
	along  [][]float64
	random []float64
	// norm_dev (pointwise) and ortho_cos2: |g_α(z_i)|, and per pair
	// g_α·g_β at each point
	norms [][]float64
	dots  [][]float64
	// closure: A_iᵀA_i (n×n, the fields at point i as columns), and per
	// pair A_iᵀ[J_α,J_β](z_i) and |[J_α,J_β](z_i)|²; abelian marks the
	// pairs whose bracket vanishes on the whole sample (residual 0)
	gram    [][]float64
	cross   [][][]float64
	bb      [][]float64
	abelian []bool
	// the parts that do not depend on the points (linear generators with
	// frobenius normalisation or global orthogonality)
	fixedNorm, fixedOrtho *float64
	orthoMode, normMode   string
}

// metrics returns the metrics of the points weighted by w (nil: every
// point once), as Analyze defines them.
func (pt *pointTerms) metrics(w []float64) sweeps.Metrics {
	m := float64(pt.m)
	wt := func(i int) float64 {
		if w == nil {
			return 1
		}
		return w[i]
	}
	var out sweeps.Metrics
	var rnd float64
	for i, v := range pt.random {
		rnd += wt(i) * v
	}
	for _, d := range pt.along {
		var s float64
		for i, v := range d {
			s += wt(i) * v
		}
		r := s / rnd
		if rnd == 0 {
			r = math.Inf(1)
		}
		out.InvRatio = math.Max(out.InvRatio, r)
	}
	switch {
	case pt.fixedNorm != nil:
		out.NormDev = *pt.fixedNorm
	case pt.normMode == NormMean:
		for _, ns := range pt.norms {
			var ms float64
			for i, v := range ns {
				ms += wt(i) * v * v / m
			}
			out.NormDev += sq(ms - 2)
		}
	default:
		for _, ns := range pt.norms {
			var mean float64
			for i, v := range ns {
				mean += wt(i) * v / m
			}
			for i, v := range ns {
				out.NormDev += wt(i) * (sq(v-1) + sq(v-mean)) / m
			}
		}
	}
	pairs := lie.Pairs(pt.n)
	switch {
	case pt.fixedOrtho != nil:
		out.OrthoCos2 = *pt.fixedOrtho
	case len(pairs) > 0:
		var total float64
		for p, pr := range pairs {
			a, b := pt.norms[pr[0]], pt.norms[pr[1]]
			if pt.orthoMode == OrthoGlobal {
				var d, na, nb float64
				for i, v := range pt.dots[p] {
					d += wt(i) * v
					na += wt(i) * a[i] * a[i]
					nb += wt(i) * b[i] * b[i]
				}
				if na*nb > 0 {
					total += d * d / (na * nb)
				}
				continue
			}
			var c float64
			for i, v := range pt.dots[p] {
				if q := a[i] * a[i] * b[i] * b[i]; q > 0 {
					c += wt(i) * v * v / q
				}
			}
			total += c / m
		}
		out.OrthoCos2 = total / float64(len(pairs))
	}
	if len(pairs) > 0 {
		n := pt.n
		g := mat.NewSymDense(n, nil)
		for i, gi := range pt.gram {
			for r := 0; r < n; r++ {
				for c := r; c < n; c++ {
					g.SetSym(r, c, g.At(r, c)+wt(i)*gi[r*n+c])
				}
			}
		}
		var chol mat.Cholesky
		ok := chol.Factorize(g)
		for p := range pairs {
			if pt.abelian[p] {
				continue
			}
			c := mat.NewVecDense(n, nil)
			var bb float64
			for i := range pt.gram {
				for k, v := range pt.cross[p][i] {
					c.SetVec(k, c.AtVec(k)+wt(i)*v)
				}
				bb += wt(i) * pt.bb[p][i]
			}
			if !ok || bb == 0 {
				out.ClosureRel = math.Max(out.ClosureRel, 1)
				continue
			}
			var x mat.VecDense
			if err := chol.SolveVecTo(&x, c); err != nil {
				out.ClosureRel = math.Max(out.ClosureRel, 1)
				continue
			}
			// |b − A x|² = |b|² − xᵀc at the least-squares solution
			res := math.Max(0, bb-mat.Dot(&x, c))
			out.ClosureRel = math.Max(out.ClosureRel, res/bb)
		}
	}
	return out
}

// intervals resamples the points rounds times (seeded) and returns each
// metric's 2.5 % and 97.5 % percentiles.
func (pt *pointTerms) intervals(rounds int, seed uint64) *sweeps.MetricIntervals {
	r := rand.New(rand.NewPCG(seed, 0xb005))
	vals := make([][4]float64, rounds)
	w := make([]float64, pt.m)
	for k := range vals {
		clear(w)
		for range pt.m {
			w[r.IntN(pt.m)]++
		}
		mt := pt.metrics(w)
		vals[k] = [4]float64{mt.InvRatio, mt.OrthoCos2, mt.NormDev, mt.ClosureRel}
	}
	ci := func(j int) [2]float64 {
		v := make([]float64, rounds)
		for k := range vals {
			v[k] = vals[k][j]
		}
		slices.Sort(v)
		lo, hi := int(math.Floor(0.025*float64(rounds))), int(math.Ceil(0.975*float64(rounds)))-1
		return [2]float64{v[lo], v[max(lo, hi)]}
	}
	return &sweeps.MetricIntervals{InvRatio: ci(0), OrthoCos2: ci(1), NormDev: ci(2), ClosureRel: ci(3), Rounds: rounds}
}
