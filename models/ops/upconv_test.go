package ops

import (
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
)

// upConvReference is the composition UpConv3x3 replaces.
func upConvReference(x, w, b *G.Node) (*G.Node, error) {
	u, err := Upsample2x(x)
	if err != nil {
		return nil, err
	}
	return Conv3x3(u, w, b, 1)
}

// The fused upsampling convolution equals Upsample2x followed by Conv3x3
// (the reference, itself checked against gorgonia's stock ops in
// TestConvOpsMatchStock) in value and in every gradient, up to float32
// rounding (the phase weights are sums of up to four weights: relative
// differences of a few ulps of the largest value, 1e-5 leaves room), and
// its gradients match finite differences.
func TestUpConvMatchesUpsampleConv(t *testing.T) {
	cases := []struct {
		name   string
		xs, ws []int
	}{
		{"small", []int{2, 3, 4, 3}, []int{5, 3, 3, 3}},
		{"one-pixel", []int{2, 2, 1, 1}, []int{3, 2, 3, 3}},
		{"one-row", []int{3, 2, 1, 5}, []int{2, 2, 3, 3}},
		{"one-column", []int{2, 2, 3, 1}, []int{2, 2, 3, 3}},
		{"decoder1-like", []int{5, 32, 7, 7}, []int{16, 32, 3, 3}},
		{"decoder2-like", []int{3, 16, 14, 14}, []int{1, 16, 3, 3}},
		{"many-chunks", []int{9, 2, 20, 20}, []int{2, 2, 3, 3}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(3, 4))
			nx, nw := c.xs[0]*c.xs[1]*c.xs[2]*c.xs[3], c.ws[0]*c.ws[1]*9
			x, w, b := randF32(r, nx), randF32(r, nw), randF32(r, c.ws[0])
			rr := randF32(r, c.xs[0]*c.ws[0]*4*c.xs[2]*c.xs[3])
			checkConv(t, r, UpConv3x3, upConvReference, "Upsample2x+Conv3x3", c.xs, c.ws, x, w, b, rr)
		})
	}
}
