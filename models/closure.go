package models

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/liesweep/liesweep/lie"
	"github.com/liesweep/liesweep/sweeps"
	G "gorgonia.org/gorgonia"
)

// Analysis is the post-hoc analysis of a trained generator set.
type Analysis struct {
	Metrics sweeps.Metrics
	// PairResidual[p] is the relative residual of lie.Pairs(N)[p].
	PairResidual []float64
	// PairOrtho[p] is the squared cosine between the generators of
	// lie.Pairs(N)[p] (OrthoCos2 is their mean): which flows are distinct.
	PairOrtho []float64
	// Structure[α][β][γ] = a_[αβ]γ, antisymmetric in α, β, with
	// [J_α, J_β] ≈ Σ_γ a_[αβ]γ J_γ.
	Structure [][][]float64
	Algebra   sweeps.Algebra
	// Intervals are the metrics' 95 % bootstrap intervals over the
	// evaluation points (BootstrapRounds resamples).
	Intervals *sweeps.MetricIntervals
	// Notes say what could not be measured, and why.
	Notes  []string
	points *pointTerms
}

// Analyze evaluates a trained generator set on the points z: the metrics of
// DESIGN §1.4, the post-hoc structure constants (the linear least squares of
// eqs. 15, 16 over z) and the algebra they define. seed draws the random
// directions of inv_ratio.
func Analyze(o Oracle, s *GeneratorSet, z [][]float64, cfg GenConfig, seed uint64) (*Analysis, error) {
	m, dim, n := len(z), s.Dim, s.N
	pairs := lie.Pairs(n)
	vals, err := evalGraph(func(g *G.ExprGraph) ([]*G.Node, error) {
		b := newBinder(g)
		x := matrixNode(g, "z", z)
		var outs []*G.Node
		for a := 0; a < n; a++ {
			f, err := s.apply(b, a, x)
			if err != nil {
				return nil, err
			}
			outs = append(outs, f)
		}
		for _, p := range pairs {
			br, err := s.bracket(b, p[0], p[1], x, outs[p[0]], outs[p[1]])
			if err != nil {
				return nil, err
			}
			outs = append(outs, br)
		}
		return outs, nil
	})
	if err != nil {
		return nil, fmt.Errorf("analyze generators: %w", err)
	}
	fields, brackets := vals[:n], vals[n:]
	// Fields whose squares overflow (weights of 1e300 after a diverged
	// last epoch) have no unit direction: inv_ratio came out 0, a pass.
	for a, f := range fields {
		var s float64
		for _, v := range f {
			s += v * v
		}
		if math.IsNaN(s) || math.IsInf(s, 0) {
			return nil, &nonFiniteError{fmt.Sprintf("analyze generators: generator %d's field is not finite, or its square overflows float64, at the evaluation points: its training diverged (lower the learning rate), or train.epsilon or ψ made its loss so (check that ψ is finite on the data)", a+1)}
		}
	}
	an := &Analysis{}

	// inv_ratio: the unit directions of every field and a random one.
	r := rand.New(rand.NewPCG(seed, 0x1a7))
	probe := make([][]float64, 0, (n+2)*m)
	probe = append(probe, z...)
	for a := 0; a < n; a++ {
		for i := 0; i < m; i++ {
			probe = append(probe, step(z[i], unit(fields[a][i*dim:(i+1)*dim]), cfg.Epsilon))
		}
	}
	for i := 0; i < m; i++ {
		u := make([]float64, dim)
		for j := range u {
			u[j] = r.NormFloat64()
		}
		probe = append(probe, step(z[i], unit(u), cfg.Epsilon))
	}
	psi, err := EvalOracle(o, probe)
	if err != nil {
		return nil, err
	}
	change := func(block int) float64 {
		var s float64
		for i := 0; i < m; i++ {
			for k, v := range psi[block*m+i] {
				d := v - psi[i][k]
				s += d * d
			}
		}
		return s
	}
	pt := &pointTerms{m: m, n: n, orthoMode: cfg.Orthogonality, normMode: cfg.Normalization}
	perPoint := func(block int) []float64 {
		out := make([]float64, m)
		for i := 0; i < m; i++ {
			for k, v := range psi[block*m+i] {
				out[i] += sq(v - psi[i][k])
			}
		}
		return out
	}
	pt.random = perPoint(n + 1)
	for a := 0; a < n; a++ {
		pt.along = append(pt.along, perPoint(a+1))
	}
	random := change(n + 1)
	if random == 0 || math.IsNaN(random) || math.IsInf(random, 0) {
		an.Notes = append(an.Notes, fmt.Sprintf("inv_ratio is undefined: ψ's change along random directions of length ε = %g is %g on the %d evaluation points (ψ is constant there, or ε is too small to change it in float64, or ψ is not finite): use a larger train.epsilon or an oracle that varies", cfg.Epsilon, random, m))
	}
	for a := 0; a < n; a++ {
		ratio := change(a+1) / random
		if random == 0 {
			ratio = math.Inf(1)
		}
		an.Metrics.InvRatio = math.Max(an.Metrics.InvRatio, ratio)
	}

	// ortho_cos2 and norm_dev
	an.Metrics.OrthoCos2, an.PairOrtho = orthoCos2(s, fields, cfg.Orthogonality, m, dim)
	an.Metrics.NormDev = normDev(s, fields, cfg.Normalization, m, dim)
	for _, mt := range []struct {
		name string
		v    float64
	}{{"ortho_cos2", an.Metrics.OrthoCos2}, {"norm_dev", an.Metrics.NormDev}} {
		if math.IsNaN(mt.v) || math.IsInf(mt.v, 0) {
			an.Notes = append(an.Notes, fmt.Sprintf("%s is undefined: the fields' lengths overflow float64 on the evaluation points (the training diverged: lower the learning rate)", mt.name))
		}
	}

	// structure constants by least squares, pair by pair
	if len(pairs) > 0 && m*dim < n {
		return nil, fmt.Errorf("%w: analyze generators: %d generators on %d evaluation points in %d dimensions: the structure constants need at least N_g values per field (the evaluation points are train.eval_points, or fewer when the samples or a table's validation rows are fewer: raise those, or lower N_g)", sweeps.ErrInvalidSpec, n, m, dim)
	}
	an.Structure, an.PairResidual, err = lie.Constants(fields, brackets, m)
	if err != nil {
		return nil, err
	}
	for _, rel := range an.PairResidual {
		an.Metrics.ClosureRel = math.Max(an.Metrics.ClosureRel, rel)
	}
	an.Algebra = lie.Classify(an.Structure)

	// the per-point pieces of the other metrics, for the bootstrap
	pt.norms = make([][]float64, n)
	for a := range pt.norms {
		pt.norms[a] = make([]float64, m)
		for i := range pt.norms[a] {
			v := fields[a][i*dim : (i+1)*dim]
			pt.norms[a][i] = math.Sqrt(dot(v, v))
		}
	}
	if cfg.Normalization == NormFrobenius {
		pt.fixedNorm = &an.Metrics.NormDev
	}
	if cfg.Orthogonality == OrthoGlobal && s.Kind == GenLinear {
		pt.fixedOrtho = &an.Metrics.OrthoCos2
	}
	pt.gram = make([][]float64, m)
	for i := range pt.gram {
		g := make([]float64, n*n)
		for r := 0; r < n; r++ {
			for c := r; c < n; c++ {
				g[r*n+c] = dot(fields[r][i*dim:(i+1)*dim], fields[c][i*dim:(i+1)*dim])
			}
		}
		pt.gram[i] = g
	}
	for pi, p := range pairs {
		dots := make([]float64, m)
		for i := range dots {
			dots[i] = dot(fields[p[0]][i*dim:(i+1)*dim], fields[p[1]][i*dim:(i+1)*dim])
		}
		pt.dots = append(pt.dots, dots)
		br := brackets[pi]
		cross, bb := make([][]float64, m), make([]float64, m)
		for i := range cross {
			b := br[i*dim : (i+1)*dim]
			cross[i] = make([]float64, n)
			for c := 0; c < n; c++ {
				cross[i][c] = dot(fields[c][i*dim:(i+1)*dim], b)
			}
			bb[i] = dot(b, b)
		}
		pt.cross, pt.bb = append(pt.cross, cross), append(pt.bb, bb)
		pt.abelian = append(pt.abelian, lie.BracketVanishes(br, fields[p[0]], fields[p[1]], m))
	}
	an.Intervals = pt.intervals(BootstrapRounds, seed)
	an.points = pt
	return an, nil
}

func orthoCos2(s *GeneratorSet, fields [][]float64, mode string, m, dim int) (float64, []float64) {
	pairs := lie.Pairs(s.N)
	if len(pairs) == 0 {
		return 0, nil
	}
	var total float64
	per := make([]float64, len(pairs))
	for pi, p := range pairs {
		fa, fc := fields[p[0]], fields[p[1]]
		switch {
		case mode == OrthoGlobal && s.Kind == GenLinear:
			ga, gc := s.Params[p[0]].Float64s(), s.Params[p[1]].Float64s()
			if d := dot(ga, ga) * dot(gc, gc); d > 0 {
				per[pi] = sq(dot(ga, gc)) / d
			}
		case mode == OrthoGlobal:
			if d := dot(fa, fa) * dot(fc, fc); d > 0 {
				per[pi] = sq(dot(fa, fc)) / d
			}
		default:
			var c float64
			for i := 0; i < m; i++ {
				a, b := fa[i*dim:(i+1)*dim], fc[i*dim:(i+1)*dim]
				if na, nb := dot(a, a), dot(b, b); na > 0 && nb > 0 {
					c += sq(dot(a, b)) / (na * nb)
				}
			}
			per[pi] = c / float64(m)
		}
		total += per[pi]
	}
	return total / float64(len(pairs)), per
}

func normDev(s *GeneratorSet, fields [][]float64, mode string, m, dim int) float64 {
	var total float64
	for a := 0; a < s.N; a++ {
		if mode == NormFrobenius {
			g := s.Params[a].Float64s()
			total += sq(dot(g, g) - 2)
			continue
		}
		norms := make([]float64, m)
		var mean, ms float64
		for i := range norms {
			v := fields[a][i*dim : (i+1)*dim]
			norms[i] = math.Sqrt(dot(v, v))
			mean += norms[i] / float64(m)
			ms += dot(v, v) / float64(m)
		}
		if mode == NormMean {
			total += sq(ms - 2)
			continue
		}
		for _, nv := range norms {
			total += (sq(nv-1) + sq(nv-mean)) / float64(m)
		}
	}
	return total
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func sq(x float64) float64 { return x * x }

func unit(v []float64) []float64 {
	n := math.Sqrt(dot(v, v))
	out := make([]float64, len(v))
	if n == 0 {
		return out
	}
	for i, x := range v {
		out[i] = x / n
	}
	return out
}

func step(z, d []float64, eps float64) []float64 {
	out := make([]float64, len(z))
	for i := range z {
		out[i] = z[i] + eps*d[i]
	}
	return out
}
