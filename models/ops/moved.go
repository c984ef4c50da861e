package ops

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	"gonum.org/v1/gonum/blas"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// movedOp maps the batch X (m × n) and the stacked generators P (N·n × n)
// to the moved points of every generator stacked by rows, block α =
// X (I + ε G_α)ᵀ = X + ε X G_αᵀ (N·m × n): the input of ψ in L_inv, in N
// GEMMs, with the gradient ∂/∂G_α = ε dM_αᵀ X.
type movedOp struct {
	fresh
	N, m, n int
	eps     float64
}

type movedGradOp struct{ movedOp }

var _ G.SDOp = movedOp{}

// MovedPoints returns the batch x (m × dim) moved along each of the n
// linear generators G_α stacked in p (n·dim × dim), the moved batches
// stacked by generator (n·m × dim):
//
//	block α = x (I + eps G_α)ᵀ = x + eps x G_αᵀ,
//
// in n GEMMs, differentiable in p (∂/∂G_α = eps dM_αᵀ x) but not in x.
// Both are float64.
func MovedPoints(x, p *G.Node, n int, eps float64) (*G.Node, error) {
	xs := x.Shape()
	return G.ApplyOp(movedOp{N: n, m: xs[0], n: xs[1], eps: eps}, x, p)
}

func (op movedOp) Arity() int { return 2 }
func (op movedOp) Type() hm.Type {
	t := tensorType(2)
	return hm.NewFnType(t, t, t)
}
func (op movedOp) String() string {
	return fmt.Sprintf("Moved(N=%d,m=%d,n=%d,ε=%g)", op.N, op.m, op.n, op.eps)
}
func (op movedOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op movedOp) Hashcode() uint32      { return hashOf(op) }
func (op movedOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.N * op.m, op.n}, nil
}
func (op movedOp) Do(in ...G.Value) (G.Value, error) {
	if len(in) != 2 {
		return nil, fmt.Errorf("%v: want 2 inputs, got %d", op, len(in))
	}
	x, p := in[0].Data().([]float64), in[1].Data().([]float64)
	mn, n2 := op.m*op.n, op.n*op.n
	out := make([]float64, op.N*mn)
	for a := 0; a < op.N; a++ {
		o := out[a*mn : (a+1)*mn]
		copy(o, x)
		gemmAt(blas.NoTrans, blas.Trans, op.m, op.n, op.n, op.eps, x, op.n, p[a*n2:(a+1)*n2], op.n, 1, o, op.n)
	}
	return tensor.New(tensor.WithShape(op.N*op.m, op.n), tensor.WithBacking(out)), nil
}
func (op movedOp) DiffWRT(int) []bool { return []bool{false, true} }
func (op movedOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	dp, err := G.ApplyOp(movedGradOp{op}, inputs[0], grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{nil, dp}, nil
}

func (op movedGradOp) Arity() int { return 2 }
func (op movedGradOp) Type() hm.Type {
	t := tensorType(2)
	return hm.NewFnType(t, t, t)
}
func (op movedGradOp) String() string        { return "Grad·" + op.movedOp.String() }
func (op movedGradOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op movedGradOp) Hashcode() uint32      { return hashOf(op) }
func (op movedGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.N * op.n, op.n}, nil
}
func (op movedGradOp) Do(in ...G.Value) (G.Value, error) {
	if len(in) != 2 {
		return nil, fmt.Errorf("%v: want 2 inputs, got %d", op, len(in))
	}
	x, dm := in[0].Data().([]float64), in[1].Data().([]float64)
	mn, n2 := op.m*op.n, op.n*op.n
	d := make([]float64, op.N*n2)
	for a := 0; a < op.N; a++ {
		gemmAt(blas.Trans, blas.NoTrans, op.n, op.n, op.m, op.eps, dm[a*mn:(a+1)*mn], op.n, x, op.n, 0, d[a*n2:(a+1)*n2], op.n)
	}
	return tensor.New(tensor.WithShape(op.N*op.n, op.n), tensor.WithBacking(d)), nil
}
