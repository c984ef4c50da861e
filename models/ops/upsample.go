package ops

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// upsampleOp repeats each pixel 2×2; upsampleGradOp sums 2×2 blocks.
type upsampleOp struct {
	fresh
	B, C, H, W int
	own        *owned
}
type upsampleGradOp upsampleOp

var (
	_ G.SDOp            = upsampleOp{}
	_ G.UsePreallocDoer = upsampleOp{}
	_ G.UsePreallocDoer = upsampleGradOp{}
)

// Upsample2x returns the nearest-neighbour 2× upsampling of x (B×C×H×W,
// float32), B×C×2H×2W:
//
//	y[b, c, i, j] = x[b, c, ⌊i/2⌋, ⌊j/2⌋],
//
// in slice loops where gorgonia's Upsample2D boxes each element. Its
// gradient sums each 2×2 block of dy. It returns an error for another
// input.
func Upsample2x(x *G.Node) (*G.Node, error) {
	s := x.Shape()
	if len(s) != 4 || x.Dtype() != tensor.Float32 {
		return nil, fmt.Errorf("upsample2x: want a float32 B×C×H×W input, got %v %v", x.Dtype(), s)
	}
	return G.ApplyOp(upsampleOp{B: s[0], C: s[1], H: s[2], W: s[3], own: new(owned)}, x)
}

func (op upsampleOp) Arity() int    { return 1 }
func (op upsampleOp) Type() hm.Type { t := tensorType(4); return hm.NewFnType(t, t) }
func (op upsampleOp) String() string {
	return fmt.Sprintf("Upsample2x(%dx%dx%dx%d)", op.B, op.C, op.H, op.W)
}
func (op upsampleOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op upsampleOp) Hashcode() uint32      { return hashOf(op) }
func (op upsampleOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.B, op.C, 2 * op.H, 2 * op.W}, nil
}
func (op upsampleOp) Do(in ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, in...) }
func (op upsampleOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	x, err := float32s(in[0])
	if err != nil {
		return nil, fmt.Errorf("%v: %w", op, err)
	}
	out, y := op.own.output32(prealloc, op.B, op.C, 2*op.H, 2*op.W)
	W2 := 2 * op.W
	Parallel(op.B*op.C, func(p0, p1 int) {
		for p := p0; p < p1; p++ {
			src := x[p*op.H*op.W : (p+1)*op.H*op.W]
			dst := y[p*4*op.H*op.W : (p+1)*4*op.H*op.W]
			for i := 0; i < op.H; i++ {
				row := dst[2*i*W2 : (2*i+1)*W2]
				for j, v := range src[i*op.W : (i+1)*op.W] {
					row[2*j], row[2*j+1] = v, v
				}
				copy(dst[(2*i+1)*W2:(2*i+2)*W2], row)
			}
		}
	})
	return out, nil
}
func (op upsampleOp) DiffWRT(int) []bool { return []bool{true} }
func (op upsampleOp) SymDiff(_ G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	d, err := G.ApplyOp(upsampleGradOp{B: op.B, C: op.C, H: op.H, W: op.W, own: new(owned)}, grad)
	return G.Nodes{d}, err
}

func (op upsampleGradOp) Arity() int    { return 1 }
func (op upsampleGradOp) Type() hm.Type { t := tensorType(4); return hm.NewFnType(t, t) }
func (op upsampleGradOp) String() string {
	return fmt.Sprintf("Upsample2xGrad(%dx%dx%dx%d)", op.B, op.C, op.H, op.W)
}
func (op upsampleGradOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op upsampleGradOp) Hashcode() uint32      { return hashOf(op) }
func (op upsampleGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.B, op.C, op.H, op.W}, nil
}
func (op upsampleGradOp) Do(in ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, in...) }
func (op upsampleGradOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	dy, err := float32s(in[0])
	if err != nil {
		return nil, fmt.Errorf("%v: %w", op, err)
	}
	out, dx := op.own.output32(prealloc, op.B, op.C, op.H, op.W)
	W2 := 2 * op.W
	Parallel(op.B*op.C, func(p0, p1 int) {
		for p := p0; p < p1; p++ {
			src := dy[p*4*op.H*op.W : (p+1)*4*op.H*op.W]
			dst := dx[p*op.H*op.W : (p+1)*op.H*op.W]
			for i := 0; i < op.H; i++ {
				r0, r1 := src[2*i*W2:(2*i+1)*W2], src[(2*i+1)*W2:(2*i+2)*W2]
				for j := range dst[i*op.W : (i+1)*op.W] {
					dst[i*op.W+j] = r0[2*j] + r0[2*j+1] + r1[2*j] + r1[2*j+1]
				}
			}
		}
	})
	return out, nil
}
