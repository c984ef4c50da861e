package models

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/liesweep/liesweep/lie"
	"github.com/liesweep/liesweep/models/ops"
	"github.com/liesweep/liesweep/sweeps"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Generator kinds.
const (
	GenMLP    = "mlp"    // a dense tanh network per generator
	GenLinear = "linear" // g_α(z) = G_α z (Forestano et al. 2023)
)

// Loss options.
const (
	OrthoPointwise = "pointwise" // eq. 14: 1/m Σ_i Σ_{α<β} (g_α(z_i)·g_β(z_i))²
	OrthoGlobal    = "global"    // Σ_{α<β} ⟨g_α, g_β⟩², function-space (Frobenius for linear)

	NormPointwise = "pointwise" // eq. 11
	NormFrobenius = "frobenius" // Σ_α (‖G_α‖_F² − 2)²
	// NormMean is frobenius for any field: Σ_α (1/m Σ_i |g_α(z_i)|² − 2)².
	// On standardised points (E zzᵀ ≈ I) a linear field's mean squared
	// length is ‖G‖_F², so a rotation generator has 2 as under frobenius;
	// unlike pointwise it lets a field's length vary over the points, as
	// |L z| = |z| sin θ does.
	NormMean = "mean"

	ClosureNone    = "none"    // no closure term in training
	ClosurePostHoc = "posthoc" // structure constants fitted after training only
	ClosureJoint   = "joint"   // a_[αβ]γ trained with the generators

	InvRaw   = "raw"   // eq. 10 as written
	InvRatio = "ratio" // eq. 10 along unit fields over its value for random unit directions: Σ_α inv_ratio_α
)

// GeneratorSet holds N_g vector fields on R^ℓ, either linear (G_α, stored
// as "gen.<α>.matrix", acting on column vectors) or tanh MLPs
// ("gen.<α>.<layer>.weight|bias").
type GeneratorSet struct {
	Kind   string
	Dim    int
	N      int
	Hidden []int
	Params Params
	mlps   []*MLP
}

// NewGeneratorSet builds N_g untrained generators on R^dim, initialised from
// seed (linear entries and MLP layers as PyTorch's nn.Linear).
func NewGeneratorSet(kind string, dim, n int, hidden []int, seed uint64) (*GeneratorSet, error) {
	s := &GeneratorSet{Kind: kind, Dim: dim, N: n, Hidden: hidden}
	for a := 0; a < n; a++ {
		switch kind {
		case GenLinear:
			s.Params = append(s.Params, newUniform(seed, fmt.Sprintf("gen.%d.matrix", a), tensor.Float64, 1/math.Sqrt(float64(dim)), dim, dim))
		case GenMLP:
			sizes := append(append([]int{dim}, hidden...), dim)
			m := NewMLP(seed, fmt.Sprintf("gen.%d", a), tensor.Float64, ActTanh, sizes...)
			s.mlps = append(s.mlps, m)
			s.Params = append(s.Params, m.Params...)
		default:
			return nil, fmt.Errorf("generator kind %q: want %s or %s", kind, GenLinear, GenMLP)
		}
	}
	return s, nil
}

// Matrix returns G_α of a linear generator set as rows.
func (s *GeneratorSet) Matrix(a int) [][]float64 {
	return unflatten(append([]float64(nil), s.Params[a].Float64s()...), s.Dim)
}

// apply builds J_α(x) for the rows of x: M×ℓ.
func (s *GeneratorSet) apply(b *binder, a int, x *G.Node) (*G.Node, error) {
	if s.Kind == GenLinear {
		// rows: z_iᵀ G_αᵀ = (G_α z_i)ᵀ
		gt, err := G.Transpose(b.node(s.Params[a]))
		if err != nil {
			return nil, err
		}
		return G.Mul(x, gt)
	}
	return s.mlps[a].apply(b, x)
}

// bracketH is the step of the central differences in brackets.
const bracketH = 1e-4

// bracket builds the Lie bracket of two vector fields at the rows of x,
//
//	[J_α, J_β](z) = DJ_β(z)·J_α(z) − DJ_α(z)·J_β(z),
//
// with each directional derivative a central difference along the other
// field, DJ(z)·v ≈ (J(z + h v) − J(z − h v)) / 2h, so the bracket needs
// forward passes only and stays differentiable with first-order autodiff.
// For linear fields J(z) = Gz it equals [G_β, G_α] z = −[G_α, G_β] z
// (the matrix commutator with the opposite sign).
func (s *GeneratorSet) bracket(b *binder, a, c int, x, fa, fc *G.Node) (*G.Node, error) {
	dir := func(gen int, v *G.Node) (*G.Node, error) {
		hv, err := G.Mul(v, G.NewConstant(bracketH))
		if err != nil {
			return nil, err
		}
		plus, err := G.Add(x, hv)
		if err != nil {
			return nil, err
		}
		minus, err := G.Sub(x, hv)
		if err != nil {
			return nil, err
		}
		jp, err := s.apply(b, gen, plus)
		if err != nil {
			return nil, err
		}
		jm, err := s.apply(b, gen, minus)
		if err != nil {
			return nil, err
		}
		d, err := G.Sub(jp, jm)
		if err != nil {
			return nil, err
		}
		return G.Mul(d, G.NewConstant(1/(2*bracketH)))
	}
	t1, err := dir(c, fa) // DJ_β · J_α
	if err != nil {
		return nil, err
	}
	t2, err := dir(a, fc) // DJ_α · J_β
	if err != nil {
		return nil, err
	}
	return G.Sub(t1, t2)
}

// GenConfig configures the training of a generator set.
type GenConfig struct {
	Kind          string
	Hidden        []int
	N             int
	Orthogonality string
	Normalization string
	Closure       string
	Epochs        int
	LR            float64
	Epsilon       float64
	Batch         int
	HNorm         float64
	HOrtho        float64
	HClosure      float64
	Seed          uint64
	// InvLoss is InvRaw ("" too) or InvRatio. InvScale is the ratio's
	// denominator, RandomChange at the training points; TrainGenerators
	// computes it when it is 0.
	InvLoss  string
	InvScale float64
	// Init is InitRandom ("" too) or InitSpectral (linear generators
	// only: start from the minimisers of L_inv, SpectralInit).
	Init string
}

// spectralStep is the central-difference step of SpectralInit's ∂ψ, in
// the points' (standardised) units.
const spectralStep = 1e-4

// lossNodes are the terms of the generator loss built on one batch.
type lossNodes struct {
	total, inv, norm, ortho, closure *G.Node
	fields                           []*G.Node
}

// buildLoss builds L = L_inv + h_norm L_norm + h_ortho L_ortho
// [+ h_closure L_closure] on the rows of x:
//
//	L_inv   = 1/(m ε²) Σ_i Σ_α ‖ψ(z_i + ε g_α(z_i)) − ψ(z_i)‖²           (eq. 10)
//	L_norm  = Σ_α [1/m Σ_i (‖g_α(z_i)‖ − 1)² + 1/m Σ_i (‖g_α(z_i)‖ − mean‖g_α‖)²]  (eq. 11)
//	     or = Σ_α (‖G_α‖_F² − 2)²                                    (frobenius)
//	L_ortho = 1/m Σ_i Σ_{α<β} (g_α(z_i)·g_β(z_i))²                   (eq. 14)
//	     or = Σ_{α<β} (1/m Σ_i g_α(z_i)·g_β(z_i))²  (global; Σ ⟨G_α,G_β⟩_F² for linear)
//	L_closure = Σ_{α<β} 1/m Σ_i ‖[J_α,J_β](z_i) − Σ_γ a_[αβ]γ J_γ(z_i)‖²  (eqs. 15, 16)
//
// With cfg.InvLoss = InvRatio the invariance term is scale-free, the sum of
// the generators' inv_ratio (DESIGN §1.4) on the batch:
//
//	L_inv   = 1/(m ε² c) Σ_i Σ_α ‖ψ(z_i + ε ĝ_α(z_i)) − ψ(z_i)‖²,  ĝ = g/‖g‖,
//	c       = 1/(m ε²) Σ_i ‖ψ(z_i + ε u_i) − ψ(z_i)‖²,  u_i random unit (RandomChange)
//
// so a sharp learned ψ (large gradients) cannot make the generators shrink
// to lower it: their length is left to L_norm alone.
//
// ψ is frozen: its weights are constants of the graph, so gradients flow
// through it into the generators (and a) only.
func buildLoss(b *binder, o Oracle, s *GeneratorSet, coeffs *Param, cfg GenConfig, x *G.Node) (*lossNodes, error) {
	ln := &lossNodes{}
	ratio := cfg.InvLoss == InvRatio
	if vectorisedLinear && s.Kind == GenLinear && cfg.Normalization == NormFrobenius && cfg.Orthogonality == OrthoGlobal {
		if err := linearLoss(b, o, s, coeffs, cfg, x, ln); err != nil {
			return nil, err
		}
	} else {
		for a := 0; a < s.N; a++ {
			f, err := s.apply(b, a, x)
			if err != nil {
				return nil, err
			}
			ln.fields = append(ln.fields, f)
		}
		moved := make([]*G.Node, s.N)
		for a, f := range ln.fields {
			var err error
			if ratio {
				if f, err = unitRows(f); err != nil {
					return nil, err
				}
			}
			if moved[a], err = G.Add(x, G.Must(G.Mul(f, G.NewConstant(cfg.Epsilon)))); err != nil {
				return nil, err
			}
		}
		allMoved := moved[0]
		if s.N > 1 {
			allMoved = G.Must(G.Concat(0, moved...))
		}
		var err error
		if ln.inv, err = invariance(b, o, x, allMoved, s.N, cfg.Epsilon); err != nil {
			return nil, err
		}
		if ratio {
			ln.inv = G.Must(G.Mul(ln.inv, G.NewConstant(1/invScale(cfg))))
		}
		terms := fieldLossTerms
		if s.N >= stackedFieldsFrom {
			terms = stackedFieldTerms
		}
		if err := terms(b, s, coeffs, cfg, x, ln); err != nil {
			return nil, err
		}
	}

	total := G.Must(G.Add(ln.inv, G.Must(G.Mul(ln.norm, G.NewConstant(cfg.HNorm)))))
	if ln.ortho != nil {
		total = G.Must(G.Add(total, G.Must(G.Mul(ln.ortho, G.NewConstant(cfg.HOrtho)))))
	}
	if ln.closure != nil {
		total = G.Must(G.Add(total, G.Must(G.Mul(ln.closure, G.NewConstant(cfg.HClosure)))))
	}
	ln.total = total
	return ln, nil
}

// invariance is L_inv from ψ on the batch x and on the moved points, the
// N_g copies of the batch, each moved along one generator, stacked by rows:
// 1/(m ε²) Σ_α Σ_i ‖ψ(z_i + ε g_α(z_i)) − ψ(z_i)‖².
func invariance(b *binder, o Oracle, x, moved *G.Node, n int, eps float64) (*G.Node, error) {
	m := x.Shape()[0]
	psi0, err := o.apply(b, x)
	if err != nil {
		return nil, err
	}
	base := psi0
	if n > 1 {
		reps := make([]*G.Node, n)
		for i := range reps {
			reps[i] = psi0
		}
		if base, err = G.Concat(0, reps...); err != nil {
			return nil, err
		}
	}
	psi1, err := o.apply(b, moved)
	if err != nil {
		return nil, err
	}
	diff := G.Must(G.Sub(psi1, base))
	return G.Mul(G.Must(G.Sum(G.Must(G.Square(diff)))), G.NewConstant(1/(float64(m)*eps*eps)))
}

// invScale is the ratio's denominator, 1 where none was computed (the
// gradient tests build the loss without it).
func invScale(cfg GenConfig) float64 {
	if cfg.InvScale > 0 {
		return cfg.InvScale
	}
	return 1
}

// movedUnit is ops.MovedPoints along the unit directions of the linear
// fields: row α·m + i is z_i + ε G_α z_i / ‖G_α z_i‖, the N_g copies of the
// batch stacked by generator.
func movedUnit(x, p *G.Node, n int, eps float64) (*G.Node, error) {
	one, err := ops.MovedPoints(x, p, n, 1)
	if err != nil {
		return nil, err
	}
	xrep := x
	if n > 1 {
		reps := make([]*G.Node, n)
		for i := range reps {
			reps[i] = x
		}
		if xrep, err = G.Concat(0, reps...); err != nil {
			return nil, err
		}
	}
	f, err := G.Sub(one, xrep)
	if err != nil {
		return nil, err
	}
	u, err := unitRows(f)
	if err != nil {
		return nil, err
	}
	return G.Add(xrep, G.Must(G.Mul(u, G.NewConstant(eps))))
}

// unitRows divides each row of f (M×ℓ) by its length, √(Σ_j f_ij² + 1e-12).
func unitRows(f *G.Node) (*G.Node, error) {
	m := f.Shape()[0]
	n2, err := G.Sum(G.Must(G.Square(f)), 1)
	if err != nil {
		return nil, err
	}
	norm, err := G.Sqrt(G.Must(G.Add(n2, G.NewConstant(1e-12))))
	if err != nil {
		return nil, err
	}
	norm, err = G.Reshape(norm, tensor.Shape{m, 1})
	if err != nil {
		return nil, err
	}
	return G.BroadcastHadamardDiv(f, norm, nil, []byte{1})
}

// RandomChange is the squared change of ψ per point along random unit
// directions, the denominator of inv_ratio:
//
//	c = 1/(m ε²) Σ_i ‖ψ(z_i + ε u_i) − ψ(z_i)‖²,  u_i uniform on the unit sphere,
//
// over at most 4096 of the points z (the first), with directions drawn
// from seed.
func RandomChange(o Oracle, z [][]float64, eps float64, seed uint64) (float64, error) {
	if len(z) > 4096 {
		z = z[:4096]
	}
	m := len(z)
	r := rand.New(rand.NewPCG(seed, 0x1a8))
	probe := append([][]float64(nil), z...)
	for i := 0; i < m; i++ {
		u := make([]float64, len(z[i]))
		for j := range u {
			u[j] = r.NormFloat64()
		}
		probe = append(probe, step(z[i], unit(u), eps))
	}
	psi, err := EvalOracle(o, probe)
	if err != nil {
		return 0, err
	}
	var s float64
	for i := 0; i < m; i++ {
		for k, v := range psi[m+i] {
			d := v - psi[i][k]
			s += d * d
		}
	}
	return s / (float64(m) * eps * eps), nil
}

// vectorisedLinear selects ops.LinearTerms for linear generators with
// Frobenius normalisation and global orthogonality (tests compare it with
// the per-pair graph).
var vectorisedLinear = true

// linearLoss sets every term of the loss of linear generators: the moved
// points of all generators from one op (ops.MovedPoints), and L_norm,
// L_ortho, L_closure from one ops.LinearTerms on the stacked matrices. The
// graph's size does not depend on the number of pairs (and on N_g only
// through the Concat of the matrices).
func linearLoss(b *binder, o Oracle, s *GeneratorSet, coeffs *Param, cfg GenConfig, x *G.Node, ln *lossNodes) error {
	m, n, dim := x.Shape()[0], s.N, s.Dim
	mats := b.all(s.Params)
	p := mats[0]
	if len(mats) > 1 {
		var err error
		if p, err = G.Concat(0, mats...); err != nil {
			return err
		}
	}
	var moved *G.Node
	var err error
	if cfg.InvLoss == InvRatio {
		moved, err = movedUnit(x, p, n, cfg.Epsilon)
	} else {
		moved, err = ops.MovedPoints(x, p, n, cfg.Epsilon)
	}
	if err != nil {
		return err
	}
	if ln.inv, err = invariance(b, o, x, moved, n, cfg.Epsilon); err != nil {
		return err
	}
	if cfg.InvLoss == InvRatio {
		ln.inv = G.Must(G.Mul(ln.inv, G.NewConstant(1/invScale(cfg))))
	}
	xt, err := G.Transpose(x)
	if err != nil {
		return err
	}
	sm, err := G.Mul(xt, x)
	if err != nil {
		return err
	}
	sm = G.Must(G.Mul(sm, G.NewConstant(1/float64(m))))
	var an *G.Node
	if coeffs != nil {
		an = b.node(coeffs)
	}
	terms, err := ops.LinearTerms(p, sm, an, n, dim)
	if err != nil {
		return err
	}
	ln.norm = G.Must(G.Slice(terms, G.S(0)))
	if s.N > 1 {
		ln.ortho = G.Must(G.Slice(terms, G.S(1)))
	}
	if an != nil {
		ln.closure = G.Must(G.Slice(terms, G.S(2)))
	}
	return nil
}

// normTerm sets L_norm from the fields on the batch, generator by
// generator.
func normTerm(b *binder, s *GeneratorSet, cfg GenConfig, ln *lossNodes) {
	var norms []*G.Node
	for a, f := range ln.fields {
		var term *G.Node
		switch cfg.Normalization {
		case NormFrobenius:
			sq := G.Must(G.Sum(G.Must(G.Square(b.node(s.Params[a])))))
			term = G.Must(G.Square(G.Must(G.Sub(sq, G.NewConstant(2.0)))))
		case NormMean:
			ms := G.Must(G.Mean(G.Must(G.Sum(G.Must(G.Square(f)), 1))))
			term = G.Must(G.Square(G.Must(G.Sub(ms, G.NewConstant(2.0)))))
		default:
			n := G.Must(G.Sqrt(G.Must(G.Add(G.Must(G.Sum(G.Must(G.Square(f)), 1)), G.NewConstant(1e-12)))))
			t1 := G.Must(G.Mean(G.Must(G.Square(G.Must(G.Sub(n, G.NewConstant(1.0)))))))
			t2 := G.Must(G.Mean(G.Must(G.Square(G.Must(G.Sub(n, G.Must(G.Mean(n))))))))
			term = G.Must(G.Add(t1, t2))
		}
		norms = append(norms, term)
	}
	ln.norm = sumNodes(norms)
}

// fieldLossTerms sets L_norm, L_ortho and L_closure from the fields on the
// batch, pair by pair: any generator kind and option. Its graph grows with
// N_g³ (a bracket per pair, and a coefficient per pair and generator);
// stackedFieldTerms computes the same terms, and training uses it from
// stackedFieldsFrom generators on.
func fieldLossTerms(b *binder, s *GeneratorSet, coeffs *Param, cfg GenConfig, x *G.Node, ln *lossNodes) error {
	m := x.Shape()[0]
	normTerm(b, s, cfg, ln)

	// orthogonality
	var orth []*G.Node
	for _, p := range lie.Pairs(s.N) {
		fa, fc := ln.fields[p[0]], ln.fields[p[1]]
		var term *G.Node
		switch {
		case cfg.Orthogonality == OrthoGlobal && s.Kind == GenLinear:
			term = G.Must(G.Square(G.Must(G.Sum(G.Must(G.HadamardProd(b.node(s.Params[p[0]]), b.node(s.Params[p[1]])))))))
		case cfg.Orthogonality == OrthoGlobal:
			term = G.Must(G.Square(G.Must(G.Mean(G.Must(G.Sum(G.Must(G.HadamardProd(fa, fc)), 1))))))
		default:
			term = G.Must(G.Mean(G.Must(G.Square(G.Must(G.Sum(G.Must(G.HadamardProd(fa, fc)), 1))))))
		}
		orth = append(orth, term)
	}
	ln.ortho = sumNodes(orth)

	// closure
	if cfg.Closure == ClosureJoint && s.N > 1 {
		an := b.node(coeffs)
		var cl []*G.Node
		for pi, p := range lie.Pairs(s.N) {
			br, err := s.bracket(b, p[0], p[1], x, ln.fields[p[0]], ln.fields[p[1]])
			if err != nil {
				return err
			}
			res := br
			for c := 0; c < s.N; c++ {
				coef := G.Must(G.Slice(an, G.S(pi), G.S(c)))
				res = G.Must(G.Sub(res, G.Must(G.Mul(ln.fields[c], coef))))
			}
			cl = append(cl, G.Must(G.Mul(G.Must(G.Sum(G.Must(G.Square(res)))), G.NewConstant(1/float64(m)))))
		}
		ln.closure = sumNodes(cl)
	}
	return nil
}

// stackedFieldsFrom is the N_g from which stackedFieldTerms replaces the
// per-pair graph of fieldLossTerms (tests compare the two). Below it the
// per-pair graph is faster: with N_g = 4 MLP generators and pointwise
// orthogonality, the stacked graph's small batched products and
// transposes made `bench-workload generators-4` 0.84× as fast; at N_g = 10
// the stacked graph is 1.15× as fast, at N_g = 20 (joint closure) 11×.
var stackedFieldsFrom = 8

// stackedFieldTerms sets L_norm, L_ortho and L_closure like fieldLossTerms,
// from the fields stacked into one N_g × (m·ℓ) matrix F, so that the graph
// grows with N_g and not with the number of pairs:
//
//   - L_ortho from the Gram matrix of the fields (F Fᵀ / m; global), of the
//     matrices (linear, global), or of the fields at each point (local),
//     summed over α < β through a constant mask;
//   - the brackets from 2·N_g passes of the generators: J_β runs once on the
//     N_g batches shifted by ±h J_α (all α stacked), giving every central
//     difference D[β][α] ≈ DJ_β·J_α at once; the pairs' brackets
//     D[β][α] − D[α][β] are one product with a constant ±1 selection, and
//     the residuals subtract A·F, the structure constants times the fields.
//
// The arithmetic is that of the per-pair graph (the same passes, on
// larger batches); only the order of the sums differs.
func stackedFieldTerms(b *binder, s *GeneratorSet, coeffs *Param, cfg GenConfig, x *G.Node, ln *lossNodes) error {
	m, dim, n := x.Shape()[0], x.Shape()[1], s.N
	normTerm(b, s, cfg, ln)
	if n < 2 {
		return nil
	}
	pairs := lie.Pairs(n)
	upper := make([]float64, n*n) // 1 at (α, β), α < β
	for _, p := range pairs {
		upper[p[0]*n+p[1]] = 1
	}
	mask := G.NewConstant(newDense(upper, n, n))
	rows := make([]*G.Node, n)
	for a, f := range ln.fields {
		rows[a] = G.Must(G.Reshape(f, tensor.Shape{1, m * dim}))
	}
	fm := G.Must(G.Concat(0, rows...)) // N × (m·ℓ)

	// orthogonality
	var gram *G.Node
	switch {
	case cfg.Orthogonality == OrthoGlobal && s.Kind == GenLinear:
		mats := make([]*G.Node, n)
		for a := range mats {
			mats[a] = G.Must(G.Reshape(b.node(s.Params[a]), tensor.Shape{1, dim * dim}))
		}
		pm := G.Must(G.Concat(0, mats...))
		gram = G.Must(G.Mul(pm, G.Must(G.Transpose(pm))))
		gram = G.Must(G.Square(gram))
	case cfg.Orthogonality == OrthoGlobal:
		gram = G.Must(G.Mul(fm, G.Must(G.Transpose(fm))))
		gram = G.Must(G.Square(G.Must(G.Mul(gram, G.NewConstant(1/float64(m))))))
	default:
		// per point i: (F_i F_iᵀ)[α][β] = f_α(z_i)·f_β(z_i), squared, mean over i
		pts := G.Must(G.Transpose(G.Must(G.Reshape(fm, tensor.Shape{n, m, dim})), 1, 0, 2)) // m × N × ℓ
		per := G.Must(G.BatchedMatMul(pts, pts, false, true))                               // m × N × N
		per = G.Must(G.Reshape(G.Must(G.Square(per)), tensor.Shape{m, n * n}))
		gram = G.Must(G.Reshape(G.Must(G.Mean(per, 0)), tensor.Shape{n, n}))
	}
	ln.ortho = G.Must(G.Sum(G.Must(G.HadamardProd(gram, mask))))

	// closure
	if cfg.Closure != ClosureJoint {
		return nil
	}
	reps := make([]*G.Node, n)
	for i := range reps {
		reps[i] = x
	}
	xs := G.Must(G.Concat(0, reps...))      // (N·m) × ℓ: the batch, N_g times
	fs := G.Must(G.Concat(0, ln.fields...)) // (N·m) × ℓ: J_α on it, α by blocks
	hv := G.Must(G.Mul(fs, G.NewConstant(bracketH)))
	plus, minus := G.Must(G.Add(xs, hv)), G.Must(G.Sub(xs, hv))
	ds := make([]*G.Node, n)
	for c := range ds {
		jp, err := s.apply(b, c, plus)
		if err != nil {
			return err
		}
		jm, err := s.apply(b, c, minus)
		if err != nil {
			return err
		}
		d := G.Must(G.Mul(G.Must(G.Sub(jp, jm)), G.NewConstant(1/(2*bracketH))))
		ds[c] = G.Must(G.Reshape(d, tensor.Shape{n, m * dim})) // row α: DJ_c·J_α
	}
	dm := G.Must(G.Concat(0, ds...)) // (N·N) × (m·ℓ), row c·N + α
	sel := make([]float64, len(pairs)*n*n)
	for pi, p := range pairs {
		a, c := p[0], p[1]
		sel[pi*n*n+c*n+a] = 1  // DJ_β·J_α
		sel[pi*n*n+a*n+c] = -1 // − DJ_α·J_β
	}
	br := G.Must(G.Mul(G.NewConstant(newDense(sel, len(pairs), n*n)), dm)) // pairs × (m·ℓ)
	res := G.Must(G.Sub(br, G.Must(G.Mul(b.node(coeffs), fm))))
	ln.closure = G.Must(G.Mul(G.Must(G.Sum(G.Must(G.Square(res)))), G.NewConstant(1/float64(m))))
	return nil
}

func sumNodes(ns []*G.Node) *G.Node {
	if len(ns) == 0 {
		return nil
	}
	s := ns[0]
	for _, n := range ns[1:] {
		s = G.Must(G.Add(s, n))
	}
	return s
}

// GenResult is what TrainGenerators returns.
type GenResult struct {
	Set *GeneratorSet
	// Coeffs are the jointly trained structure constants, pairs × N_g
	// (nil unless closure is joint).
	Coeffs *Param
	Losses []map[string]float64
}

// Final returns the losses of the last epoch.
func (r *GenResult) Final() map[string]float64 {
	if len(r.Losses) == 0 {
		return map[string]float64{}
	}
	return r.Losses[len(r.Losses)-1]
}

// TrainGenerators trains N_g generators against the frozen oracle o on the
// points z (rows) with Adam, full batch when cfg.Batch is 0.
func TrainGenerators(ctx context.Context, o Oracle, z [][]float64, cfg GenConfig, h Hooks) (*GenResult, error) {
	if len(z) == 0 {
		return nil, fmt.Errorf("train generators: no points")
	}
	dim := len(z[0])
	if dim != o.InDim() {
		return nil, fmt.Errorf("train generators: points have dim %d, oracle takes %d", dim, o.InDim())
	}
	s, err := NewGeneratorSet(cfg.Kind, dim, cfg.N, cfg.Hidden, cfg.Seed)
	if err != nil {
		return nil, err
	}
	if cfg.Init == InitSpectral {
		if _, err := SpectralInit(o, z, s, spectralStep); err != nil {
			return nil, fmt.Errorf("train generators: %w", err)
		}
	}
	if cfg.InvLoss == InvRatio && cfg.InvScale == 0 {
		if cfg.InvScale, err = RandomChange(o, z, cfg.Epsilon, cfg.Seed); err != nil {
			return nil, fmt.Errorf("train generators: %w", err)
		}
		if !(cfg.InvScale > 0) || math.IsInf(cfg.InvScale, 0) {
			return nil, fmt.Errorf("train generators: %w: ψ does not change along random directions at the training points (random change %v), so no direction can be judged invariant: check the oracle", sweeps.ErrInvalidSpec, cfg.InvScale)
		}
	}
	params := append(Params(nil), s.Params...)
	var coeffs *Param
	if cfg.Closure == ClosureJoint && cfg.N > 1 {
		coeffs = &Param{Name: "closure.coeffs", Dense: tensor.New(tensor.WithShape(len(lie.Pairs(cfg.N)), cfg.N), tensor.WithBacking(make([]float64, len(lie.Pairs(cfg.N))*cfg.N)))}
		params = append(params, coeffs)
	}
	batch := cfg.Batch
	if batch <= 0 || batch > len(z) {
		batch = len(z)
	}
	g := G.NewGraph()
	b := newBinder(g)
	x := G.NewMatrix(g, tensor.Float64, G.WithName("z"), G.WithShape(batch, dim))
	ln, err := buildLoss(b, o, s, coeffs, cfg, x)
	if err != nil {
		return nil, fmt.Errorf("train generators: build loss: %w", err)
	}
	learn := b.all(params)
	if _, err := G.Grad(ln.total, learn...); err != nil {
		return nil, fmt.Errorf("train generators: gradient: %w", err)
	}
	names := []string{"total", "inv", "norm"}
	nodes := []*G.Node{ln.total, ln.inv, ln.norm}
	if ln.ortho != nil {
		names, nodes = append(names, "ortho"), append(nodes, ln.ortho)
	}
	if ln.closure != nil {
		names, nodes = append(names, "closure"), append(nodes, ln.closure)
	}
	reads := make([]*G.Value, len(nodes))
	for i, n := range nodes {
		reads[i] = new(G.Value)
		G.Read(n, reads[i])
	}
	vm := G.NewTapeMachine(g, G.BindDualValues(learn...))
	defer vm.Close()
	xb := make([]float64, batch*dim)
	full := batch == len(z)
	if full {
		copy(xb, flatten(z))
		if err := G.Let(x, newDense(xb, batch, dim)); err != nil {
			return nil, err
		}
	}
	l := &loop{
		stage: "generators", params: params, nodes: learn, vm: vm,
		adam: NewAdam(cfg.LR, params), epochs: cfg.Epochs,
		batches: miniBatches(len(z), batch, cfg.Seed),
		feed: func(idx []int) error {
			if full {
				return nil
			}
			for r, i := range idx {
				copy(xb[r*dim:], z[i])
			}
			return G.Let(x, newDense(xb, batch, dim))
		},
		names: names, reads: reads,
	}
	hist, err := l.run(ctx, h)
	if err != nil {
		return nil, err
	}
	return &GenResult{Set: s, Coeffs: coeffs, Losses: hist}, nil
}

// GeneratorParams returns the parameters TrainGenerators trains for cfg on
// R^dim, freshly initialised: the shapes a checkpoint must match.
func GeneratorParams(cfg GenConfig, dim int) (Params, error) {
	s, err := NewGeneratorSet(cfg.Kind, dim, cfg.N, cfg.Hidden, cfg.Seed)
	if err != nil {
		return nil, err
	}
	ps := append(Params(nil), s.Params...)
	if cfg.Closure == ClosureJoint && cfg.N > 1 {
		np := len(lie.Pairs(cfg.N))
		ps = append(ps, &Param{Name: "closure.coeffs", Dense: tensor.New(tensor.WithShape(np, cfg.N), tensor.WithBacking(make([]float64, np*cfg.N)))})
	}
	return ps, nil
}
