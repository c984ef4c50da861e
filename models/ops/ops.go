// Package ops holds liesweep's custom gorgonia operators: the fused layers
// and losses that replace chains of stock gorgonia ops where a profile of
// the training showed the chain's copies, broadcasts and boxed element
// loops (NOTES-gorgonia). Each op computes its value in tight slice loops
// over one or a few GEMMs, and has hand-written gradient ops:
//
//   - Conv3x3, UpConv3x3 and Upsample2x: the autoencoder's convolutions
//     (float32);
//   - Dense: a fully connected layer with its activation (float32 or
//     float64);
//   - ReLU and BCEWithLogits: the autoencoder's activation and loss
//     (float32);
//   - LinearTerms and MovedPoints: the loss terms of linear generators in a
//     graph whose size does not grow with the number of pairs (float64);
//   - Conv: ONNX's convolution with strides, dilations and unequal pads
//     (float64);
//   - ReshapeCopy: a reshape into memory of its own (float32 or float64).
//
// Every op writes into the output it kept from the previous run of the tape
// machine (owned), so a training step allocates nothing large, and splits
// its work over the cores in parts fixed by the shapes alone, so its result
// is the same bits on any number of cores.
package ops

import (
	"fmt"
	"hash/fnv"
	"math"
	"runtime"
	"sync"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// floats are the element types of the ops that take either precision.
type floats interface{ float32 | float64 }

// Scalar returns the value of a scalar (or the first element of a tensor)
// of float32 or float64 data as a float64, and NaN for any other data.
func Scalar(v G.Value) float64 {
	switch x := v.Data().(type) {
	case float64:
		return x
	case float32:
		return float64(x)
	case []float64:
		return x[0]
	case []float32:
		return float64(x[0])
	}
	return math.NaN()
}

// Parallel runs f over [0, n) split into one contiguous range per core,
// and returns when every range is done.
func Parallel(n int, f func(i0, i1 int)) {
	w := min(n, runtime.GOMAXPROCS(0))
	if w <= 1 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	for k := 0; k < w; k++ {
		i0, i1 := k*n/w, (k+1)*n/w
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(i0, i1)
		}()
	}
	wg.Wait()
}

// pool hands out scratch buffers. It keeps at most 8, of at most keep
// elements each.
type pool[T any] struct {
	sync.Mutex
	free [][]T
	keep int
}

// Ops run one at a time per graph, so a handful of buffers serves every
// convolution of a training: the float32 ones of the autoencoder's
// convolutions, the float64 patch matrices of Conv.
var (
	buf32 = &pool[float32]{keep: math.MaxInt}
	buf64 = &pool[float64]{keep: 1 << 22}
)

// get returns a buffer of n elements, of unspecified content.
func (p *pool[T]) get(n int) []T {
	p.Lock()
	defer p.Unlock()
	for i, b := range p.free {
		if cap(b) >= n {
			p.free = append(p.free[:i], p.free[i+1:]...)
			return b[:n]
		}
	}
	return make([]T, n)
}

// put returns b to the pool.
func (p *pool[T]) put(b []T) {
	p.Lock()
	defer p.Unlock()
	if len(p.free) < 8 && cap(b) <= p.keep {
		p.free = append(p.free, b)
	}
}

// fresh gives an op, embedded, the answers of one that computes a value of
// its own from its inputs: it returns no pointer into them, calls nothing
// outside Go and overwrites none of them.
type fresh struct{}

func (fresh) ReturnsPtr() bool     { return false }
func (fresh) CallsExtern() bool    { return false }
func (fresh) OverwritesInput() int { return -1 }

// applied is an op with the nodes it applies to.
type applied struct {
	op G.Op
	in []*G.Node
}

func opOn(op G.Op, in ...*G.Node) applied { return applied{op, in} }

// applyOps applies each op to its nodes, in order, and returns the results
// (the gradients of an op's SymDiff).
func applyOps(ops ...applied) (G.Nodes, error) {
	out := make(G.Nodes, len(ops))
	for i, a := range ops {
		var err error
		if out[i], err = G.ApplyOp(a.op, a.in...); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// owned is the output tensor an op keeps from one run of the tape machine
// to the next. The tape machine drops every value on Reset(), so an op that
// only used the preallocated value it is offered would allocate its output
// again every training step; instead it writes into the tensor it returned
// last time, which nothing reads any more once the step is over (gorgonia
// reuses a dead value's register only within one run). Each node's op has
// its own.
type owned struct{ t *tensor.Dense }

// output returns the tensor to write into: the tape's preallocated value
// when it fits, else the op's own from the last run, else a new one kept
// for the next.
func (o *owned) output(prealloc G.Value, dt tensor.Dtype, shape ...int) *tensor.Dense {
	fits := func(t *tensor.Dense) bool { return t != nil && t.Dtype() == dt && t.Shape().Eq(tensor.Shape(shape)) }
	if t, ok := prealloc.(*tensor.Dense); ok && fits(t) {
		return t
	}
	if o != nil && fits(o.t) {
		return o.t
	}
	t := tensor.New(tensor.WithShape(shape...), tensor.Of(dt))
	if o != nil {
		o.t = t
	}
	return t
}

func (o *owned) output32(prealloc G.Value, shape ...int) (*tensor.Dense, []float32) {
	t := o.output(prealloc, tensor.Float32, shape...)
	return t, t.Data().([]float32)
}

func hashOf(op fmt.Stringer) uint32 {
	h := fnv.New32a()
	fmt.Fprint(h, op.String())
	return h.Sum32()
}

// tensorType is the type of a tensor of rank dims, of any element type.
func tensorType(dims int) G.TensorType { return G.TensorType{Dims: dims, Of: hm.TypeVariable('a')} }

func float32s(v G.Value) ([]float32, error) {
	d, ok := v.Data().([]float32)
	if !ok {
		return nil, fmt.Errorf("want float32 data, got %T", v.Data())
	}
	return d, nil
}

func floats3(op fmt.Stringer, in []G.Value) (a, b, c []float32, err error) {
	if len(in) != 3 {
		return nil, nil, nil, fmt.Errorf("%v: want 3 inputs, got %d", op, len(in))
	}
	if a, err = float32s(in[0]); err == nil {
		if b, err = float32s(in[1]); err == nil {
			c, err = float32s(in[2])
		}
	}
	if err != nil {
		err = fmt.Errorf("%v: %w", op, err)
	}
	return
}

// sameSize32 returns the data of the first two of an op's n inputs,
// checking that it has n and that those two are float32 of one size.
func sameSize32(op fmt.Stringer, n int, in []G.Value) (a, b []float32, err error) {
	if len(in) != n {
		return nil, nil, fmt.Errorf("%v: want %d inputs, got %d", op, n, len(in))
	}
	a, err1 := float32s(in[0])
	b, err2 := float32s(in[1])
	if err1 != nil || err2 != nil || len(a) != len(b) {
		return nil, nil, fmt.Errorf("%v: want two float32 tensors of one size", op)
	}
	return a, b, nil
}

// float64Inputs returns the data of an op's n inputs, checking that each is
// float64 and holds the elements of its shape in want.
func float64Inputs(op fmt.Stringer, n int, in []G.Value, want ...tensor.Shape) ([][]float64, error) {
	if len(in) != n {
		return nil, fmt.Errorf("%v: want %d inputs, got %d", op, n, len(in))
	}
	d := make([][]float64, n)
	for i, v := range in {
		f, ok := v.Data().([]float64)
		if !ok || len(f) != want[i].TotalSize() {
			return nil, fmt.Errorf("%v: input %d is %v %v, want float64 %v", op, i, v.Dtype(), v.Shape(), want[i])
		}
		d[i] = f
	}
	return d, nil
}

// biasGrad is db[c] = Σ_b Σ_p dy[b, c, p] for dy of B×C×P, the positions
// of each image summed first, then the images in order.
func biasGrad[T floats](dy, db []T, B, C, P int) {
	clear(db)
	for b := 0; b < B; b++ {
		for co := 0; co < C; co++ {
			var s T
			for _, v := range dy[(b*C+co)*P : (b*C+co+1)*P] {
				s += v
			}
			db[co] += s
		}
	}
}
