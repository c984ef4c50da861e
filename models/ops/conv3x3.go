package ops

import (
	"fmt"
	"hash"
	"hash/fnv"
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

// convGeom is the geometry of a 3×3, padding-1 convolution.
type convGeom struct {
	B, Cin, H, W, Cout, Stride int
	// TapMajor orders the rows of the patch matrix tap first, row
	// (ky·3+kx)·Cin + ci, instead of channel first, (ci·3+ky)·3+kx: the
	// fused upsampling convolution needs the channels of a tap adjacent.
	TapMajor bool
}

// row is the patch-matrix row of channel ci at tap (ky, kx).
func (g convGeom) row(ci, ky, kx int) int {
	if g.TapMajor {
		return (ky*3+kx)*g.Cin + ci
	}
	return (ci*3+ky)*3 + kx
}

func (g convGeom) Ho() int { return (g.H-1)/g.Stride + 1 }
func (g convGeom) Wo() int { return (g.W-1)/g.Stride + 1 }
func (g convGeom) P() int  { return g.Ho() * g.Wo() }
func (g convGeom) K() int  { return g.Cin * 9 }

// chunkImages is how many images one GEMM covers: about 4096 output
// positions, and at least four chunks per batch so the cores share the
// work. It depends on the geometry only, so every sum over chunks runs in
// the same order whatever the number of cores: results are identical on
// every machine.
func (g convGeom) chunkImages() int {
	return max(1, min(4096/g.P(), (g.B+3)/4))
}

func (g convGeom) String() string {
	return fmt.Sprintf("%dx%dx%dx%d→%d/s%d", g.B, g.Cin, g.H, g.W, g.Cout, g.Stride)
}

// im2col writes the K × (n·P) patch matrix of images [b0, b0+n) of x into
// cols (row k = g.row(ci, ky, kx), column j·P + oy·Wo + ox).
func (g convGeom) im2col(x []float32, b0, n int, cols []float32) {
	P, Ho, Wo, s := g.P(), g.Ho(), g.Wo(), g.Stride
	ld := n * P
	cr := g.colRanges()
	// One row of cols at a time, written from start to end: the planes of
	// channel ci of the chunk's images stay in cache for the nine taps.
	for ci := 0; ci < g.Cin; ci++ {
		for ky := 0; ky < 3; ky++ {
			for kx := 0; kx < 3; kx++ {
				for j := 0; j < n; j++ {
					plane := x[((b0+j)*g.Cin+ci)*g.H*g.W : ((b0+j)*g.Cin+ci+1)*g.H*g.W]
					row := cols[g.row(ci, ky, kx)*ld+j*P:]
					if s == 1 {
						g.shiftPlane(plane, row[:P], ky, kx)
						continue
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
				}
			}
		}
	}
}

// colRanges is, for each kx, the range [lo, hi) of output columns ox whose
// input column ox·Stride + kx − 1 lies inside the image.
// It is empty (lo = hi) when no column is inside, as for kx = 2 at W = 1.
func (g convGeom) colRanges() (r [3][2]int) {
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
func (g convGeom) shiftRange(ky, kx int) (sh, lo, hi int) {
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
func (g convGeom) shiftPlane(plane, out []float32, ky, kx int) {
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
func (g convGeom) col2im(dcols []float32, b0, n int, dx []float32) {
	P, Ho, Wo, s := g.P(), g.Ho(), g.Wo(), g.Stride
	ld := n * P
	cr := g.colRanges()
	// One row of dcols at a time, read from start to end; each pixel of dx
	// still gets its taps added in the order (ky, kx).
	for ci := 0; ci < g.Cin; ci++ {
		for ky := 0; ky < 3; ky++ {
			for kx := 0; kx < 3; kx++ {
				for j := 0; j < n; j++ {
					plane := dx[((b0+j)*g.Cin+ci)*g.H*g.W : ((b0+j)*g.Cin+ci+1)*g.H*g.W]
					row := dcols[g.row(ci, ky, kx)*ld+j*P:]
					if s == 1 {
						sh, lo, hi := g.shiftRange(ky, kx)
						if lo >= hi {
							continue
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
						continue
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
				}
			}
		}
	}
}

// gatherDY copies dy of images [b0, b0+n) (B×Cout×P) into Cout × (n·P).
func (g convGeom) gatherDY(dy []float32, b0, n int, out []float32) {
	P, ld := g.P(), n*g.P()
	for j := 0; j < n; j++ {
		for co := 0; co < g.Cout; co++ {
			copy(out[co*ld+j*P:co*ld+(j+1)*P], dy[((b0+j)*g.Cout+co)*P:])
		}
	}
}

// chunks runs f on every chunk of images, spread over the cores; f gets
// the chunk's index, first image and size and a worker-owned scratch.
func (g convGeom) chunks(scratch int, f func(c, b0, n int, buf []float32)) {
	cb := g.chunkImages()
	nc := (g.B + cb - 1) / cb
	workers := min(nc, runtime.GOMAXPROCS(0))
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := getBuf(scratch)
			defer putBuf(buf)
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
func (g convGeom) forward(x, w, bias, y []float32, cc *colsCache) {
	P, K, cb := g.P(), g.K(), g.chunkImages()
	W := blas32.General{Rows: g.Cout, Cols: K, Stride: K, Data: w}
	keep := cc.begin((g.B+cb-1)/cb, K*cb*P)
	g.chunks((K+g.Cout)*cb*P, func(c, b0, n int, buf []float32) {
		ld := n * P
		cols, tmp := buf[:K*ld], buf[K*cb*P:K*cb*P+g.Cout*ld]
		if keep {
			cols = cc.buf[c*K*cb*P : c*K*cb*P+K*ld]
		}
		g.im2col(x, b0, n, cols)
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
	if keep {
		cc.done(x)
	}
}

// gradWeight computes dW = Σ dY·colsᵀ (Cout×K) and dBias = Σ dY. Each chunk
// writes its own partial sums, added up in chunk order. The patch matrices
// come from cc when it holds those of x.
func (g convGeom) gradWeight(x, dy, dw, db []float32, cc *colsCache) {
	P, K, cb := g.P(), g.K(), g.chunkImages()
	nc := (g.B + cb - 1) / cb
	part := getBuf(nc * (g.Cout*K + g.Cout))
	defer putBuf(part)
	g.chunks((K+g.Cout)*cb*P, func(c, b0, n int, buf []float32) {
		ld := n * P
		cols, dyt := buf[:K*ld], buf[K*cb*P:K*cb*P+g.Cout*ld]
		pw := part[c*(g.Cout*K+g.Cout):]
		if kept := cc.of(x, c, K*cb*P, K*ld); kept != nil {
			cols = kept
		} else {
			g.im2col(x, b0, n, cols)
		}
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
func (g convGeom) gradInput(w, dy, dx []float32) {
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

// bufPool hands out float32 scratch buffers; ops run one at a time per
// graph, so a handful of buffers serves every convolution of a training.
var bufPool struct {
	sync.Mutex
	free [][]float32
}

func getBuf(n int) []float32 {
	bufPool.Lock()
	defer bufPool.Unlock()
	for i, b := range bufPool.free {
		if cap(b) >= n {
			bufPool.free = append(bufPool.free[:i], bufPool.free[i+1:]...)
			return b[:n]
		}
	}
	return make([]float32, n)
}

func putBuf(b []float32) {
	bufPool.Lock()
	defer bufPool.Unlock()
	if len(bufPool.free) < 8 {
		bufPool.free = append(bufPool.free, b)
	}
}

// --- gorgonia ops ---

// convOp is y = conv3×3(x, w, padding 1, stride) + bias over inputs
// (x: B×Cin×H×W, w: Cout×Cin×3×3, bias: 1×Cout×1×1).
type convOp struct {
	g     convGeom
	own   *owned
	cache *colsCache
}

// convGradOp is one gradient of convOp: of the input (inputs w, dy), of
// the weight (inputs x, dy) or of the bias (inputs x, dy).
type convGradOp struct {
	g     convGeom
	which string // "input", "weight", "bias"
	own   *owned
	cache *colsCache // the forward op's (weight)
}

// upsampleOp repeats each pixel 2×2; upsampleGradOp sums 2×2 blocks.
type upsampleOp struct {
	B, C, H, W int
	own        *owned
}
type upsampleGradOp struct {
	B, C, H, W int
	own        *owned
}

var (
	_ G.SDOp            = convOp{}
	_ G.UsePreallocDoer = convOp{}
	_ G.UsePreallocDoer = convGradOp{}
	_ G.SDOp            = upsampleOp{}
	_ G.UsePreallocDoer = upsampleOp{}
	_ G.UsePreallocDoer = upsampleGradOp{}
)

func tensor4() G.TensorType { return G.TensorType{Dims: 4, Of: hm.TypeVariable('a')} }

// Conv3x3 applies the custom convolution with bias: x is B×Cin×H×W, w is
// Cout×Cin×3×3, bias 1×Cout×1×1.
func Conv3x3(x, w, bias *G.Node, stride int) (*G.Node, error) {
	xs, ws := x.Shape(), w.Shape()
	if len(xs) != 4 || len(ws) != 4 || ws[1] != xs[1] || ws[2] != 3 || ws[3] != 3 {
		return nil, fmt.Errorf("conv3x3: input %v and weight %v do not fit (want B×C×H×W and O×C×3×3)", xs, ws)
	}
	if x.Dtype() != tensor.Float32 {
		return nil, fmt.Errorf("conv3x3: float32 only, got %v", x.Dtype())
	}
	return G.ApplyOp(convOp{g: convGeom{B: xs[0], Cin: xs[1], H: xs[2], W: xs[3], Cout: ws[0], Stride: stride}, own: new(owned), cache: new(colsCache)}, x, w, bias)
}

// Upsample2x repeats each pixel of x (B×C×H×W, float32) 2×2.
func Upsample2x(x *G.Node) (*G.Node, error) {
	s := x.Shape()
	if len(s) != 4 || x.Dtype() != tensor.Float32 {
		return nil, fmt.Errorf("upsample2x: want a float32 B×C×H×W input, got %v %v", x.Dtype(), s)
	}
	return G.ApplyOp(upsampleOp{B: s[0], C: s[1], H: s[2], W: s[3], own: new(owned)}, x)
}

func (op convOp) Arity() int            { return 3 }
func (op convOp) Type() hm.Type         { t := tensor4(); return hm.NewFnType(t, t, t, t) }
func (op convOp) ReturnsPtr() bool      { return false }
func (op convOp) CallsExtern() bool     { return false }
func (op convOp) OverwritesInput() int  { return -1 }
func (op convOp) String() string        { return "Conv3x3(" + op.g.String() + ")" }
func (op convOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op convOp) Hashcode() uint32      { return hashOf(op) }
func (op convOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.g.B, op.g.Cout, op.g.Ho(), op.g.Wo()}, nil
}
func (op convOp) Do(in ...G.Value) (G.Value, error) {
	return op.UsePreallocDo(nil, in...)
}
func (op convOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	x, w, b, err := floats3(op, in)
	if err != nil {
		return nil, err
	}
	out, y := op.own.output32(prealloc, op.g.B, op.g.Cout, op.g.Ho(), op.g.Wo())
	op.g.forward(x, w, b, y, op.cache)
	return out, nil
}
func (op convOp) DiffWRT(int) []bool { return []bool{true, true, true} }
func (op convOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	x, w := inputs[0], inputs[1]
	dx, err := G.ApplyOp(convGradOp{g: op.g, which: "input", own: new(owned)}, w, grad)
	if err != nil {
		return nil, err
	}
	op.cache.on = true
	dw, err := G.ApplyOp(convGradOp{g: op.g, which: "weight", own: new(owned), cache: op.cache}, x, grad)
	if err != nil {
		return nil, err
	}
	db, err := G.ApplyOp(convGradOp{g: op.g, which: "bias", own: new(owned)}, x, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, dw, db}, nil
}

func (op convGradOp) Arity() int            { return 2 }
func (op convGradOp) Type() hm.Type         { t := tensor4(); return hm.NewFnType(t, t, t) }
func (op convGradOp) ReturnsPtr() bool      { return false }
func (op convGradOp) CallsExtern() bool     { return false }
func (op convGradOp) OverwritesInput() int  { return -1 }
func (op convGradOp) String() string        { return "Conv3x3Grad" + op.which + "(" + op.g.String() + ")" }
func (op convGradOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op convGradOp) Hashcode() uint32      { return hashOf(op) }
func (op convGradOp) shape() tensor.Shape {
	switch op.which {
	case "input":
		return tensor.Shape{op.g.B, op.g.Cin, op.g.H, op.g.W}
	case "weight":
		return tensor.Shape{op.g.Cout, op.g.Cin, 3, 3}
	}
	return tensor.Shape{1, op.g.Cout, 1, 1}
}
func (op convGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.shape(), nil }
func (op convGradOp) Do(in ...G.Value) (G.Value, error)              { return op.UsePreallocDo(nil, in...) }
func (op convGradOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	if len(in) != 2 {
		return nil, fmt.Errorf("%v: want 2 inputs, got %d", op, len(in))
	}
	a, err1 := float32s(in[0])
	dy, err2 := float32s(in[1])
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("%v: float32 tensors only", op)
	}
	s := op.shape()
	out, d := op.own.output32(prealloc, s...)
	switch op.which {
	case "input":
		op.g.gradInput(a, dy, d)
	case "weight":
		db := getBuf(op.g.Cout)
		op.g.gradWeight(a, dy, d, db, op.cache)
		putBuf(db)
	case "bias":
		clear(d)
		P := op.g.P()
		for b := 0; b < op.g.B; b++ {
			for co := 0; co < op.g.Cout; co++ {
				var s float32
				for _, v := range dy[(b*op.g.Cout+co)*P : (b*op.g.Cout+co+1)*P] {
					s += v
				}
				d[co] += s
			}
		}
	}
	return out, nil
}

func (op upsampleOp) Arity() int           { return 1 }
func (op upsampleOp) Type() hm.Type        { t := tensor4(); return hm.NewFnType(t, t) }
func (op upsampleOp) ReturnsPtr() bool     { return false }
func (op upsampleOp) CallsExtern() bool    { return false }
func (op upsampleOp) OverwritesInput() int { return -1 }
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

func (op upsampleGradOp) Arity() int           { return 1 }
func (op upsampleGradOp) Type() hm.Type        { t := tensor4(); return hm.NewFnType(t, t) }
func (op upsampleGradOp) ReturnsPtr() bool     { return false }
func (op upsampleGradOp) CallsExtern() bool    { return false }
func (op upsampleGradOp) OverwritesInput() int { return -1 }
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

func hashOf(op fmt.Stringer) uint32 {
	h := fnv.New32a()
	fmt.Fprint(h, op.String())
	return h.Sum32()
}

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
