package ops

import (
	"fmt"

	"gonum.org/v1/gonum/blas"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// upConvGeom is a nearest 2× upsampling of x (B×Cin×H×W) followed by a 3×3,
// padding-1, stride-1 convolution to Cout channels (output B×Cout×2H×2W),
// computed on the low-resolution grid without the upsampled image
// (sub-pixel decomposition). Output pixel (2i+py, 2j+px) of phase (py, px)
// reads upsampled rows 2i+py+ky−1, ky = 0, 1, 2, which are the rows
//
//	i + t − 1,  t = ⌊(py+ky+1)/2⌋ ∈ {py, py+1}
//
// of x (and likewise for columns), and the zero padding of the upsampled
// image is the zero padding of x. So each phase is a 2×2 convolution of x
// with the taps (py+a, px+b), a, b ∈ {0, 1}, of a padding-1 3×3 window and
// the weights
//
//	w_ph[co][ci][a][b] = Σ_{ky: t(py,ky) = py+a} Σ_{kx: t(px,kx) = px+b} w[co][ci][ky][kx],
//
// 4/9 of the multiply-adds of the convolution of the upsampled image, and a
// patch matrix a quarter of its size. The gradients follow by the same
// decomposition: ∂L/∂w[ky][kx] sums ∂L/∂w_ph over the four phases, and
// ∂L/∂x is a convolution of the four phases of ∂L/∂y with the phase
// weights.
//
// It is the same map as Upsample2x followed by Conv3x3 (the tests check
// values and gradients against that composition); only the float32
// rounding differs, since the weights of a phase are summed first.
type upConvGeom struct {
	B, Cin, H, W, Cout int
}

// low is the low-resolution geometry: the patch matrix of a stride-1 3×3
// window over x, tap-major so the 2·Cin rows of taps (t, b) and (t, b+1)
// are adjacent.
func (u upConvGeom) low() conv3x3Geom {
	return conv3x3Geom{B: u.B, Cin: u.Cin, H: u.H, W: u.W, Cout: u.Cout, Stride: 1, TapMajor: true}
}

func (u upConvGeom) String() string {
	return fmt.Sprintf("%dx%dx%dx%d↑2→%d", u.B, u.Cin, u.H, u.W, u.Cout)
}

// upTap is the low-resolution tap t(p, k) = ⌊(p+k+1)/2⌋ of kernel row (or
// column) k at phase p.
func upTap(p, k int) int { return (p + k + 1) / 2 }

// packedLen is the size of the phase weights: for each phase ph = 2py+px and
// row offset a, a Cout × 2Cin matrix with column b·Cin + ci.
func (u upConvGeom) packedLen() int { return 16 * u.Cout * u.Cin }

// packedAt is the offset of w_ph[co][ci][a][b] in the phase weights.
func (u upConvGeom) packedAt(ph, a, co, ci, b int) int {
	return ((ph*2+a)*u.Cout+co)*2*u.Cin + b*u.Cin + ci
}

// pack sums w (Cout×Cin×3×3) into the phase weights wp.
func (u upConvGeom) pack(w, wp []float32) {
	clear(wp)
	for co := 0; co < u.Cout; co++ {
		for ci := 0; ci < u.Cin; ci++ {
			k := w[(co*u.Cin+ci)*9 : (co*u.Cin+ci+1)*9]
			for py := 0; py < 2; py++ {
				for px := 0; px < 2; px++ {
					for ky := 0; ky < 3; ky++ {
						for kx := 0; kx < 3; kx++ {
							wp[u.packedAt(py*2+px, upTap(py, ky)-py, co, ci, upTap(px, kx)-px)] += k[ky*3+kx]
						}
					}
				}
			}
		}
	}
}

// unpack is the adjoint of pack: dw[co][ci][ky][kx] sums the phase
// gradients dwp over the four phases.
func (u upConvGeom) unpack(dwp, dw []float32) {
	for co := 0; co < u.Cout; co++ {
		for ci := 0; ci < u.Cin; ci++ {
			k := dw[(co*u.Cin+ci)*9 : (co*u.Cin+ci+1)*9]
			for ky := 0; ky < 3; ky++ {
				for kx := 0; kx < 3; kx++ {
					var s float32
					for py := 0; py < 2; py++ {
						for px := 0; px < 2; px++ {
							s += dwp[u.packedAt(py*2+px, upTap(py, ky)-py, co, ci, upTap(px, kx)-px)]
						}
					}
					k[ky*3+kx] = s
				}
			}
		}
	}
}

// phaseRows is the first patch-matrix row of the 2·Cin rows of taps
// (py+a, px) and (py+a, px+1).
func (u upConvGeom) phaseRows(py, px, a int) int { return ((py+a)*3 + px) * u.Cin }

// gatherPhase copies phase (py, px) of dy (B×Cout×2H×2W) for images
// [b0, b0+n) into out, Cout × (n·H·W).
func (u upConvGeom) gatherPhase(dy []float32, b0, n, py, px int, out []float32) {
	P, W2, ld := u.H*u.W, 2*u.W, n*u.H*u.W
	for j := 0; j < n; j++ {
		for co := 0; co < u.Cout; co++ {
			src := dy[((b0+j)*u.Cout+co)*4*P:]
			dst := out[co*ld+j*P:]
			for i := 0; i < u.H; i++ {
				srow := src[(2*i+py)*W2+px:]
				d := dst[i*u.W : (i+1)*u.W]
				for jj := range d {
					d[jj] = srow[2*jj]
				}
			}
		}
	}
}

// forward computes y = conv(upsample(x), w) + bias into y (B×Cout×2H×2W),
// keeping the patch matrices in cc when it is on.
func (u upConvGeom) forward(x, w, bias, y []float32, cc *colsCache) {
	lg := u.low()
	P, K2 := lg.P(), 2*u.Cin
	wp := buf32.get(u.packedLen())
	defer buf32.put(wp)
	u.pack(w, wp)
	W2 := 2 * u.W
	lg.patchChunks(x, cc, true, func(_, b0, n int, cols, tmp []float32) {
		ld := n * P
		for py := 0; py < 2; py++ {
			for px := 0; px < 2; px++ {
				ph := py*2 + px
				for a := 0; a < 2; a++ {
					gemmAt(blas.NoTrans, blas.NoTrans, u.Cout, ld, K2,
						1, wp[u.packedAt(ph, a, 0, 0, 0):], K2,
						cols[u.phaseRows(py, px, a)*ld:], ld,
						float32(a), tmp, ld)
				}
				for j := 0; j < n; j++ {
					for co := 0; co < u.Cout; co++ {
						dst := y[((b0+j)*u.Cout+co)*4*P:]
						src := tmp[co*ld+j*P:]
						bv := bias[co]
						for i := 0; i < u.H; i++ {
							drow := dst[(2*i+py)*W2+px:]
							for jj, v := range src[i*u.W : (i+1)*u.W] {
								drow[2*jj] = v + bv
							}
						}
					}
				}
			}
		}
	})
}

// gradWeight computes dW = ∂L/∂w from x and dy = ∂L/∂y: each chunk writes
// its phase-weight gradients Σ dY_ph·colsᵀ, added up in chunk order, then
// unpacked. The patch matrices come from cc when it holds those of x.
func (u upConvGeom) gradWeight(x, dy, dw []float32, cc *colsCache) {
	lg := u.low()
	P, cb, K2 := lg.P(), lg.chunkImages(), 2*u.Cin
	nc := (u.B + cb - 1) / cb
	sz := u.packedLen()
	part := buf32.get(nc * sz)
	defer buf32.put(part)
	lg.patchChunks(x, cc, false, func(c, b0, n int, cols, dyt []float32) {
		ld := n * P
		pw := part[c*sz : (c+1)*sz]
		for py := 0; py < 2; py++ {
			for px := 0; px < 2; px++ {
				ph := py*2 + px
				u.gatherPhase(dy, b0, n, py, px, dyt)
				for a := 0; a < 2; a++ {
					gemmAt(blas.NoTrans, blas.Trans, u.Cout, K2, ld,
						1, dyt, ld, cols[u.phaseRows(py, px, a)*ld:], ld,
						0, pw[u.packedAt(ph, a, 0, 0, 0):], K2)
				}
			}
		}
	})
	dwp := buf32.get(sz)
	defer buf32.put(dwp)
	clear(dwp)
	for c := 0; c < nc; c++ {
		for i, v := range part[c*sz : (c+1)*sz] {
			dwp[i] += v
		}
	}
	u.unpack(dwp, dw)
}

// gradInput computes dX = ∂L/∂x from w and dy = ∂L/∂y as a convolution of
// the four phases of dy, without col2im:
//
//	dX[ci][i][j] = Σ_{ph,a,b,co} w_ph[co][ci][a][b] · dY_ph[co][i+1−py−a][j+1−px−b]
//
// (zero outside): a patch matrix of 16·Cout rows (ph, a, b, co) over the
// low-resolution grid, shifted copies of the phases of dy, and one GEMM
// per chunk with the Cin × 16·Cout matrix of the phase weights.
func (u upConvGeom) gradInput(w, dy, dx []float32) {
	lg := u.low()
	P, cb, K := lg.P(), lg.chunkImages(), 16*u.Cout
	wp := buf32.get(u.packedLen())
	defer buf32.put(wp)
	u.pack(w, wp)
	wt := buf32.get(u.Cin * K)
	defer buf32.put(wt)
	for ph := 0; ph < 4; ph++ {
		for a := 0; a < 2; a++ {
			for b := 0; b < 2; b++ {
				for co := 0; co < u.Cout; co++ {
					r := ((ph*2+a)*2+b)*u.Cout + co
					for ci := 0; ci < u.Cin; ci++ {
						wt[ci*K+r] = wp[u.packedAt(ph, a, co, ci, b)]
					}
				}
			}
		}
	}
	lg.chunks((K+4*u.Cout+u.Cin)*cb*P, func(_, b0, n int, buf []float32) {
		ld := n * P
		cols := buf[:K*ld]
		phs := buf[K*cb*P : K*cb*P+4*u.Cout*ld]
		dxt := buf[(K+4*u.Cout)*cb*P : (K+4*u.Cout)*cb*P+u.Cin*ld]
		for py := 0; py < 2; py++ {
			for px := 0; px < 2; px++ {
				ph := py*2 + px
				u.gatherPhase(dy, b0, n, py, px, phs[ph*u.Cout*ld:])
				for a := 0; a < 2; a++ {
					for b := 0; b < 2; b++ {
						for co := 0; co < u.Cout; co++ {
							row := cols[(((ph*2+a)*2+b)*u.Cout+co)*ld:]
							src := phs[(ph*u.Cout+co)*ld:]
							for j := 0; j < n; j++ {
								lg.shiftPlane(src[j*P:(j+1)*P], row[j*P:(j+1)*P], 2-py-a, 2-px-b)
							}
						}
					}
				}
			}
		}
		gemmAt(blas.NoTrans, blas.NoTrans, u.Cin, ld, K, 1, wt, K, cols, ld, 0, dxt, ld)
		for j := 0; j < n; j++ {
			for ci := 0; ci < u.Cin; ci++ {
				copy(dx[((b0+j)*u.Cin+ci)*P:((b0+j)*u.Cin+ci+1)*P], dxt[ci*ld+j*P:])
			}
		}
	})
}

func (u upConvGeom) opName() string { return "UpConv3x3" }
func (u upConvGeom) inShape() tensor.Shape {
	return tensor.Shape{u.B, u.Cin, u.H, u.W}
}
func (u upConvGeom) outShape() tensor.Shape {
	return tensor.Shape{u.B, u.Cout, 2 * u.H, 2 * u.W}
}

// UpConv3x3 is Conv3x3(Upsample2x(x), w, bias, 1) in one op that never
// builds the upsampled image (see upConvGeom): x is B×Cin×H×W (float32), w
// Cout×Cin×3×3, bias 1×Cout×1×1; the result is B×Cout×2H×2W. It returns an
// error when the shapes do not fit or x is not float32.
func UpConv3x3(x, w, bias *G.Node) (*G.Node, error) {
	if err := check3x3("upconv3x3", x, w); err != nil {
		return nil, err
	}
	xs, ws := x.Shape(), w.Shape()
	return apply3x3(upConvGeom{B: xs[0], Cin: xs[1], H: xs[2], W: xs[3], Cout: ws[0]}, x, w, bias)
}
