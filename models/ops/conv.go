package ops

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	"gonum.org/v1/gonum/blas"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// ONNX's Conv is a float64 op of its own rather than gorgonia's Conv2d:
// Conv2d pads symmetrically only, its im2col op leaves the dilation out of
// its hash (two convolutions of one input that differ only in dilation
// would be merged by common-subexpression elimination), and it holds the
// patch matrix of the whole batch. Here each image is im2col into a patch
// matrix, one GEMM with the weights, and the bias added first; the input
// gradient is the transposed GEMM and col2im, the weight gradient the sum
// over images of dy·colsᵀ. A 1-D convolution is the 2-D one with H = 1.

// ConvGeom is the geometry of a convolution of B images Cin×H×W with
// Cout filters Cin×KH×KW: strides SH, SW, dilations DH, DW, and PT, PL, PB,
// PR zeros padded at the top, left, bottom and right. Rank is the rank of
// the input, 3 for [B, Cin, W] (H = KH = 1) or 4 for [B, Cin, H, W].
type ConvGeom struct {
	Rank               int
	B, Cin, H, W, Cout int
	KH, KW, SH, SW     int
	DH, DW             int
	PT, PL, PB, PR     int
	bias               bool // Conv has a bias input (set by Conv)
}

// Ho and Wo are the output's height and width,
//
//	Ho = ⌊(H + PT + PB − (DH·(KH−1) + 1)) / SH⌋ + 1.
func (g ConvGeom) Ho() int { return (g.H+g.PT+g.PB-(g.DH*(g.KH-1)+1))/g.SH + 1 }
func (g ConvGeom) Wo() int { return (g.W+g.PL+g.PR-(g.DW*(g.KW-1)+1))/g.SW + 1 }

// P is the number of output positions of one image; K the rows of its
// patch matrix, one per weight of a filter.
func (g ConvGeom) P() int { return g.Ho() * g.Wo() }
func (g ConvGeom) K() int { return g.Cin * g.KH * g.KW }

func (g ConvGeom) String() string {
	return fmt.Sprintf("%dx%dx%dx%d→%d k%dx%d s%dx%d d%dx%d p%d,%d,%d,%d b%t r%d",
		g.B, g.Cin, g.H, g.W, g.Cout, g.KH, g.KW, g.SH, g.SW, g.DH, g.DW, g.PT, g.PL, g.PB, g.PR, g.bias, g.Rank)
}

// shape returns [B, C, H, W], or [B, C, W] for a 1-D convolution.
func (g ConvGeom) shape(c, h, w int) tensor.Shape {
	if g.Rank == 3 {
		return tensor.Shape{g.B, c, w}
	}
	return tensor.Shape{g.B, c, h, w}
}

func (g ConvGeom) inShape() tensor.Shape  { return g.shape(g.Cin, g.H, g.W) }
func (g ConvGeom) OutShape() tensor.Shape { return g.shape(g.Cout, g.Ho(), g.Wo()) }
func (g ConvGeom) wShape() tensor.Shape {
	if g.Rank == 3 {
		return tensor.Shape{g.Cout, g.Cin, g.KW}
	}
	return tensor.Shape{g.Cout, g.Cin, g.KH, g.KW}
}

// inside returns the output positions [lo, hi) of no whose tap k reads an
// input position inside [0, n), for stride s, dilation d and p padded
// before: those o with 0 ≤ o·s − p + k·d < n.
func inside(n, no, k, s, d, p int) (lo, hi int) {
	off := k*d - p
	if off < 0 {
		lo = (-off + s - 1) / s
	}
	if n-1-off >= 0 {
		hi = (n-1-off)/s + 1
	}
	lo = min(lo, no)
	return lo, min(max(hi, lo), no)
}

// im2col writes the K×P patch matrix of one image x (Cin×H×W) into cols:
// row (ci·KH + ky)·KW + kx, column oy·Wo + ox holds
// x[ci, oy·SH − PT + ky·DH, ox·SW − PL + kx·DW], 0 in the padding.
func (g ConvGeom) im2col(x, cols []float64) {
	g.patches(cols, x, false)
}

// col2im is im2col's adjoint: it sums the K×P matrix dcols into dx
// (Cin×H×W), each entry onto the input position it was read from.
func (g ConvGeom) col2im(dcols, dx []float64) {
	clear(dx)
	g.patches(dcols, dx, true)
}

// patches copies x into cols (im2col), or adds cols into x when back.
func (g ConvGeom) patches(cols, x []float64, back bool) {
	Ho, Wo, P := g.Ho(), g.Wo(), g.P()
	for ci := 0; ci < g.Cin; ci++ {
		plane := x[ci*g.H*g.W : (ci+1)*g.H*g.W]
		for ky := 0; ky < g.KH; ky++ {
			oy0, oy1 := inside(g.H, Ho, ky, g.SH, g.DH, g.PT)
			for kx := 0; kx < g.KW; kx++ {
				ox0, ox1 := inside(g.W, Wo, kx, g.SW, g.DW, g.PL)
				row := cols[((ci*g.KH+ky)*g.KW+kx)*P:][:P]
				if !back {
					clear(row[:oy0*Wo])
					clear(row[oy1*Wo:])
				}
				for oy := oy0; oy < oy1; oy++ {
					r := row[oy*Wo : (oy+1)*Wo]
					src := plane[(oy*g.SH-g.PT+ky*g.DH)*g.W:][:g.W]
					ix := ox0*g.SW - g.PL + kx*g.DW
					if back {
						for ox := ox0; ox < ox1; ox++ {
							src[ix] += r[ox]
							ix += g.SW
						}
						continue
					}
					clear(r[:ox0])
					clear(r[ox1:])
					for ox := ox0; ox < ox1; ox++ {
						r[ox] = src[ix]
						ix += g.SW
					}
				}
			}
		}
	}
}

// forward is y = conv(x, w) + bias, one image at a time, the images
// spread over the cores (each is computed alone: the result does not
// depend on their number).
func (g ConvGeom) forward(x, w, bias, y []float64) {
	K, P, in, out := g.K(), g.P(), g.Cin*g.H*g.W, g.Cout*g.P()
	Parallel(g.B, func(b0, b1 int) {
		cols := buf64.get(K * P)
		defer buf64.put(cols)
		for b := b0; b < b1; b++ {
			yb := y[b*out : (b+1)*out]
			for co := 0; co < g.Cout; co++ {
				v := 0.0
				if bias != nil {
					v = bias[co]
				}
				r := yb[co*P : (co+1)*P]
				for i := range r {
					r[i] = v
				}
			}
			g.im2col(x[b*in:(b+1)*in], cols)
			gemm(blas.NoTrans, blas.NoTrans, g.Cout, P, K, w, cols, true, yb)
		}
	})
}

// gradInput is dx = col2im(wᵀ·dy), image by image.
func (g ConvGeom) gradInput(w, dy, dx []float64) {
	K, P, in, out := g.K(), g.P(), g.Cin*g.H*g.W, g.Cout*g.P()
	Parallel(g.B, func(b0, b1 int) {
		dcols := buf64.get(K * P)
		defer buf64.put(dcols)
		for b := b0; b < b1; b++ {
			gemm(blas.Trans, blas.NoTrans, K, P, g.Cout, w, dy[b*out:(b+1)*out], false, dcols)
			g.col2im(dcols, dx[b*in:(b+1)*in])
		}
	})
}

// convChunks is the number of parts the weight gradient's sum over
// images is split into, each summed on its own and the parts then added in
// order: a fixed number, so the result is the same on any number of cores.
const convChunks = 4

// gradWeight is dw = Σ_b dy_b·cols_bᵀ (Cout×K).
func (g ConvGeom) gradWeight(x, dy, dw []float64) {
	K, P, in, out := g.K(), g.P(), g.Cin*g.H*g.W, g.Cout*g.P()
	n := min(g.B, convChunks)
	if n == 0 {
		clear(dw)
		return
	}
	parts := make([][]float64, n)
	Parallel(n, func(c0, c1 int) {
		cols := buf64.get(K * P)
		defer buf64.put(cols)
		for c := c0; c < c1; c++ {
			parts[c] = make([]float64, g.Cout*K)
			for b := c * g.B / n; b < (c+1)*g.B/n; b++ {
				g.im2col(x[b*in:(b+1)*in], cols)
				gemm(blas.NoTrans, blas.Trans, g.Cout, K, P, dy[b*out:(b+1)*out], cols, true, parts[c])
			}
		}
	})
	copy(dw, parts[0])
	for _, p := range parts[1:] {
		for i, v := range p {
			dw[i] += v
		}
	}
}

// --- gorgonia ops ---

// convOp is y = conv(x, w) + bias over inputs x, w and, when g.bias,
// bias (a vector of Cout). It and its gradients write into their own
// output (owned), never into the tape's preallocated value: that may be
// the dead value of a gorgonia Reshape, a view that shares its memory with
// a tensor still in use.
type convOp struct {
	fresh
	g   ConvGeom
	own *owned
}

// convGradOp is one gradient of convOp: of the input (inputs w,
// dy), of the weight (inputs x, dy) or of the bias (input dy).
type convGradOp struct {
	fresh
	g     ConvGeom
	which string // "input", "weight", "bias"
	own   *owned
}

var (
	_ G.SDOp            = convOp{}
	_ G.UsePreallocDoer = convOp{}
	_ G.UsePreallocDoer = convGradOp{}
)

// Conv returns ONNX's Conv with one group of x (a 1-D input B×Cin×W or a
// 2-D one B×Cin×H×W) and the filters w (Cout×Cin×KW or Cout×Cin×KH×KW),
// plus bias (a vector of Cout) when it is not nil:
//
//	y[b, m, oy, ox] = bias[m] + Σ_c Σ_ky Σ_kx x[b, c, iy, ix] · w[m, c, ky, kx],
//	iy = oy·SH − PT + ky·DH,  ix = ox·SW − PL + kx·DW,
//
// x taken as 0 outside its bounds, the geometry g's (H = KH = 1 for a 1-D
// convolution); y has shape g.OutShape(). The shapes must be g's and every
// input float64: it returns an error otherwise.
func Conv(x, w, bias *G.Node, g ConvGeom) (*G.Node, error) {
	g.bias = bias != nil
	ins := []*G.Node{x, w}
	if bias != nil {
		ins = append(ins, bias)
		if !bias.Shape().Eq(tensor.Shape{g.Cout}) {
			return nil, fmt.Errorf("conv: bias %v, want (%d)", bias.Shape(), g.Cout)
		}
	}
	if !x.Shape().Eq(g.inShape()) || !w.Shape().Eq(g.wShape()) {
		return nil, fmt.Errorf("conv: input %v and weight %v, want %v and %v", x.Shape(), w.Shape(), g.inShape(), g.wShape())
	}
	for _, n := range ins {
		if n.Dtype() != tensor.Float64 {
			return nil, fmt.Errorf("conv: want float64 throughout, got %v", n.Dtype())
		}
	}
	return G.ApplyOp(convOp{g: g, own: new(owned)}, ins...)
}

func (op convOp) Arity() int {
	if op.g.bias {
		return 3
	}
	return 2
}
func (op convOp) Type() hm.Type {
	t := tensorType(op.g.Rank)
	if op.g.bias {
		return hm.NewFnType(t, t, tensorType(1), t)
	}
	return hm.NewFnType(t, t, t)
}
func (op convOp) String() string        { return "ONNXConv(" + op.g.String() + ")" }
func (op convOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op convOp) Hashcode() uint32      { return hashOf(op) }
func (op convOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.g.OutShape(), nil
}
func (op convOp) Do(in ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, in...) }
func (op convOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	d, err := float64Inputs(op, op.Arity(), in, op.g.inShape(), op.g.wShape(), tensor.Shape{op.g.Cout})
	if err != nil {
		return nil, err
	}
	var bias []float64
	if op.g.bias {
		bias = d[2]
	}
	out := op.own.output(nil, tensor.Float64, op.g.OutShape()...)
	op.g.forward(d[0], d[1], bias, out.Data().([]float64))
	return out, nil
}
func (op convOp) DiffWRT(n int) []bool {
	d := make([]bool, n)
	for i := range d {
		d[i] = true
	}
	return d
}
func (op convOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	grads := []applied{
		opOn(convGradOp{g: op.g, which: "input", own: new(owned)}, inputs[1], grad),
		opOn(convGradOp{g: op.g, which: "weight", own: new(owned)}, inputs[0], grad),
	}
	if op.g.bias {
		grads = append(grads, opOn(convGradOp{g: op.g, which: "bias", own: new(owned)}, grad))
	}
	return applyOps(grads...)
}

func (op convGradOp) Arity() int {
	if op.which == "bias" {
		return 1
	}
	return 2
}
func (op convGradOp) Type() hm.Type {
	t := tensorType(op.g.Rank)
	if op.which == "bias" {
		return hm.NewFnType(t, tensorType(1))
	}
	return hm.NewFnType(t, t, t)
}
func (op convGradOp) String() string {
	return "ONNXConvGrad" + op.which + "(" + op.g.String() + ")"
}
func (op convGradOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op convGradOp) Hashcode() uint32      { return hashOf(op) }
func (op convGradOp) shape() tensor.Shape {
	switch op.which {
	case "input":
		return op.g.inShape()
	case "weight":
		return op.g.wShape()
	}
	return tensor.Shape{op.g.Cout}
}
func (op convGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.shape(), nil }
func (op convGradOp) Do(in ...G.Value) (G.Value, error)              { return op.UsePreallocDo(nil, in...) }
func (op convGradOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	var want []tensor.Shape
	switch op.which {
	case "input":
		want = []tensor.Shape{op.g.wShape(), op.g.OutShape()}
	case "weight":
		want = []tensor.Shape{op.g.inShape(), op.g.OutShape()}
	default:
		want = []tensor.Shape{op.g.OutShape()}
	}
	d, err := float64Inputs(op, op.Arity(), in, want...)
	if err != nil {
		return nil, err
	}
	out := op.own.output(nil, tensor.Float64, op.shape()...)
	r := out.Data().([]float64)
	switch op.which {
	case "input":
		op.g.gradInput(d[0], d[1], r)
	case "weight":
		op.g.gradWeight(d[0], d[1], r)
	default:
		biasGrad(d[0], r, op.g.B, op.g.Cout, op.g.P())
	}
	return out, nil
}
