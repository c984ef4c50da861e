package models

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/liesweep/liesweep/sweeps"
	"gonum.org/v1/gonum/mat"
	G "gorgonia.org/gorgonia"
)

// AbelianTol is the threshold below which a bracket counts as zero: a pair
// whose bracket has rms‖[J_α,J_β]‖ < AbelianTol · rms‖J_α‖ · rms‖J_β‖ is an
// abelian pair (a = 0, residual 0) rather than 0/0.
const AbelianTol = 1e-3

// Analysis is the post-hoc analysis of a trained generator set.
type Analysis struct {
	Metrics sweeps.Metrics
	// PairResidual[p] is the relative residual of Pairs(N)[p].
	PairResidual []float64
	// PairOrtho[p] is the squared cosine between the generators of
	// Pairs(N)[p] (OrthoCos2 is their mean): which flows are distinct.
	PairOrtho []float64
	// Structure[α][β][γ] = a_[αβ]γ, antisymmetric in α, β, with
	// [J_α, J_β] ≈ Σ_γ a_[αβ]γ J_γ.
	Structure [][][]float64
	Algebra   sweeps.Algebra
	// Intervals are the metrics' 95 % bootstrap intervals over the
	// evaluation points (BootstrapRounds resamples).
	Intervals *sweeps.MetricIntervals
	points    *pointTerms
}

// Analyze evaluates a trained generator set on the points z: the metrics of
// DESIGN §1.4, the post-hoc structure constants (the linear least squares of
// eqs. 15, 16 over z) and the algebra they define. seed draws the random
// directions of inv_ratio.
func Analyze(o Oracle, s *GeneratorSet, z [][]float64, cfg GenConfig, seed uint64) (*Analysis, error) {
	m, dim, n := len(z), s.Dim, s.N
	pairs := Pairs(n)
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

	// structure constants by least squares, pair by pair
	an.Structure = make([][][]float64, n)
	for a := range an.Structure {
		an.Structure[a] = make([][]float64, n)
		for c := range an.Structure[a] {
			an.Structure[a][c] = make([]float64, n)
		}
	}
	if len(pairs) > 0 {
		A := mat.NewDense(m*dim, n, nil)
		for c := 0; c < n; c++ {
			for i, v := range fields[c] {
				A.Set(i, c, v)
			}
		}
		var qr mat.QR
		qr.Factorize(A)
		for pi, p := range pairs {
			br := brackets[pi]
			bb := dot(br, br) / float64(m)
			fa := dot(fields[p[0]], fields[p[0]]) / float64(m)
			fc := dot(fields[p[1]], fields[p[1]]) / float64(m)
			if math.Sqrt(bb) < AbelianTol*math.Sqrt(fa*fc) {
				an.PairResidual = append(an.PairResidual, 0)
				continue
			}
			var x mat.Dense
			if err := qr.SolveTo(&x, false, mat.NewDense(m*dim, 1, br)); err != nil {
				return nil, fmt.Errorf("structure constants of pair %v: %w (the generators are linearly dependent)", p, err)
			}
			res := append([]float64(nil), br...)
			for c := 0; c < n; c++ {
				coef := x.At(c, 0)
				an.Structure[p[0]][p[1]][c] = coef
				an.Structure[p[1]][p[0]][c] = -coef
				for i, v := range fields[c] {
					res[i] -= coef * v
				}
			}
			rel := dot(res, res) / dot(br, br)
			an.PairResidual = append(an.PairResidual, rel)
			an.Metrics.ClosureRel = math.Max(an.Metrics.ClosureRel, rel)
		}
	}
	an.Algebra = Classify(an.Structure)

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
		pt.abelian = append(pt.abelian, isAbelianPair(br, fields[p[0]], fields[p[1]], m))
	}
	an.Intervals = pt.intervals(BootstrapRounds, seed)
	an.points = pt
	return an, nil
}

// isAbelianPair is Analyze's test for a vanishing bracket.
func isAbelianPair(br, fa, fc []float64, m int) bool {
	bb := dot(br, br) / float64(m)
	return math.Sqrt(bb) < AbelianTol*math.Sqrt(dot(fa, fa)/float64(m)*dot(fc, fc)/float64(m))
}

func orthoCos2(s *GeneratorSet, fields [][]float64, mode string, m, dim int) (float64, []float64) {
	pairs := Pairs(s.N)
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

// AlgebraTol is the tolerance of the algebra classification: structure
// constants, singular values and Killing eigenvalues below it (relative to
// the largest, when that exceeds 1) count as zero. Learned constants of
// normalised generators are O(1), so this sits well above their noise.
const AlgebraTol = 1e-2

// Classify derives the algebra's invariants from structure constants
// a[α][β][γ] (with [J_α, J_β] = Σ_γ a_[αβ]γ J_γ): its dimension, whether it is
// abelian, the dimension of the derived algebra [g, g] (the rank of the
// brackets' coefficient vectors) and the signature of the Killing form
//
//	K_αβ = Σ_{γ,δ} a_[αδ]γ a_[βγ]δ = tr(ad_α ad_β),  (ad_α)_γδ = a_[αδ]γ.
//
// Negative definite K means compact semisimple (e.g. so(3)); indefinite and
// non-degenerate means non-compact semisimple (e.g. so(1,3)).
func Classify(a [][][]float64) sweeps.Algebra {
	n := len(a)
	alg := sweeps.Algebra{Dim: n, Abelian: true}
	if n == 0 {
		alg.Description = "empty"
		return alg
	}
	var maxA float64
	for x := range a {
		for y := range a[x] {
			for _, v := range a[x][y] {
				maxA = math.Max(maxA, math.Abs(v))
			}
		}
	}
	alg.Abelian = maxA < AlgebraTol
	pairs := Pairs(n)
	if len(pairs) > 0 && !alg.Abelian {
		rows := mat.NewDense(len(pairs), n, nil)
		for i, p := range pairs {
			rows.SetRow(i, a[p[0]][p[1]])
		}
		var svd mat.SVD
		if svd.Factorize(rows, mat.SVDNone) {
			sv := svd.Values(nil)
			tol := AlgebraTol * math.Max(1, sv[0])
			for _, v := range sv {
				if v > tol {
					alg.DerivedDim++
				}
			}
		}
	}
	alg.KillingSignature = lieSignature(lieKilling(lieAds(a), n), AlgebraTol)
	alg.Description = describe(alg)
	return alg
}

func describe(a sweeps.Algebra) string {
	d := fmt.Sprintf("%d-dimensional", a.Dim)
	if a.Abelian {
		return d + " abelian algebra (all brackets vanish)"
	}
	d += fmt.Sprintf(" non-abelian algebra, derived algebra [g,g] of dimension %d", a.DerivedDim)
	s := a.KillingSignature
	switch {
	case s.Neg == a.Dim:
		d += ", Killing form negative definite: compact semisimple (the structure analysis names it)"
	case s.Zero == 0 && s.Pos > 0 && s.Neg > 0:
		d += fmt.Sprintf(", Killing form indefinite (%d+, %d−): non-compact semisimple (the structure analysis names it)", s.Pos, s.Neg)
	case s.Zero == a.Dim:
		d += ", Killing form zero: nilpotent or solvable"
	default:
		d += fmt.Sprintf(", Killing form degenerate (%d+, %d−, %d zero): not semisimple", s.Pos, s.Neg, s.Zero)
	}
	return d
}
