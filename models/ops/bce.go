package ops

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// bceOp is the mean binary cross-entropy of logits l against targets x in
// [0, 1]; bceGradOp its gradient with respect to l.
type bceOp struct {
	fresh
	shape tensor.Shape
}
type bceGradOp struct {
	fresh
	shape tensor.Shape
	own   *owned
}

var (
	_ G.SDOp            = bceOp{}
	_ G.UsePreallocDoer = bceGradOp{}
)

// BCEWithLogits returns the mean binary cross-entropy of the logits l
// against the targets x (same shape, float32), through the sigmoid σ:
//
//	L = (1/N) Σ_i softplus(l_i) − x_i·l_i,  softplus(l) = log(1 + eˡ),
//	∂L/∂l_i = (σ(l_i) − x_i) / N,
//
// summed in float64 per row of the first axis, the rows in order, so the
// value does not depend on the number of cores. Only l is differentiable:
// x is data.
func BCEWithLogits(l, x *G.Node) (*G.Node, error) {
	if l.Dtype() != tensor.Float32 || x.Dtype() != tensor.Float32 || !l.Shape().Eq(x.Shape()) || l.Shape().Dims() < 1 {
		return nil, fmt.Errorf("bce: want float32 logits and targets of one shape, got %v %v and %v %v", l.Dtype(), l.Shape(), x.Dtype(), x.Shape())
	}
	return G.ApplyOp(bceOp{shape: l.Shape().Clone()}, l, x)
}

// softplus32 is log(1 + eˡ) in float64, with gorgonia's cut-offs (0 below
// −103, l above 14, where float32 cannot tell the difference).
func softplus32(l float32) float64 {
	switch {
	case l < -103:
		return 0
	case l > 14:
		return float64(l)
	}
	return math.Log1p(math.Exp(float64(l)))
}

func (op bceOp) Arity() int { return 2 }
func (op bceOp) Type() hm.Type {
	t := tensorType(op.shape.Dims())
	return hm.NewFnType(t, t, hm.TypeVariable('a'))
}
func (op bceOp) String() string        { return fmt.Sprintf("BCEWithLogits%v", op.shape) }
func (op bceOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op bceOp) Hashcode() uint32      { return hashOf(op) }
func (op bceOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.ScalarShape(), nil
}
func (op bceOp) Do(in ...G.Value) (G.Value, error) {
	l, x, err := sameSize32(op, 2, in)
	if err != nil {
		return nil, err
	}
	rows := op.shape[0]
	per := len(l) / rows
	sums := make([]float64, rows)
	Parallel(rows, func(r0, r1 int) {
		for r := r0; r < r1; r++ {
			var s float64
			for i, v := range l[r*per : (r+1)*per] {
				s += softplus32(v) - float64(x[r*per+i])*float64(v)
			}
			sums[r] = s
		}
	})
	var s float64
	for _, v := range sums {
		s += v
	}
	return G.NewF32(float32(s / float64(len(l)))), nil
}
func (op bceOp) DiffWRT(int) []bool { return []bool{true, false} }
func (op bceOp) SymDiff(inputs G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	d, err := G.ApplyOp(bceGradOp{shape: op.shape, own: new(owned)}, inputs[0], inputs[1], grad)
	return G.Nodes{d, nil}, err
}

func (op bceGradOp) Arity() int { return 3 }
func (op bceGradOp) Type() hm.Type {
	t := tensorType(op.shape.Dims())
	return hm.NewFnType(t, t, hm.TypeVariable('a'), t)
}
func (op bceGradOp) String() string                                 { return fmt.Sprintf("BCEWithLogitsGrad%v", op.shape) }
func (op bceGradOp) WriteHash(h hash.Hash)                          { fmt.Fprint(h, op.String()) }
func (op bceGradOp) Hashcode() uint32                               { return hashOf(op) }
func (op bceGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.shape.Clone(), nil }
func (op bceGradOp) Do(in ...G.Value) (G.Value, error)              { return op.UsePreallocDo(nil, in...) }
func (op bceGradOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	l, x, err := sameSize32(op, 3, in)
	if err != nil {
		return nil, err
	}
	g := float32(Scalar(in[2]))
	out, d := op.own.output32(prealloc, op.shape...)
	scale := g / float32(len(l))
	Parallel(len(l), func(i0, i1 int) {
		for i, v := range l[i0:i1] {
			d[i0+i] = (sigmoid32(v) - x[i0+i]) * scale
		}
	})
	return out, nil
}

// sigmoid32 is 1/(1 + e^−l) in float32, computed in float64.
func sigmoid32(l float32) float32 { return float32(1 / (1 + math.Exp(-float64(l)))) }
