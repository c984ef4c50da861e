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
// one gradient op. Float32 only.

// reluOp is y = max(x, 0) elementwise; reluGradOp is dx = dy where y > 0,
// else 0 (PyTorch's convention at 0).
type reluOp struct {
	shape tensor.Shape
	own   *owned
}
type reluGradOp struct {
	shape tensor.Shape
	own   *owned
}

// bceOp is the mean binary cross-entropy of logits l against targets x in
// [0, 1]; bceGradOp its gradient with respect to l.
type bceOp struct{ shape tensor.Shape }
type bceGradOp struct {
	shape tensor.Shape
	own   *owned
}

var (
	_ G.SDOp            = reluOp{}
	_ G.UsePreallocDoer = reluOp{}
	_ G.UsePreallocDoer = reluGradOp{}
	_ G.SDOp            = bceOp{}
	_ G.UsePreallocDoer = bceGradOp{}
)

// ReLU is max(x, 0) elementwise for a float32 x of any shape. Its gradient
// is 0 where x ≤ 0 (as PyTorch's; gorgonia's Rectify passes the gradient
// at exactly 0).
func ReLU(x *G.Node) (*G.Node, error) {
	if x.Dtype() != tensor.Float32 {
		return nil, fmt.Errorf("relu: float32 only, got %v", x.Dtype())
	}
	return G.ApplyOp(reluOp{shape: x.Shape().Clone(), own: new(owned)}, x)
}

// BCEWithLogits is the mean binary cross-entropy of the logits l against
// the targets x (same shape, float32), through the sigmoid σ:
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

func (op reluOp) Arity() int { return 1 }
func (op reluOp) Type() hm.Type {
	t := G.TensorType{Dims: op.shape.Dims(), Of: hm.TypeVariable('a')}
	return hm.NewFnType(t, t)
}
func (op reluOp) ReturnsPtr() bool                               { return false }
func (op reluOp) CallsExtern() bool                              { return false }
func (op reluOp) OverwritesInput() int                           { return -1 }
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
	t := G.TensorType{Dims: op.shape.Dims(), Of: hm.TypeVariable('a')}
	return hm.NewFnType(t, t, t)
}
func (op reluGradOp) ReturnsPtr() bool                               { return false }
func (op reluGradOp) CallsExtern() bool                              { return false }
func (op reluGradOp) OverwritesInput() int                           { return -1 }
func (op reluGradOp) String() string                                 { return fmt.Sprintf("ReLUGrad%v", op.shape) }
func (op reluGradOp) WriteHash(h hash.Hash)                          { fmt.Fprint(h, op.String()) }
func (op reluGradOp) Hashcode() uint32                               { return hashOf(op) }
func (op reluGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.shape.Clone(), nil }
func (op reluGradOp) Do(in ...G.Value) (G.Value, error)              { return op.UsePreallocDo(nil, in...) }
func (op reluGradOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	if len(in) != 2 {
		return nil, fmt.Errorf("%v: want 2 inputs, got %d", op, len(in))
	}
	y, err1 := float32s(in[0])
	dy, err2 := float32s(in[1])
	if err1 != nil || err2 != nil || len(y) != len(dy) {
		return nil, fmt.Errorf("%v: want two float32 tensors of one size", op)
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
	t := G.TensorType{Dims: op.shape.Dims(), Of: hm.TypeVariable('a')}
	return hm.NewFnType(t, t, hm.TypeVariable('a'))
}
func (op bceOp) ReturnsPtr() bool      { return false }
func (op bceOp) CallsExtern() bool     { return false }
func (op bceOp) OverwritesInput() int  { return -1 }
func (op bceOp) String() string        { return fmt.Sprintf("BCEWithLogits%v", op.shape) }
func (op bceOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op bceOp) Hashcode() uint32      { return hashOf(op) }
func (op bceOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.ScalarShape(), nil
}
func (op bceOp) Do(in ...G.Value) (G.Value, error) {
	if len(in) != 2 {
		return nil, fmt.Errorf("%v: want 2 inputs, got %d", op, len(in))
	}
	l, err1 := float32s(in[0])
	x, err2 := float32s(in[1])
	if err1 != nil || err2 != nil || len(l) != len(x) {
		return nil, fmt.Errorf("%v: want two float32 tensors of one size", op)
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
	t := G.TensorType{Dims: op.shape.Dims(), Of: hm.TypeVariable('a')}
	return hm.NewFnType(t, t, hm.TypeVariable('a'), t)
}
func (op bceGradOp) ReturnsPtr() bool                               { return false }
func (op bceGradOp) CallsExtern() bool                              { return false }
func (op bceGradOp) OverwritesInput() int                           { return -1 }
func (op bceGradOp) String() string                                 { return fmt.Sprintf("BCEWithLogitsGrad%v", op.shape) }
func (op bceGradOp) WriteHash(h hash.Hash)                          { fmt.Fprint(h, op.String()) }
func (op bceGradOp) Hashcode() uint32                               { return hashOf(op) }
func (op bceGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.shape.Clone(), nil }
func (op bceGradOp) Do(in ...G.Value) (G.Value, error)              { return op.UsePreallocDo(nil, in...) }
func (op bceGradOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	if len(in) != 3 {
		return nil, fmt.Errorf("%v: want 3 inputs, got %d", op, len(in))
	}
	l, err1 := float32s(in[0])
	x, err2 := float32s(in[1])
	if err1 != nil || err2 != nil || len(l) != len(x) {
		return nil, fmt.Errorf("%v: want two float32 tensors of one size", op)
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
// into its own output (owned), like onnxConvOp. Float32 or float64.
type copyReshapeOp struct {
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
	a := hm.TypeVariable('a')
	return hm.NewFnType(G.TensorType{Dims: op.from.Dims(), Of: a}, G.TensorType{Dims: op.to.Dims(), Of: a})
}
func (op copyReshapeOp) ReturnsPtr() bool                               { return false }
func (op copyReshapeOp) CallsExtern() bool                              { return false }
func (op copyReshapeOp) OverwritesInput() int                           { return -1 }
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
