package ops

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// copyReshapeOp is a reshape that copies: its output has memory of its own.
// Gorgonia's Reshape (v0.9.18) returns a shallow clone sharing its input's
// memory, yet the tape machine gives it a register of its own whenever the
// input is still live, and treats that register as a separate buffer: an op
// that later works in place on it once the reshape is dead (Square's
// gradient 2·r, Sub, HadamardProd, …) overwrites the input too. When the
// input is the output of an op whose gradient reads it (Tanh: 1 − y²,
// Sigmoid: y(1 − y), Exp, Sqrt, Softmax, Dense with tanh or ReLU), that
// gradient is then computed from the overwritten values. The gradient of
// this op is the same copying reshape back to the input's shape. It writes
// into its own output (owned), like convOp. Float32 or float64.
type copyReshapeOp struct {
	fresh
	from, to tensor.Shape
	own      *owned
}

var (
	_ G.SDOp            = copyReshapeOp{}
	_ G.UsePreallocDoer = copyReshapeOp{}
)

// ReshapeCopy returns x (float32 or float64, not a scalar) reshaped to the
// shape to of as many elements, in memory of its own: unlike gorgonia's
// Reshape, a view, no op that later works in place on the result can
// overwrite x (see copyReshapeOp). Its gradient is the same copying
// reshape back to x's shape. It returns an error for another dtype or
// size.
func ReshapeCopy(x *G.Node, to tensor.Shape) (*G.Node, error) {
	from := x.Shape()
	if dt := x.Dtype(); dt != tensor.Float64 && dt != tensor.Float32 {
		return nil, fmt.Errorf("reshape: float32 or float64 only, got %v", dt)
	}
	if from.IsScalar() || len(to) == 0 || from.TotalSize() != to.TotalSize() {
		return nil, fmt.Errorf("cannot reshape %v to %v", from, to)
	}
	return G.ApplyOp(copyReshapeOp{from: from.Clone(), to: to.Clone(), own: new(owned)}, x)
}

func (op copyReshapeOp) Arity() int { return 1 }
func (op copyReshapeOp) Type() hm.Type {
	return hm.NewFnType(tensorType(op.from.Dims()), tensorType(op.to.Dims()))
}
func (op copyReshapeOp) String() string                                 { return fmt.Sprintf("ReshapeCopy%v→%v", op.from, op.to) }
func (op copyReshapeOp) WriteHash(h hash.Hash)                          { fmt.Fprint(h, op.String()) }
func (op copyReshapeOp) Hashcode() uint32                               { return hashOf(op) }
func (op copyReshapeOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.to.Clone(), nil }
func (op copyReshapeOp) Do(in ...G.Value) (G.Value, error)              { return op.UsePreallocDo(nil, in...) }
func (op copyReshapeOp) UsePreallocDo(_ G.Value, in ...G.Value) (G.Value, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("%v: want 1 input, got %d", op, len(in))
	}
	x, ok := in[0].(*tensor.Dense)
	if !ok || x.Shape().TotalSize() != op.to.TotalSize() {
		return nil, fmt.Errorf("%v: want a dense tensor of %d elements, got %T %v", op, op.to.TotalSize(), in[0], in[0].Shape())
	}
	if x.IsView() {
		x = x.Materialize().(*tensor.Dense)
	}
	// never the tape's preallocated value: it may be the dead value of a
	// gorgonia Reshape elsewhere in the graph, a view of a live tensor
	out := op.own.output(nil, x.Dtype(), op.to...)
	n := 0
	switch src := x.Data().(type) {
	case []float64:
		n = copy(out.Data().([]float64), src)
	case []float32:
		n = copy(out.Data().([]float32), src)
	default:
		return nil, fmt.Errorf("%v: want float32 or float64 data, got %T", op, src)
	}
	if n != op.to.TotalSize() {
		return nil, fmt.Errorf("%v: copied %d of %d elements", op, n, op.to.TotalSize())
	}
	return out, nil
}
func (op copyReshapeOp) DiffWRT(int) []bool { return []bool{true} }
func (op copyReshapeOp) SymDiff(_ G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	d, err := G.ApplyOp(copyReshapeOp{from: op.to, to: op.from, own: new(owned)}, grad)
	return G.Nodes{d}, err
}
