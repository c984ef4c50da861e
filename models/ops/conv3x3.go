package ops

import (
	"fmt"
	"hash"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/chewxy/hm"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The autoencoder's convolutions and upsampling are custom gorgonia ops:
// stock gorgonia runs a 3×3 convolution as a boxed im2col, a batched
// matmul and a separate bias broadcast, and Upsample2D touches one boxed
// element at a time (NOTES-gorgonia: ~45 % of the autoencoder's CPU). Here
// a convolution is im2col in tight slice loops over a chunk of images, one
// GEMM per chunk (gonum's blas32, or OpenBLAS with the openblas build tag)
// and the bias added while scattering the result; its gradients are the
// transposed GEMMs and col2im. Work is split over the cores by chunks of
// images. Scratch buffers come from a shared pool and every op writes into
// the output it kept from the previous step (owned), so the ops allocate
// nothing large per training step. Float32 only: the autoencoder is float32.

// conv3x3Geom is the geometry of a 3×3, padding-1 convolution.
type conv3x3Geom struct {
	B, Cin, H, W, Cout, Stride int
	// TapMajor orders the rows of the patch matrix tap first, row
	// (ky·3+kx)·Cin + ci, instead of channel first, (ci·3+ky)·3+kx: the
	// fused upsampling convolution needs the channels of a tap adjacent.
	TapMajor bool
}

// row is the patch-matrix row of channel ci at tap (ky, kx).
func (g conv3x3Geom) row(ci, ky, kx int) int {
	if g.TapMajor {
		return (ky*3+kx)*g.Cin + ci
	}
	return (ci*3+ky)*3 + kx
}

func (g conv3x3Geom) Ho() int { return (g.H-1)/g.Stride + 1 }
func (g conv3x3Geom) Wo() int { return (g.W-1)/g.Stride + 1 }
func (g conv3x3Geom) P() int  { return g.Ho() * g.Wo() }
func (g conv3x3Geom) K() int  { return g.Cin * 9 }

// chunkImages is how many images one GEMM covers: about 4096 output
// positions, and at least four chunks per batch so the cores share the
// work. It depends on the geometry only, so every sum over chunks runs in
// the same order whatever the number of cores: results are identical on
// every machine.
func (g conv3x3Geom) chunkImages() int {
	return max(1, min(4096/g.P(), (g.B+3)/4))
}

func (g conv3x3Geom) String() string {
	return fmt.Sprintf("%dx%dx%dx%d→%d/s%d", g.B, g.Cin, g.H, g.W, g.Cout, g.Stride)
}

// im2col writes the K × (n·P) patch matrix of images [b0, b0+n) of x into
// cols (row k = g.row(ci, ky, kx), column j·P + oy·Wo + ox).
func (g conv3x3Geom) im2col(x []float32, b0, n int, cols []float32) {
	P, Ho, Wo, s := g.P(), g.Ho(), g.Wo(), g.Stride
	cr := g.colRanges()
	g.taps(x, b0, n, cols, func(plane, row []float32, ky, kx int) {
		if s == 1 {
			g.shiftPlane(plane, row[:P], ky, kx)
			return
		}
		for oy := 0; oy < Ho; oy++ {
			iy := oy*s + ky - 1
			out := row[oy*Wo : (oy+1)*Wo]
			if iy < 0 || iy >= g.H {
				clear(out)
				continue
			}
			src := plane[iy*g.W : (iy+1)*g.W]
			lo, hi := cr[kx][0], cr[kx][1]
			clear(out[:lo])
			for ox := lo; ox < hi; ox++ {
				out[ox] = src[ox*s+kx-1]
			}
			clear(out[hi:])
		}
	})
}

// taps calls f for every tap (ky, kx) of every channel ci of images
// [b0, b0+n), one patch-matrix row at a time, each row from start to end:
// with the plane of channel ci of the image (H·W values of x) and the
// image's part of the row, row g.row(ci, ky, kx) of the K × (n·P) matrix
// cols, from its first column to the end of cols. The planes of channel ci
// of the chunk's images stay in cache for the nine taps.
func (g conv3x3Geom) taps(x []float32, b0, n int, cols []float32, f func(plane, row []float32, ky, kx int)) {
	P := g.P()
	ld := n * P
	for ci := 0; ci < g.Cin; ci++ {
		for ky := 0; ky < 3; ky++ {
			for kx := 0; kx < 3; kx++ {
				for j := 0; j < n; j++ {
					plane := x[((b0+j)*g.Cin+ci)*g.H*g.W : ((b0+j)*g.Cin+ci+1)*g.H*g.W]
					f(plane, cols[g.row(ci, ky, kx)*ld+j*P:], ky, kx)
				}
			}
		}
	}
}

// colRanges is, for each kx, the range [lo, hi) of output columns ox whose
// input column ox·Stride + kx − 1 lies inside the image.
// It is empty (lo = hi) when no column is inside, as for kx = 2 at W = 1.
func (g conv3x3Geom) colRanges() (r [3][2]int) {
	for kx := range r {
		if kx == 0 {
			r[kx][0] = 1
		}
		hi := 0
		if g.W >= kx { // ox·Stride + kx − 1 ≤ W − 1 ⇔ ox ≤ (W − kx)/Stride
			hi = min(g.Wo(), (g.W-kx)/g.Stride+1)
		}
		r[kx][1] = max(hi, r[kx][0])
	}
	return r
}

// shiftRange is, for a stride-1 tap (ky, kx), the shift sh of the plane
// (out[p] = plane[p+sh]) and the range [lo, hi) of output positions p that
// one contiguous copy covers: all rows whose input row is inside, less the
// first (kx = 0) or last (kx = 2) position, whose neighbour lies outside.
// Inside that range the positions of column 0 (kx = 0) or W−1 (kx = 2)
// wrap onto the neighbouring row: they are padding.
func (g conv3x3Geom) shiftRange(ky, kx int) (sh, lo, hi int) {
	P, W := g.H*g.W, g.W
	sh, lo, hi = (ky-1)*W+kx-1, 0, P
	if ky == 0 {
		lo = W
	} else if ky == 2 {
		hi = P - W
	}
	if kx == 0 {
		lo++
	} else if kx == 2 {
		hi--
	}
	return sh, lo, hi
}

// shiftPlane writes row (ky, kx) of a stride-1 patch matrix for one plane
// (H·W values, out of the same size): one shifted copy, then the padding
// set to zero.
func (g conv3x3Geom) shiftPlane(plane, out []float32, ky, kx int) {
	W := g.W
	sh, lo, hi := g.shiftRange(ky, kx)
	if lo >= hi {
		clear(out)
		return
	}
	clear(out[:lo])
	copy(out[lo:hi], plane[lo+sh:hi+sh])
	clear(out[hi:])
	switch kx {
	case 0:
		for p := 0; p < len(out); p += W {
			out[p] = 0
		}
	case 2:
		for p := W - 1; p < len(out); p += W {
			out[p] = 0
		}
	}
}

// col2im adds the K × (n·P) matrix dcols back onto images [b0, b0+n) of
// dx. At stride 1 it zeroes the padding entries of dcols first (dcols is
// scratch), so that each tap is one contiguous add.
func (g conv3x3Geom) col2im(dcols []float32, b0, n int, dx []float32) {
	Ho, Wo, s := g.Ho(), g.Wo(), g.Stride
	cr := g.colRanges()
	// One row of dcols at a time, read from start to end; each pixel of dx
	// still gets its taps added in the order (ky, kx).
	g.taps(dx, b0, n, dcols, func(plane, row []float32, ky, kx int) {
		if s == 1 {
			sh, lo, hi := g.shiftRange(ky, kx)
			if lo >= hi {
				return
			}
			in := row[lo:hi]
			switch kx {
			case 0: // positions of column 0 inside the range
				for p := (lo + g.W - 1) / g.W * g.W; p < hi; p += g.W {
					row[p] = 0
				}
			case 2: // positions of column W−1
				for p := lo/g.W*g.W + g.W - 1; p < hi; p += g.W {
					row[p] = 0
				}
			}
			d := plane[lo+sh : hi+sh]
			d = d[:len(in)]
			for i, v := range in {
				d[i] += v
			}
			return
		}
		for oy := 0; oy < Ho; oy++ {
			iy := oy*s + ky - 1
			if iy < 0 || iy >= g.H {
				continue
			}
			dst := plane[iy*g.W : (iy+1)*g.W]
			in := row[oy*Wo : (oy+1)*Wo]
			lo, hi := cr[kx][0], cr[kx][1]
			for ox := lo; ox < hi; ox++ {
				dst[ox*s+kx-1] += in[ox]
			}
		}
	})
}

// gatherDY copies dy of images [b0, b0+n) (B×Cout×P) into Cout × (n·P).
func (g conv3x3Geom) gatherDY(dy []float32, b0, n int, out []float32) {
	P, ld := g.P(), n*g.P()
	for j := 0; j < n; j++ {
		for co := 0; co < g.Cout; co++ {
			copy(out[co*ld+j*P:co*ld+(j+1)*P], dy[((b0+j)*g.Cout+co)*P:])
		}
	}
}

// chunks runs f on every chunk of images, spread over the cores; f gets
// the chunk's index, first image and size and a worker-owned scratch.
func (g conv3x3Geom) chunks(scratch int, f func(c, b0, n int, buf []float32)) {
	cb := g.chunkImages()
	nc := (g.B + cb - 1) / cb
	workers := min(nc, runtime.GOMAXPROCS(0))
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := buf32.get(scratch)
			defer buf32.put(buf)
			for {
				c := int(next.Add(1) - 1)
				if c >= nc {
					return
				}
				b0 := c * cb
				f(c, b0, min(cb, g.B-b0), buf)
			}
		}()
	}
	wg.Wait()
}

// colsCache keeps the patch matrices a convolution's forward pass built
// for its weight gradient in the same training step, which would otherwise
// build them again. The forward op and its weight-gradient op share one;
// SymDiff switches it on, so a forward-only graph keeps nothing. The
// matrices serve only the input slice they were built from (same first
// element, same length): within one run of the tape machine an op's input
// is not written between the forward pass and the gradients that read it,
// and every run does the forward pass before the gradients.
type colsCache struct {
	on  bool
	buf []float32
	x   *float32 // first element of the input of the last forward pass
	n   int      // its length
}

// begin prepares the cache for a forward pass over nc chunks of size
// values each and reports whether it is on.
func (cc *colsCache) begin(nc, size int) bool {
	if cc == nil || !cc.on {
		return false
	}
	cc.x = nil
	if len(cc.buf) < nc*size {
		cc.buf = make([]float32, nc*size)
	}
	return true
}

// done records that the cache holds the patch matrices of x.
func (cc *colsCache) done(x []float32) { cc.x, cc.n = &x[0], len(x) }

// of returns chunk c's patch matrix (n values; chunks size apart) if the
// cache holds those of x, else nil.
func (cc *colsCache) of(x []float32, c, size, n int) []float32 {
	if cc == nil || cc.x == nil || cc.x != &x[0] || cc.n != len(x) {
		return nil
	}
	return cc.buf[c*size : c*size+n]
}

// forward computes y = conv(x, w) + bias into y (B×Cout×Ho×Wo), keeping
// the patch matrices in cc when it is on.
func (g conv3x3Geom) forward(x, w, bias, y []float32, cc *colsCache) {
	P, K := g.P(), g.K()
	W := blas32.General{Rows: g.Cout, Cols: K, Stride: K, Data: w}
	g.patchChunks(x, cc, true, func(_, b0, n int, cols, tmp []float32) {
		ld := n * P
		blas32.Gemm(blas.NoTrans, blas.NoTrans, 1, W,
			blas32.General{Rows: K, Cols: ld, Stride: ld, Data: cols},
			0, blas32.General{Rows: g.Cout, Cols: ld, Stride: ld, Data: tmp})
		for j := 0; j < n; j++ {
			for co := 0; co < g.Cout; co++ {
				dst := y[((b0+j)*g.Cout+co)*P : ((b0+j)*g.Cout+co+1)*P]
				src := tmp[co*ld+j*P:]
				bv := bias[co]
				for p := range dst {
					dst[p] = src[p] + bv
				}
			}
		}
	})
}

// patchChunks runs f on every chunk of images, spread over the cores (see
// chunks), with the chunk's K × (n·P) patch matrix cols of x and a scratch
// tmp of Cout × (n·P) values. In the forward pass (fwd) it builds the
// matrices into cc when cc is on, and records that cc holds those of x;
// otherwise it takes them from cc when cc holds those of x, and builds
// them into scratch when not.
func (g conv3x3Geom) patchChunks(x []float32, cc *colsCache, fwd bool, f func(c, b0, n int, cols, tmp []float32)) {
	P, K, cb := g.P(), g.K(), g.chunkImages()
	keep := fwd && cc.begin((g.B+cb-1)/cb, K*cb*P)
	g.chunks((K+g.Cout)*cb*P, func(c, b0, n int, buf []float32) {
		ld := n * P
		cols, tmp := buf[:K*ld], buf[K*cb*P:K*cb*P+g.Cout*ld]
		var kept []float32
		if keep {
			cols = cc.buf[c*K*cb*P : c*K*cb*P+K*ld]
		} else if !fwd {
			kept = cc.of(x, c, K*cb*P, K*ld)
		}
		if kept != nil {
			cols = kept
		} else {
			g.im2col(x, b0, n, cols)
		}
		f(c, b0, n, cols, tmp)
	})
	if keep {
		cc.done(x)
	}
}

// gradWeightBias computes dW = Σ dY·colsᵀ (Cout×K) and dBias = Σ dY. Each
// chunk writes its own partial sums, added up in chunk order. The patch
// matrices come from cc when it holds those of x.
func (g conv3x3Geom) gradWeightBias(x, dy, dw, db []float32, cc *colsCache) {
	P, K, cb := g.P(), g.K(), g.chunkImages()
	nc := (g.B + cb - 1) / cb
	part := buf32.get(nc * (g.Cout*K + g.Cout))
	defer buf32.put(part)
	g.patchChunks(x, cc, false, func(c, b0, n int, cols, dyt []float32) {
		ld := n * P
		pw := part[c*(g.Cout*K+g.Cout):]
		g.gatherDY(dy, b0, n, dyt)
		blas32.Gemm(blas.NoTrans, blas.Trans, 1,
			blas32.General{Rows: g.Cout, Cols: ld, Stride: ld, Data: dyt},
			blas32.General{Rows: K, Cols: ld, Stride: ld, Data: cols},
			0, blas32.General{Rows: g.Cout, Cols: K, Stride: K, Data: pw[:g.Cout*K]})
		for co := 0; co < g.Cout; co++ {
			var s float32
			for _, v := range dyt[co*ld : (co+1)*ld] {
				s += v
			}
			pw[g.Cout*K+co] = s
		}
	})
	clear(dw)
	clear(db)
	for c := 0; c < nc; c++ {
		pw := part[c*(g.Cout*K+g.Cout):]
		for i := range dw {
			dw[i] += pw[i]
		}
		for co := range db {
			db[co] += pw[g.Cout*K+co]
		}
	}
}

// gradInput computes dX = col2im(Wᵀ·dY).
func (g conv3x3Geom) gradInput(w, dy, dx []float32) {
	P, K, cb := g.P(), g.K(), g.chunkImages()
	clear(dx)
	W := blas32.General{Rows: g.Cout, Cols: K, Stride: K, Data: w}
	g.chunks((K+g.Cout)*cb*P, func(_, b0, n int, buf []float32) {
		ld := n * P
		dcols, dyt := buf[:K*ld], buf[K*cb*P:K*cb*P+g.Cout*ld]
		g.gatherDY(dy, b0, n, dyt)
		blas32.Gemm(blas.Trans, blas.NoTrans, 1, W,
			blas32.General{Rows: g.Cout, Cols: ld, Stride: ld, Data: dyt},
			0, blas32.General{Rows: K, Cols: ld, Stride: ld, Data: dcols})
		g.col2im(dcols, b0, n, dx)
	})
}

// gradWeight computes dW alone: gradWeightBias with a scratch dBias.
func (g conv3x3Geom) gradWeight(x, dy, dw []float32, cc *colsCache) {
	db := buf32.get(g.Cout)
	g.gradWeightBias(x, dy, dw, db, cc)
	buf32.put(db)
}

func (g conv3x3Geom) opName() string { return "Conv3x3" }
func (g conv3x3Geom) inShape() tensor.Shape {
	return tensor.Shape{g.B, g.Cin, g.H, g.W}
}
func (g conv3x3Geom) outShape() tensor.Shape {
	return tensor.Shape{g.B, g.Cout, g.Ho(), g.Wo()}
}

// --- gorgonia ops ---

// conv3x3Kernel is the arithmetic of a 3×3, padding-1 convolution op with
// bias, from x (B×Cin×H×W), w (Cout×Cin×3×3) and bias (1×Cout×1×1): the
// plain convolution (conv3x3Geom) or the one of the upsampled input
// (upConvGeom).
type conv3x3Kernel interface {
	fmt.Stringer // the geometry
	// opName names the op: "Conv3x3" or "UpConv3x3".
	opName() string
	// inShape is x's shape, outShape y's, B×Cout×Ho×Wo.
	inShape() tensor.Shape
	outShape() tensor.Shape
	// forward computes y = conv(x, w) + bias, keeping the patch matrices
	// in cc when it is on.
	forward(x, w, bias, y []float32, cc *colsCache)
	// gradInput computes dx from w and dy; gradWeight dw from x and dy,
	// with the patch matrices of cc when it holds those of x.
	gradInput(w, dy, dx []float32)
	gradWeight(x, dy, dw []float32, cc *colsCache)
}

var (
	_ conv3x3Kernel = conv3x3Geom{}
	_ conv3x3Kernel = upConvGeom{}
)

// conv3x3Op is y = conv3×3(x, w, padding 1) + bias, the convolution k,
// over inputs (x: B×Cin×H×W, w: Cout×Cin×3×3, bias: 1×Cout×1×1).
type conv3x3Op struct {
	fresh
	k     conv3x3Kernel
	own   *owned
	cache *colsCache
}

// conv3x3GradOp is one gradient of conv3x3Op: of the input (inputs w, dy),
// of the weight (inputs x, dy) or of the bias (inputs x, dy).
type conv3x3GradOp struct {
	fresh
	k     conv3x3Kernel
	which string // "input", "weight", "bias"
	own   *owned
	cache *colsCache // the forward op's (weight)
}

var (
	_ G.SDOp            = conv3x3Op{}
	_ G.UsePreallocDoer = conv3x3Op{}
	_ G.UsePreallocDoer = conv3x3GradOp{}
)

// Conv3x3 returns the convolution of x with the 3×3 filters w plus a bias
// per output channel, with one pixel of zero padding on every side:
//
//	y[b, o, i, j] = bias[o] + Σ_c Σ_{ky,kx} w[o, c, ky, kx] · x[b, c, s·i+ky−1, s·j+kx−1],
//
// x taken as 0 outside its bounds, s the stride. x is B×Cin×H×W (float32),
// w Cout×Cin×3×3 and bias 1×Cout×1×1; y is B×Cout×Ho×Wo with
// Ho = ⌊(H−1)/s⌋ + 1, Wo = ⌊(W−1)/s⌋ + 1. Its gradients are the transposed
// GEMMs and col2im. It returns an error when the shapes do not fit or x is
// not float32.
func Conv3x3(x, w, bias *G.Node, stride int) (*G.Node, error) {
	if err := check3x3("conv3x3", x, w); err != nil {
		return nil, err
	}
	xs, ws := x.Shape(), w.Shape()
	return apply3x3(conv3x3Geom{B: xs[0], Cin: xs[1], H: xs[2], W: xs[3], Cout: ws[0], Stride: stride}, x, w, bias)
}

// check3x3 returns an error unless x is a float32 B×C×H×W input and w
// O×C×3×3 filters for it.
func check3x3(name string, x, w *G.Node) error {
	xs, ws := x.Shape(), w.Shape()
	if len(xs) != 4 || len(ws) != 4 || ws[1] != xs[1] || ws[2] != 3 || ws[3] != 3 {
		return fmt.Errorf("%s: input %v and weight %v do not fit (want B×C×H×W and O×C×3×3)", name, xs, ws)
	}
	if x.Dtype() != tensor.Float32 {
		return fmt.Errorf("%s: float32 only, got %v", name, x.Dtype())
	}
	return nil
}

func apply3x3(k conv3x3Kernel, x, w, bias *G.Node) (*G.Node, error) {
	return G.ApplyOp(conv3x3Op{k: k, own: new(owned), cache: new(colsCache)}, x, w, bias)
}

func (op conv3x3Op) Arity() int            { return 3 }
func (op conv3x3Op) Type() hm.Type         { t := tensorType(4); return hm.NewFnType(t, t, t, t) }
func (op conv3x3Op) String() string        { return op.k.opName() + "(" + op.k.String() + ")" }
func (op conv3x3Op) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op conv3x3Op) Hashcode() uint32      { return hashOf(op) }
func (op conv3x3Op) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.k.outShape(), nil
}
func (op conv3x3Op) Do(in ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, in...) }
func (op conv3x3Op) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	x, w, b, err := floats3(op, in)
	if err != nil {
		return nil, err
	}
	out, y := op.own.output32(prealloc, op.k.outShape()...)
	op.k.forward(x, w, b, y, op.cache)
	return out, nil
}
func (op conv3x3Op) DiffWRT(int) []bool { return []bool{true, true, true} }
func (op conv3x3Op) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	x, w := inputs[0], inputs[1]
	op.cache.on = true
	grad3 := func(which string) conv3x3GradOp {
		return conv3x3GradOp{k: op.k, which: which, own: new(owned), cache: op.cache}
	}
	return applyOps(opOn(grad3("input"), w, grad), opOn(grad3("weight"), x, grad), opOn(grad3("bias"), x, grad))
}

func (op conv3x3GradOp) Arity() int    { return 2 }
func (op conv3x3GradOp) Type() hm.Type { t := tensorType(4); return hm.NewFnType(t, t, t) }
func (op conv3x3GradOp) String() string {
	return op.k.opName() + "Grad" + op.which + "(" + op.k.String() + ")"
}
func (op conv3x3GradOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op conv3x3GradOp) Hashcode() uint32      { return hashOf(op) }
func (op conv3x3GradOp) shape() tensor.Shape {
	xs, ys := op.k.inShape(), op.k.outShape()
	switch op.which {
	case "input":
		return xs
	case "weight":
		return tensor.Shape{ys[1], xs[1], 3, 3}
	}
	return tensor.Shape{1, ys[1], 1, 1}
}
func (op conv3x3GradOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.shape(), nil }
func (op conv3x3GradOp) Do(in ...G.Value) (G.Value, error)              { return op.UsePreallocDo(nil, in...) }
func (op conv3x3GradOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	if len(in) != 2 {
		return nil, fmt.Errorf("%v: want 2 inputs, got %d", op, len(in))
	}
	a, err1 := float32s(in[0])
	dy, err2 := float32s(in[1])
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("%v: float32 tensors only", op)
	}
	out, d := op.own.output32(prealloc, op.shape()...)
	switch op.which {
	case "input":
		op.k.gradInput(a, dy, d)
	case "weight":
		op.k.gradWeight(a, dy, d, op.cache)
	case "bias":
		ys := op.k.outShape()
		biasGrad(dy, d, ys[0], ys[1], ys[2]*ys[3])
	}
	return out, nil
}
