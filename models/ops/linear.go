package ops

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	"gonum.org/v1/gonum/blas"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Linear generators J_α(z) = G_α z admit closed forms for every loss term
// but the invariance: with the generators stacked as P (N_g·n × n, block α
// = G_α) and S = XᵀX/m the second moment of the batch,
//
//	L_norm    = Σ_α (‖G_α‖_F² − 2)²                               (frobenius)
//	L_ortho   = Σ_{α<β} ⟨G_α, G_β⟩_F²                              (global)
//	L_closure = Σ_{α<β} 1/m Σ_i ‖R_αβ z_i‖² = Σ_{α<β} tr(R_αβ S R_αβᵀ),
//	            R_αβ = −[G_α, G_β] − Σ_γ a_[αβ]γ G_γ
//
// (the field bracket of linear fields is −[G_α, G_β] z). linearTermsOp
// computes all three as one op with a hand-written gradient, in a few GEMMs
// over all pairs at once: the gorgonia graph has a constant number of nodes
// whatever N_g is, where a graph with nodes per pair grows as N_g³
// (so(10), N_g = 45, 990 pairs, never finished building it).
//
// The gradients (V_αβ = R_αβ S, antisymmetric in αβ over ordered pairs):
//
//	∂L_closure/∂G_δ = −2 Σ_β (V_δβ G_βᵀ − G_βᵀ V_δβ) − 2 Σ_{α<β} a_[αβ]δ V_αβ
//	∂L_closure/∂a_[αβ]γ = −2 ⟨G_γ, V_αβ⟩
//	∂L_ortho/∂G_α = 2 Σ_{β≠α} ⟨G_α, G_β⟩ G_β,  ∂L_norm/∂G_α = 4 (‖G_α‖² − 2) G_α

// linearTermsOp maps (P, S[, A]) to the vector (L_norm, L_ortho, L_closure).
type linearTermsOp struct {
	fresh
	N, n  int
	joint bool // A is an input and L_closure is computed
	// last is the forward work of the latest Do, which the gradient ops of
	// the same run reuse instead of recomputing it.
	last *linearCache
}

type linearCache struct{ w *linearWork }

// linearTermsGradOp is its gradient with respect to P (which "P") or A ("A"),
// from the inputs and the output's gradient (a 3-vector).
type linearTermsGradOp struct {
	linearTermsOp
	which string
}

var (
	_ G.SDOp = linearTermsOp{}
)

// LinearTerms returns the vector (L_norm, L_ortho, L_closure) above of the
// n linear generators G_α (dim × dim) stacked in p (n·dim × dim), for the
// batch's second moment s = XᵀX/m (dim × dim) and, for joint closure, the
// structure constants a (n(n−1)/2 × n, row αβ for the pair α < β in
// order). With a nil, L_closure is 0 and the terms are differentiable in p
// alone, else in p and a. All inputs are float64.
func LinearTerms(p, s, a *G.Node, n, dim int) (*G.Node, error) {
	op := linearTermsOp{N: n, n: dim, joint: a != nil, last: new(linearCache)}
	if a != nil {
		return G.ApplyOp(op, p, s, a)
	}
	return G.ApplyOp(op, p, s)
}

func (op linearTermsOp) Arity() int {
	if op.joint {
		return 3
	}
	return 2
}
func (op linearTermsOp) Type() hm.Type {
	m, v := tensorType(2), tensorType(1)
	if op.joint {
		return hm.NewFnType(m, m, m, v)
	}
	return hm.NewFnType(m, m, v)
}
func (op linearTermsOp) String() string {
	return fmt.Sprintf("LinearTerms(N=%d,n=%d,joint=%v)", op.N, op.n, op.joint)
}
func (op linearTermsOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op linearTermsOp) Hashcode() uint32      { return hashOf(op) }
func (op linearTermsOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{3}, nil
}
func (op linearTermsOp) Do(in ...G.Value) (G.Value, error) {
	if len(in) != op.Arity() {
		return nil, fmt.Errorf("%v: want %d inputs, got %d", op, op.Arity(), len(in))
	}
	w := op.work(in)
	op.last.w = w
	out := []float64{w.norm, w.ortho, w.closure}
	return tensor.New(tensor.WithShape(3), tensor.WithBacking(out)), nil
}
func (op linearTermsOp) DiffWRT(int) []bool {
	if op.joint {
		return []bool{true, false, true}
	}
	return []bool{true, false}
}
func (op linearTermsOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	args := append(G.Nodes{}, inputs...)
	args = append(args, grad)
	dp, err := G.ApplyOp(linearTermsGradOp{op, "P"}, args...)
	if err != nil {
		return nil, err
	}
	out := G.Nodes{dp, nil}
	if op.joint {
		da, err := G.ApplyOp(linearTermsGradOp{op, "A"}, args...)
		if err != nil {
			return nil, err
		}
		out = append(out, da)
	}
	return out, nil
}

func (op linearTermsGradOp) Arity() int { return op.linearTermsOp.Arity() + 1 }
func (op linearTermsGradOp) Type() hm.Type {
	m, v := tensorType(2), tensorType(1)
	if op.joint {
		return hm.NewFnType(m, m, m, v, m)
	}
	return hm.NewFnType(m, m, v, m)
}
func (op linearTermsGradOp) String() string {
	return "Grad" + op.which + "·" + op.linearTermsOp.String()
}
func (op linearTermsGradOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op linearTermsGradOp) Hashcode() uint32      { return hashOf(op) }
func (op linearTermsGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	if op.which == "A" {
		return tensor.Shape{op.N * (op.N - 1) / 2, op.N}, nil
	}
	return tensor.Shape{op.N * op.n, op.n}, nil
}
func (op linearTermsGradOp) Do(in ...G.Value) (G.Value, error) {
	if len(in) != op.Arity() {
		return nil, fmt.Errorf("%v: want %d inputs, got %d", op, op.Arity(), len(in))
	}
	g := in[len(in)-1].Data().([]float64)
	w := op.last.w
	if w == nil || !w.sameInputs(in[:len(in)-1]) {
		w = op.work(in[:len(in)-1])
	}
	if op.which == "A" {
		return tensor.New(tensor.WithShape(op.N*(op.N-1)/2, op.N), tensor.WithBacking(w.gradA(g[2]))), nil
	}
	return tensor.New(tensor.WithShape(op.N*op.n, op.n), tensor.WithBacking(w.gradP(g))), nil
}

// linearWork holds the forward quantities of one evaluation.
type linearWork struct {
	N, n, np             int
	p, s, a              []float64
	pSum                 float64   // checksum of p when computed
	sq                   []float64 // ‖G_α‖²
	k                    []float64 // Gram ⟨G_α, G_β⟩, N×N
	v                    []float64 // V_p = R_p S, np × n²
	norm, ortho, closure float64
}

func (op linearTermsOp) work(in []G.Value) *linearWork {
	N, n := op.N, op.n
	n2 := n * n
	w := &linearWork{N: N, n: n, np: N * (N - 1) / 2, p: in[0].Data().([]float64), s: in[1].Data().([]float64)}
	w.pSum = checksum(w.p)
	w.sq = make([]float64, N)
	for a := 0; a < N; a++ {
		var s float64
		for _, x := range w.p[a*n2 : (a+1)*n2] {
			s += x * x
		}
		w.sq[a] = s
		w.norm += (s - 2) * (s - 2)
	}
	w.k = make([]float64, N*N)
	gemm(blas.NoTrans, blas.Trans, N, N, n2, w.p, w.p, false, w.k)
	for a := 0; a < N; a++ {
		for b := a + 1; b < N; b++ {
			w.ortho += w.k[a*N+b] * w.k[a*N+b]
		}
	}
	if !op.joint || N < 2 {
		return w
	}
	w.a = in[2].Data().([]float64)
	// B = P·[G_1 … G_N]: block (α, β) is G_α G_β.
	nn := N * n
	ph := make([]float64, n*nn)
	for b := 0; b < N; b++ {
		for i := 0; i < n; i++ {
			copy(ph[i*nn+b*n:i*nn+(b+1)*n], w.p[b*n2+i*n:b*n2+(i+1)*n])
		}
	}
	bm := make([]float64, nn*nn)
	gemm(blas.NoTrans, blas.NoTrans, nn, nn, n, w.p, ph, false, bm)
	// R = −A·P_flat − [G_α, G_β] for every pair.
	r := make([]float64, w.np*n2)
	gemm(blas.NoTrans, blas.NoTrans, w.np, n2, N, w.a, w.p, false, r)
	pi := 0
	for a := 0; a < N; a++ {
		for b := a + 1; b < N; b++ {
			rp := r[pi*n2 : (pi+1)*n2]
			for i := 0; i < n; i++ {
				ab := bm[(a*n+i)*nn+b*n : (a*n+i)*nn+(b+1)*n]
				ba := bm[(b*n+i)*nn+a*n : (b*n+i)*nn+(a+1)*n]
				row := rp[i*n : (i+1)*n]
				for j := range row {
					row[j] = -row[j] - (ab[j] - ba[j])
				}
			}
			pi++
		}
	}
	w.v = make([]float64, w.np*n2)
	gemm(blas.NoTrans, blas.NoTrans, w.np*n, n, n, r, w.s, false, w.v)
	for i, x := range r {
		w.closure += x * w.v[i]
	}
	return w
}

// sameInputs reports whether w was computed from these values (the tape
// runs the forward op before its gradients on the same tensors, and the
// optimizer changes them only between runs).
func (w *linearWork) sameInputs(in []G.Value) bool {
	p := in[0].Data().([]float64)
	if len(p) != len(w.p) || &p[0] != &w.p[0] || w.pSum != checksum(p) {
		return false
	}
	return true
}

func checksum(v []float64) float64 {
	var s float64
	for i, x := range v {
		s += x * float64(i%7+1)
	}
	return s
}

// gradP is ∂(g·terms)/∂P.
func (w *linearWork) gradP(g []float64) []float64 {
	N, n := w.N, w.n
	n2, nn := n*n, N*n
	d := make([]float64, N*n2)
	// norm: 4 (‖G_α‖² − 2) G_α; ortho: 2 Σ_{β≠α} K_αβ G_β.
	ko := make([]float64, N*N)
	for a := 0; a < N; a++ {
		for b := 0; b < N; b++ {
			if a != b {
				ko[a*N+b] = 2 * g[1] * w.k[a*N+b]
			}
		}
	}
	gemm(blas.NoTrans, blas.NoTrans, N, n2, N, ko, w.p, false, d)
	for a := 0; a < N; a++ {
		c := 4 * g[0] * (w.sq[a] - 2)
		for i, x := range w.p[a*n2 : (a+1)*n2] {
			d[a*n2+i] += c * x
		}
	}
	if w.v == nil || g[2] == 0 {
		return d
	}
	// Full antisymmetric V over ordered pairs, as blocks: vb (δ, β) = V_δβ,
	// wb (δ, β) = V_δβᵀ.
	vb := make([]float64, nn*nn)
	wb := make([]float64, nn*nn)
	pi := 0
	for a := 0; a < N; a++ {
		for b := a + 1; b < N; b++ {
			vp := w.v[pi*n2 : (pi+1)*n2]
			for i := 0; i < n; i++ {
				for j := 0; j < n; j++ {
					x := vp[i*n+j]
					vb[(a*n+i)*nn+b*n+j] = x
					vb[(b*n+i)*nn+a*n+j] = -x
					wb[(a*n+j)*nn+b*n+i] = x
					wb[(b*n+j)*nn+a*n+i] = -x
				}
			}
			pi++
		}
	}
	// PT: block β = G_βᵀ.
	pt := make([]float64, nn*n)
	for b := 0; b < N; b++ {
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				pt[(b*n+j)*n+i] = w.p[b*n2+i*n+j]
			}
		}
	}
	t1 := make([]float64, nn*n) // block δ: Σ_β V_δβ G_βᵀ
	gemm(blas.NoTrans, blas.NoTrans, nn, n, nn, vb, pt, false, t1)
	t2 := make([]float64, nn*n) // block δ: Σ_β V_δβᵀ G_β = (Σ_β G_βᵀ V_δβ)ᵀ
	gemm(blas.NoTrans, blas.NoTrans, nn, n, nn, wb, w.p, false, t2)
	c := -2 * g[2]
	for dl := 0; dl < N; dl++ {
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				d[dl*n2+i*n+j] += c * (t1[(dl*n+i)*n+j] - t2[(dl*n+j)*n+i])
			}
		}
	}
	// −2 Σ_p a_pδ V_p.
	at := make([]float64, N*n2)
	gemm(blas.Trans, blas.NoTrans, N, n2, w.np, w.a, w.v, false, at)
	for i, x := range at {
		d[i] += c * x
	}
	return d
}

// gradA is ∂(gc·L_closure)/∂A = −2 gc ⟨G_γ, V_p⟩.
func (w *linearWork) gradA(gc float64) []float64 {
	d := make([]float64, w.np*w.N)
	if w.v == nil {
		return d
	}
	gemm(blas.NoTrans, blas.Trans, w.np, w.N, w.n*w.n, w.v, w.p, false, d)
	for i := range d {
		d[i] *= -2 * gc
	}
	return d
}
