package onnx

import (
	"fmt"
	"slices"

	"github.com/liesweep/liesweep/models/ops"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// convNode is ONNX's Conv with one group, of a 1-D input X [N, C, L] or a
// 2-D one [N, C, H, W] and weights W [M, C, k…]:
//
//	Y[n, m, o] = B[m] + Σ_c Σ_j X[n, c, o·s − p + j·d] · W[m, c, j],
//
// o and j running over the output's and the kernel's positions on each
// spatial axis, s its stride, d its dilation, p the zeros padded before it
// (X is 0 outside its bounds), B optional. Attributes: strides, dilations,
// pads [begin…, end…] (begin and end may differ), kernel_shape (W's, when
// given), group (1 only) and auto_pad (NOTSET only: PyTorch writes
// explicit pads).
func convNode(n *onnxNode, xs []*G.Node) (onnxValue, error) {
	if g := attrInt(n, "group", 1); g != 1 {
		return onnxValue{}, fmt.Errorf("attribute group = %d is not supported: liesweep imports Conv with group = 1 only (no grouped or depthwise convolutions)", g)
	}
	if a, ok := n.attrs["auto_pad"]; ok {
		if p := string(a.GetS()); p != "" && p != "NOTSET" {
			return onnxValue{}, fmt.Errorf("attribute auto_pad = %q is not supported: liesweep imports Conv with auto_pad NOTSET and explicit pads only", p)
		}
	}
	x, w, bias := xs[0], xs[1], xs[2:]
	s, ws := x.Shape(), w.Shape()
	if len(s) != 3 && len(s) != 4 {
		return onnxValue{}, fmt.Errorf("input of shape %v: liesweep imports 1-D convolutions of [N, C, L] and 2-D ones of [N, C, H, W] only", s)
	}
	if len(ws) != len(s) || ws[1] != s[1] {
		return onnxValue{}, fmt.Errorf("weight of shape %v does not fit input %v (want [M, %d, kernel…] with group = 1)", ws, s, s[1])
	}
	if slices.Min(s) < 1 || slices.Min(ws) < 1 {
		return onnxValue{}, fmt.Errorf("input %v or weight %v has an empty axis", s, ws)
	}
	sp := len(s) - 2
	kernel := []int(ws[2:])
	if k := attrInts(n, "kernel_shape"); k != nil {
		if len(k) != sp || !slices.EqualFunc(k, kernel, func(a int64, b int) bool { return a == int64(b) }) {
			return onnxValue{}, fmt.Errorf("attribute kernel_shape = %v does not match weight %v", k, ws)
		}
	}
	strides, err := convInts(n, "strides", sp, 1)
	if err != nil {
		return onnxValue{}, err
	}
	dil, err := convInts(n, "dilations", sp, 1)
	if err != nil {
		return onnxValue{}, err
	}
	pads, err := convInts(n, "pads", 2*sp, 0)
	if err != nil {
		return onnxValue{}, err
	}
	// the 1-D convolution is the 2-D one of height 1
	in, k, st, di, pb, pe := []int(s[2:]), kernel, strides, dil, pads[:sp], pads[sp:]
	if sp == 1 {
		in, k, st, di, pb, pe = []int{1, in[0]}, []int{1, k[0]}, []int{1, st[0]}, []int{1, di[0]}, []int{0, pb[0]}, []int{0, pe[0]}
	}
	for i := range 2 {
		// every term is at most onnxMaxElems (2^28): no overflow
		if span, padded := di[i]*(k[i]-1)+1, in[i]+pb[i]+pe[i]; span > padded {
			return onnxValue{}, fmt.Errorf("the kernel spans %d positions of spatial axis %d (kernel %d, dilation %d), more than the %d of the padded input %v (pads %v)", span, i+len(s)-2, k[i], di[i], padded, s, pads)
		}
	}
	g := ops.ConvGeom{Rank: len(s), B: s[0], Cin: s[1], H: in[0], W: in[1], Cout: ws[0],
		KH: k[0], KW: k[1], SH: st[0], SW: st[1], DH: di[0], DW: di[1], PT: pb[0], PL: pb[1], PB: pe[0], PR: pe[1]}
	if !boundedProd(g.B, g.Cout, g.Ho(), g.Wo()) || !boundedProd(g.K(), g.P()) {
		return onnxValue{}, fmt.Errorf("the output %v of input %v is too large", g.OutShape(), s)
	}
	var b *G.Node
	if len(bias) > 0 && bias[0] != nil {
		if b = bias[0]; !b.Shape().Eq(tensor.Shape{g.Cout}) {
			return onnxValue{}, fmt.Errorf("bias of shape %v, want (%d)", b.Shape(), g.Cout)
		}
	}
	return wrap(ops.Conv(x, w, b, g))
}

// convInts reads the integer list attribute name of a Conv node: count
// values, each from lo to onnxMaxElems; count times lo when it is absent.
func convInts(n *onnxNode, name string, count int, lo int64) ([]int, error) {
	a, ok := n.attrs[name]
	if !ok {
		return slices.Repeat([]int{int(lo)}, count), nil
	}
	v := a.GetInts()
	if len(v) != count {
		return nil, fmt.Errorf("attribute %s = %v: want %d values for this input", name, v, count)
	}
	out := make([]int, count)
	for i, x := range v {
		if x < lo || x > onnxMaxElems {
			return nil, fmt.Errorf("attribute %s = %v: each value must be from %d to %d", name, v, lo, onnxMaxElems)
		}
		out[i] = int(x)
	}
	return out, nil
}

// boundedProd reports whether the product of the non-negative dims is at
// most onnxMaxElems, without overflowing.
func boundedProd(dims ...int) bool {
	p := 1
	for _, d := range dims {
		if d < 0 || (d > 0 && p > onnxMaxElems/d) {
			return false
		}
		p *= d
	}
	return true
}
