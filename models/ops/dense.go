package ops

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	"gonum.org/v1/gonum/blas"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// A dense layer is one fused op, y = act(x·W + b): one GEMM with the bias
// and the activation applied in the same pass over the output, where stock
// gorgonia runs a matmul, a broadcast add and an activation, each with its
// own output and gradient ops (the profile of the oracle's training: ~40 %
// of its time in copies, broadcasts and the ReLU's comparison). The
// gradient is three ops sharing dz = dy ⊙ act'(y): dx = dz·Wᵀ, dW = xᵀ·dz
// and db = Σ_rows dz. Float32 or float64.

// denseOp is y = act(x·W + b) for x: M×In, W: In×Out, b: 1×Out.
type denseOp struct {
	fresh
	M, In, Out int
	Act        string // "", ActReLU or ActTanh
	Dt         tensor.Dtype
	own        *owned
}

// denseGradOp is one part of denseOp's gradient. which: "dz" (inputs y,
// dy), "x" (dz, W), "w" (x, dz), "b" (dz).
type denseGradOp struct {
	denseOp
	which string
	grad  *owned
}

var (
	_ G.SDOp            = denseOp{}
	_ G.UsePreallocDoer = denseOp{}
	_ G.UsePreallocDoer = denseGradOp{}
)

// Activations of Dense.
const (
	ActReLU = "relu" // max(v, 0)
	ActTanh = "tanh" // tanh(v)
)

// Dense returns the fully connected layer
//
//	y = act(x·W + b)
//
// of x (M×In), the weights w (In×Out) and the bias b (1×Out), the bias
// added to every row, act "" (none), ActReLU or ActTanh, as one op: one
// GEMM with the bias and the activation applied in the same pass over y.
// Its gradients are dx = dz·Wᵀ, dW = xᵀ·dz and db = Σ_rows dz with
// dz = dy ⊙ act'(y) (ReLU' taken as 0 at 0). All three must be float32 or
// all float64; it returns an error otherwise or when the shapes do not fit.
func Dense(x, w, b *G.Node, act string) (*G.Node, error) {
	xs, ws := x.Shape(), w.Shape()
	if len(xs) != 2 || len(ws) != 2 || xs[1] != ws[0] {
		return nil, fmt.Errorf("dense: input %v and weight %v do not fit", xs, ws)
	}
	if x.Dtype() != w.Dtype() || x.Dtype() != b.Dtype() || (x.Dtype() != tensor.Float32 && x.Dtype() != tensor.Float64) {
		return nil, fmt.Errorf("dense: want float32 or float64 throughout, got %v, %v, %v", x.Dtype(), w.Dtype(), b.Dtype())
	}
	return G.ApplyOp(denseOp{M: xs[0], In: xs[1], Out: ws[1], Act: act, Dt: x.Dtype(), own: new(owned)}, x, w, b)
}

func (op denseOp) Arity() int { return 3 }
func (op denseOp) Type() hm.Type {
	t := tensorType(2)
	return hm.NewFnType(t, t, t, t)
}
func (op denseOp) String() string {
	return fmt.Sprintf("Dense%s(%dx%d·%dx%d,%v)", op.Act, op.M, op.In, op.In, op.Out, op.Dt)
}
func (op denseOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op denseOp) Hashcode() uint32      { return hashOf(op) }
func (op denseOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.M, op.Out}, nil
}
func (op denseOp) Do(in ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, in...) }
func (op denseOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	if len(in) != 3 {
		return nil, fmt.Errorf("%v: want 3 inputs, got %d", op, len(in))
	}
	out := op.own.output(prealloc, op.Dt, op.M, op.Out)
	switch y := out.Data().(type) {
	case []float64:
		denseForward(op, in[0].Data().([]float64), in[1].Data().([]float64), in[2].Data().([]float64), y)
	case []float32:
		denseForward(op, in[0].Data().([]float32), in[1].Data().([]float32), in[2].Data().([]float32), y)
	}
	return out, nil
}
func (op denseOp) DiffWRT(int) []bool { return []bool{true, true, true} }
func (op denseOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	dz := grad
	if op.Act != "" {
		var err error
		if dz, err = G.ApplyOp(denseGradOp{op, "dz", new(owned)}, output, grad); err != nil {
			return nil, err
		}
	}
	return applyOps(
		opOn(denseGradOp{op, "x", new(owned)}, dz, inputs[1]),
		opOn(denseGradOp{op, "w", new(owned)}, inputs[0], dz),
		opOn(denseGradOp{op, "b", new(owned)}, dz))
}

func (op denseGradOp) Arity() int {
	if op.which == "b" {
		return 1
	}
	return 2
}
func (op denseGradOp) Type() hm.Type {
	t := tensorType(2)
	if op.which == "b" {
		return hm.NewFnType(t, t)
	}
	return hm.NewFnType(t, t, t)
}
func (op denseGradOp) String() string        { return "Grad" + op.which + "·" + op.denseOp.String() }
func (op denseGradOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op denseGradOp) Hashcode() uint32      { return hashOf(op) }
func (op denseGradOp) shape() (int, int) {
	switch op.which {
	case "x":
		return op.M, op.In
	case "w":
		return op.In, op.Out
	case "b":
		return 1, op.Out
	}
	return op.M, op.Out
}
func (op denseGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	r, c := op.shape()
	return tensor.Shape{r, c}, nil
}
func (op denseGradOp) Do(in ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, in...) }
func (op denseGradOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	if len(in) != op.Arity() {
		return nil, fmt.Errorf("%v: want %d inputs, got %d", op, op.Arity(), len(in))
	}
	r, c := op.shape()
	out := op.grad.output(prealloc, op.Dt, r, c)
	switch d := out.Data().(type) {
	case []float64:
		denseGrad(op, in, d)
	case []float32:
		denseGrad(op, in, d)
	}
	return out, nil
}

// denseForward is y = act(x·W + b).
func denseForward[T floats](op denseOp, x, w, b, y []T) {
	for i := 0; i < op.M; i++ {
		copy(y[i*op.Out:(i+1)*op.Out], b)
	}
	gemmPar(blas.NoTrans, blas.NoTrans, op.M, op.Out, op.In, x, w, true, y)
	switch op.Act {
	case ActReLU:
		for i, v := range y {
			y[i] = max(v, 0)
		}
	case ActTanh:
		for i, v := range y {
			y[i] = T(math.Tanh(float64(v)))
		}
	}
}

// denseGrad computes one part of the dense op's gradient into d.
func denseGrad[T floats](op denseGradOp, in []G.Value, d []T) {
	M, In, Out := op.M, op.In, op.Out
	a := in[0].Data().([]T)
	switch op.which {
	case "dz": // dy ⊙ act'(y)
		dy := in[1].Data().([]T)
		switch op.Act {
		case ActReLU:
			for i, y := range a {
				if y > 0 {
					d[i] = dy[i]
				} else {
					d[i] = 0
				}
			}
		case ActTanh:
			for i, y := range a {
				d[i] = dy[i] * (1 - y*y)
			}
		}
	case "x": // dz·Wᵀ
		gemmPar(blas.NoTrans, blas.Trans, M, In, Out, a, in[1].Data().([]T), false, d)
	case "w": // xᵀ·dz
		gemmPar(blas.Trans, blas.NoTrans, In, Out, M, a, in[1].Data().([]T), false, d)
	case "b": // Σ_rows dz
		clear(d)
		for i := 0; i < M; i++ {
			for j, v := range a[i*Out : (i+1)*Out] {
				d[j] += v
			}
		}
	}
}
