package ops

import (
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
)

// Conv with a 3×3 kernel, padding 1 and no dilation computes the same
// convolution as Conv3x3: float64 against float32, equal to 1e-5 relative
// to the largest value.
func TestConvMatchesConv3x3(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	for _, stride := range []int{1, 2} {
		g3 := conv3x3Geom{B: 3, Cin: 2, H: 7, W: 6, Cout: 4, Stride: stride}
		g := ConvGeom{Rank: 4, B: 3, Cin: 2, H: 7, W: 6, Cout: 4, KH: 3, KW: 3, SH: stride, SW: stride, DH: 1, DW: 1, PT: 1, PL: 1, PB: 1, PR: 1}
		x, w, b := randF32(r, g.B*g.Cin*g.H*g.W), randF32(r, g.Cout*g.K()), randF32(r, g.Cout)
		y32 := make([]float32, g3.B*g3.Cout*g3.P())
		g3.forward(x, w, b, y32, nil)
		y := make([]float64, g.B*g.Cout*g.P())
		g.forward(convert[float64](x), convert[float64](w), convert[float64](b), y)
		if len(y) != len(y32) {
			t.Fatalf("stride %d: %d values, Conv3x3 %d", stride, len(y), len(y32))
		}
		if d := maxRelDiff(convert[float32](y), y32); d > 1e-5 {
			t.Errorf("stride %d: differs from Conv3x3 by %.2g (relative)", stride, d)
		}
	}
}

// Conv's gradients with respect to its input, weights and bias match
// central differences, for 1-D and 2-D convolutions with strides,
// dilations and unequal pads, with and without bias.
func TestConvGradients(t *testing.T) {
	for _, c := range []struct {
		name string
		g    ConvGeom
		bias bool
	}{
		{"1d", ConvGeom{Rank: 3, B: 3, Cin: 2, H: 1, W: 7, Cout: 3, KH: 1, KW: 3, SH: 1, SW: 2, DH: 1, DW: 2, PL: 2, PR: 1}, true},
		{"1d plain", ConvGeom{Rank: 3, B: 2, Cin: 1, H: 1, W: 5, Cout: 2, KH: 1, KW: 2, SH: 1, SW: 1, DH: 1, DW: 1}, false},
		{"2d", ConvGeom{Rank: 4, B: 2, Cin: 2, H: 4, W: 5, Cout: 3, KH: 2, KW: 3, SH: 1, SW: 2, DH: 2, DW: 1, PT: 0, PL: 1, PB: 2, PR: 2}, true},
		{"2d 1x1", ConvGeom{Rank: 4, B: 3, Cin: 3, H: 2, W: 2, Cout: 2, KH: 1, KW: 1, SH: 2, SW: 1, DH: 1, DW: 1}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(5, 5))
			g := c.g
			vals := [][]float64{randF64(r, g.inShape().TotalSize()), randF64(r, g.wShape().TotalSize())}
			shapes := [][]int{g.inShape(), g.wShape()}
			if c.bias {
				vals, shapes = append(vals, randF64(r, g.Cout)), append(shapes, []int{g.Cout})
			}
			wrt := make([]bool, len(vals))
			for i := range wrt {
				wrt[i] = true
			}
			gradCheck64(t, func(in ...*G.Node) (*G.Node, error) {
				var b *G.Node
				if c.bias {
					b = in[2]
				}
				return Conv(in[0], in[1], b, g)
			}, vals, shapes, wrt)
		})
	}
}
