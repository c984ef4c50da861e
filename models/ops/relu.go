package ops

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The autoencoder's ReLUs and its loss as custom ops: stock gorgonia runs
// Rectify as x ⊙ (x ≥ 0), a comparison, a clone and a product, each with
// its own gradient ops, and the binary cross-entropy as softplus, product,
// difference and mean (~20 % of the autoencoder's CPU after the
// convolutions were made fast). Here each is one pass over slices, with
// one gradient op (bce.go for the loss). Float32 only.

// reluOp is y = max(x, 0) elementwise; reluGradOp is dx = dy where y > 0,
// else 0 (PyTorch's convention at 0).
type reluOp struct {
	fresh
	shape tensor.Shape
	own   *owned
}
type reluGradOp reluOp

var (
	_ G.SDOp            = reluOp{}
	_ G.UsePreallocDoer = reluOp{}
	_ G.UsePreallocDoer = reluGradOp{}
)

// ReLU returns max(x, 0) elementwise for a float32 x of any shape, or an
// error for another dtype. Its gradient
// is 0 where x ≤ 0 (as PyTorch's; gorgonia's Rectify passes the gradient
// at exactly 0).
func ReLU(x *G.Node) (*G.Node, error) {
	if x.Dtype() != tensor.Float32 {
		return nil, fmt.Errorf("relu: float32 only, got %v", x.Dtype())
	}
	return G.ApplyOp(reluOp{shape: x.Shape().Clone(), own: new(owned)}, x)
}

func (op reluOp) Arity() int { return 1 }
func (op reluOp) Type() hm.Type {
	t := tensorType(op.shape.Dims())
	return hm.NewFnType(t, t)
}
func (op reluOp) String() string                                 { return fmt.Sprintf("ReLU%v", op.shape) }
func (op reluOp) WriteHash(h hash.Hash)                          { fmt.Fprint(h, op.String()) }
func (op reluOp) Hashcode() uint32                               { return hashOf(op) }
func (op reluOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.shape.Clone(), nil }
func (op reluOp) Do(in ...G.Value) (G.Value, error)              { return op.UsePreallocDo(nil, in...) }
func (op reluOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("%v: want 1 input, got %d", op, len(in))
	}
	x, err := float32s(in[0])
	if err != nil {
		return nil, fmt.Errorf("%v: %w", op, err)
	}
	out, y := op.own.output32(prealloc, op.shape...)
	Parallel(len(x), func(i0, i1 int) {
		for i, v := range x[i0:i1] {
			y[i0+i] = max(v, 0) // branch-free: the signs are random
		}
	})
	return out, nil
}
func (op reluOp) DiffWRT(int) []bool { return []bool{true} }
func (op reluOp) SymDiff(_ G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	d, err := G.ApplyOp(reluGradOp{shape: op.shape, own: new(owned)}, output, grad)
	return G.Nodes{d}, err
}

func (op reluGradOp) Arity() int { return 2 }
func (op reluGradOp) Type() hm.Type {
	t := tensorType(op.shape.Dims())
	return hm.NewFnType(t, t, t)
}
func (op reluGradOp) String() string                                 { return fmt.Sprintf("ReLUGrad%v", op.shape) }
func (op reluGradOp) WriteHash(h hash.Hash)                          { fmt.Fprint(h, op.String()) }
func (op reluGradOp) Hashcode() uint32                               { return hashOf(op) }
func (op reluGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.shape.Clone(), nil }
func (op reluGradOp) Do(in ...G.Value) (G.Value, error)              { return op.UsePreallocDo(nil, in...) }
func (op reluGradOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	y, dy, err := sameSize32(op, 2, in)
	if err != nil {
		return nil, err
	}
	out, dx := op.own.output32(prealloc, op.shape...)
	Parallel(len(y), func(i0, i1 int) {
		// y ≥ 0, so y > 0 exactly when its bits are not 0: dx = dy with
		// every bit masked off where y = 0, branch-free
		d := dy[i0:i1]
		for i, v := range y[i0:i1] {
			b := math.Float32bits(v)
			mask := uint32(int32(b|-b) >> 31)
			dx[i0+i] = math.Float32frombits(math.Float32bits(d[i]) & mask)
		}
	})
	return out, nil
}
