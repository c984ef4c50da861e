package onnx

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	pb "github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/liesweep/liesweep/datasets"
	"github.com/liesweep/liesweep/models"
	"github.com/liesweep/liesweep/sweeps"
	"google.golang.org/protobuf/proto"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// onnxModel assembles an ONNX model in Go, so the importer's tests need no
// PyTorch: inputs and outputs [N, d] with a dynamic N, weights as DOUBLE
// (raw or double_data) or FLOAT (float_data) initializers.
type onnxModel struct{ m *pb.ModelProto }

func newONNXModel(opset int64, in, out int64) *onnxModel {
	vi := func(name string, d int64) *pb.ValueInfoProto {
		return &pb.ValueInfoProto{Name: name, Type: &pb.TypeProto{Value: &pb.TypeProto_TensorType{TensorType: &pb.TypeProto_Tensor{
			ElemType: int32(pb.TensorProto_DOUBLE),
			Shape: &pb.TensorShapeProto{Dim: []*pb.TensorShapeProto_Dimension{
				{Value: &pb.TensorShapeProto_Dimension_DimParam{DimParam: "N"}},
				{Value: &pb.TensorShapeProto_Dimension_DimValue{DimValue: d}},
			}},
		}}}}
	}
	return &onnxModel{m: &pb.ModelProto{
		IrVersion:   8,
		OpsetImport: []*pb.OperatorSetIdProto{{Version: opset}},
		Graph:       &pb.GraphProto{Name: "test", Input: []*pb.ValueInfoProto{vi("x", in)}, Output: []*pb.ValueInfoProto{vi("y", out)}},
	}}
}

// double adds a DOUBLE initializer stored as raw little-endian bytes.
func (b *onnxModel) double(name string, dims []int64, v ...float64) {
	raw := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(raw[8*i:], math.Float64bits(x))
	}
	b.m.Graph.Initializer = append(b.m.Graph.Initializer, &pb.TensorProto{Name: name, Dims: dims, DataType: int32(pb.TensorProto_DOUBLE), RawData: raw})
}

// float adds a FLOAT initializer stored in float_data.
func (b *onnxModel) float(name string, dims []int64, v ...float32) {
	b.m.Graph.Initializer = append(b.m.Graph.Initializer, &pb.TensorProto{Name: name, Dims: dims, DataType: int32(pb.TensorProto_FLOAT), FloatData: v})
}

// ints adds a one-dimensional INT64 initializer stored in int64_data.
func (b *onnxModel) ints(name string, v ...int64) {
	b.m.Graph.Initializer = append(b.m.Graph.Initializer, &pb.TensorProto{Name: name, Dims: []int64{int64(len(v))}, DataType: int32(pb.TensorProto_INT64), Int64Data: v})
}

func (b *onnxModel) node(op, name string, in []string, out string, attrs ...*pb.AttributeProto) *pb.NodeProto {
	n := &pb.NodeProto{OpType: op, Name: name, Input: in, Output: []string{out}, Attribute: attrs}
	b.m.Graph.Node = append(b.m.Graph.Node, n)
	return n
}

func (b *onnxModel) bytes(t testing.TB) []byte {
	t.Helper()
	data, err := proto.Marshal(b.m)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func attrI(name string, v int64) *pb.AttributeProto {
	return &pb.AttributeProto{Name: name, Type: pb.AttributeProto_INT, I: v}
}

func attrF(name string, v float32) *pb.AttributeProto {
	return &pb.AttributeProto{Name: name, Type: pb.AttributeProto_FLOAT, F: v}
}

func attrIs(name string, v ...int64) *pb.AttributeProto {
	return &pb.AttributeProto{Name: name, Type: pb.AttributeProto_INTS, Ints: v}
}

func attrS(name, v string) *pb.AttributeProto {
	return &pb.AttributeProto{Name: name, Type: pb.AttributeProto_STRING, S: []byte(v)}
}

// elementwiseModel is ψ: R³ → R³,
//
//	u = (x + c)·s / r − x,  p = softmax(sigmoid(u)),  y = √|−log p|,
//
// with c a vector (3), s a scalar Constant node, r a row (1×3): numpy
// broadcasting of each kind. want computes the same in Go.
func elementwiseModel(t testing.TB) (data []byte, want func(x []float64) []float64) {
	c, s, r := []float64{0.5, -1, 2}, 2.0, []float64{1.5, -0.7, 3}
	m := newONNXModel(13, 3, 3)
	m.double("c", []int64{3}, c...)
	m.m.Graph.Initializer = append(m.m.Graph.Initializer, &pb.TensorProto{Name: "r", Dims: []int64{1, 3}, DataType: int32(pb.TensorProto_DOUBLE), DoubleData: r})
	m.node("Constant", "/s", nil, "s", &pb.AttributeProto{Name: "value_float", Type: pb.AttributeProto_FLOAT, F: float32(s)})
	m.node("Add", "/add", []string{"x", "c"}, "a")
	m.node("Mul", "/mul", []string{"a", "s"}, "m")
	m.node("Div", "/div", []string{"m", "r"}, "d")
	m.node("Sub", "/sub", []string{"d", "x"}, "u")
	m.node("Sigmoid", "/sigmoid", []string{"u"}, "g")
	m.node("Softmax", "/softmax", []string{"g"}, "p", attrI("axis", 1))
	m.node("Log", "/log", []string{"p"}, "l")
	m.node("Neg", "/neg", []string{"l"}, "n")
	m.node("Abs", "/abs", []string{"n"}, "b")
	m.node("Sqrt", "/sqrt", []string{"b"}, "q")
	m.node("Identity", "/id", []string{"q"}, "y")
	return m.bytes(t), func(x []float64) []float64 {
		g := make([]float64, 3)
		var z float64
		for j := range g {
			u := (x[j]+c[j])*s/r[j] - x[j]
			g[j] = 1 / (1 + math.Exp(-u))
			z += math.Exp(g[j])
		}
		y := make([]float64, 3)
		for j := range y {
			y[j] = math.Sqrt(math.Abs(-math.Log(math.Exp(g[j]) / z)))
		}
		return y
	}
}

// shapesModel is ψ: R⁴ → R¹⁰: x reshaped to [N, 2, 2] (the 0 copying N),
// multiplied by W (2×3, float_data), flattened, joined to x, given an axis
// and relieved of it, then tanh:
//
//	y = tanh([vec(X W), x]),  X_ab = x_{2a+b}.
func shapesModel(t testing.TB) (data []byte, want func(x []float64) []float64) {
	w := []float32{0.3, -1.2, 0.8, 2.0, 0.1, -0.5}
	m := newONNXModel(13, 4, 10)
	m.float("W", []int64{2, 3}, w...)
	m.ints("to", 0, 2, 2)
	m.ints("axes", 1)
	m.node("Reshape", "/reshape", []string{"x", "to"}, "r")
	m.node("MatMul", "/matmul", []string{"r", "W"}, "p")
	m.node("Flatten", "/flatten", []string{"p"}, "f", attrI("axis", 1))
	m.node("Concat", "/concat", []string{"f", "x"}, "c", attrI("axis", -1))
	m.node("Unsqueeze", "/unsqueeze", []string{"c", "axes"}, "u")
	m.node("Squeeze", "/squeeze", []string{"u", "axes"}, "s")
	m.node("Tanh", "/tanh", []string{"s"}, "y")
	return m.bytes(t), func(x []float64) []float64 {
		y := make([]float64, 0, 10)
		for a := 0; a < 2; a++ {
			for c := 0; c < 3; c++ {
				var v float64
				for k := 0; k < 2; k++ {
					v += x[2*a+k] * float64(w[3*k+c])
				}
				y = append(y, math.Tanh(v))
			}
		}
		for _, v := range x {
			y = append(y, math.Tanh(v))
		}
		return y
	}
}

// gemmModel is ψ: R² → R³ through the two Gemm paths:
//
//	h = relu(x·W1ᵀ + b1)               (transB, the fused Dense op)
//	y = 0.5·(hᵀ)ᵀ·W2 + 2·c             (transA of a Transpose, alpha, beta)
func gemmModel(t testing.TB) (data []byte, want func(x []float64) []float64) {
	w1 := []float64{1, -2, 0.5, 3, -1, 1} // 3×2, PyTorch's (out, in)
	b1 := []float64{0.1, -0.2, 0.3}
	w2 := []float64{1, 0, -1, 2, 0.5, 0.5, -1, 1, 3} // 3×3, (in, out)
	c := []float64{1, -1, 0.5}
	m := newONNXModel(17, 2, 3)
	m.double("W1", []int64{3, 2}, w1...)
	m.double("b1", []int64{3}, b1...)
	m.double("W2", []int64{3, 3}, w2...)
	m.double("c", []int64{1, 3}, c...)
	m.node("Gemm", "/fc1", []string{"x", "W1", "b1"}, "g", attrI("transB", 1))
	m.node("Relu", "/relu", []string{"g"}, "h")
	m.node("Transpose", "/t", []string{"h"}, "ht", attrIs("perm", 1, 0))
	m.node("Gemm", "/fc2", []string{"ht", "W2", "c"}, "y", attrI("transA", 1), attrF("alpha", 0.5), attrF("beta", 2))
	return m.bytes(t), func(x []float64) []float64 {
		h := make([]float64, 3)
		for o := range h {
			h[o] = max(0, x[0]*w1[2*o]+x[1]*w1[2*o+1]+b1[o])
		}
		y := make([]float64, 3)
		for o := range y {
			for k := range h {
				y[o] += 0.5 * h[k] * w2[3*k+o]
			}
			y[o] += 2 * c[o]
		}
		return y
	}
}

// refConvGeom is a convolution of one image c×h×w by m filters c×kh×kw
// with strides s, dilations d, and pb and pe zeros padded before and after
// each spatial axis (a 1-D convolution has h = kh = 1).
type refConvGeom struct {
	c, h, w, m, kh, kw int
	s, d, pb, pe       [2]int
}

// refConv is ONNX's Conv computed from its definition, one output at a
// time:
//
//	y[m, oy, ox] = b[m] + Σ_c Σ_ky Σ_kx x[c, iy, ix]·wt[m, c, ky, kx],
//	iy = oy·s₀ − pb₀ + ky·d₀,  ix = ox·s₁ − pb₁ + kx·d₁,
//
// x taken as 0 outside its bounds; b nil for no bias.
func refConv(g refConvGeom, x, wt, b []float64) []float64 {
	ho := (g.h+g.pb[0]+g.pe[0]-g.d[0]*(g.kh-1)-1)/g.s[0] + 1
	wo := (g.w+g.pb[1]+g.pe[1]-g.d[1]*(g.kw-1)-1)/g.s[1] + 1
	y := make([]float64, 0, g.m*ho*wo)
	for m := 0; m < g.m; m++ {
		for oy := 0; oy < ho; oy++ {
			for ox := 0; ox < wo; ox++ {
				var v float64
				if b != nil {
					v = b[m]
				}
				for c := 0; c < g.c; c++ {
					for ky := 0; ky < g.kh; ky++ {
						for kx := 0; kx < g.kw; kx++ {
							iy, ix := oy*g.s[0]-g.pb[0]+ky*g.d[0], ox*g.s[1]-g.pb[1]+kx*g.d[1]
							if iy >= 0 && iy < g.h && ix >= 0 && ix < g.w {
								v += x[(c*g.h+iy)*g.w+ix] * wt[((m*g.c+c)*g.kh+ky)*g.kw+kx]
							}
						}
					}
				}
				y = append(y, v)
			}
		}
	}
	return y
}

// conv1dModel is ψ: R¹² → R⁹, a 1-D convolution with bias, stride 2,
// dilation 2 and unequal pads (2 before, 1 after) of x viewed as 2
// channels of 6:
//
//	y = vec(tanh(conv(reshape(x, [N, 2, 6]), W, B))),  W: 3×2×3,
//
// the output 3 channels of ⌊(6 + 3 − 5)/2⌋ + 1 = 3. The flatten is of the
// tanh's output, whose gradient reads that output: the importer's reshapes
// copy (ops.ReshapeCopy), so no later op can overwrite it in place.
func conv1dModel(t testing.TB) (data []byte, want func(x []float64) []float64) {
	w := []float64{0.5, -1, 0.3, 1.2, 0.7, -0.4, -0.8, 0.2, 1.5, 0.1, -0.6, 0.9, 0.4, 0.4, -1.1, 0.6, -0.3, 0.8}
	b := []float64{0.1, -0.2, 0.05}
	m := newONNXModel(13, 12, 9)
	m.ints("to", 0, 2, 6)
	m.double("W", []int64{3, 2, 3}, w...)
	m.double("B", []int64{3}, b...)
	m.node("Reshape", "/view", []string{"x", "to"}, "r")
	m.node("Conv", "/conv", []string{"r", "W", "B"}, "c", attrIs("kernel_shape", 3), attrIs("strides", 2), attrIs("pads", 2, 1), attrIs("dilations", 2), attrI("group", 1), attrS("auto_pad", "NOTSET"))
	m.node("Tanh", "/tanh", []string{"c"}, "h")
	m.node("Flatten", "/flatten", []string{"h"}, "y", attrI("axis", 1))
	g := refConvGeom{c: 2, h: 1, w: 6, m: 3, kh: 1, kw: 3, s: [2]int{1, 2}, d: [2]int{1, 2}, pb: [2]int{0, 2}, pe: [2]int{0, 1}}
	return m.bytes(t), func(x []float64) []float64 {
		y := refConv(g, x, w, b)
		for i, v := range y {
			y[i] = math.Tanh(v)
		}
		return y
	}
}

// conv2dModel is ψ: R²⁴ → R¹⁸, a 2-D convolution without bias, strides
// (1, 2), dilations (2, 1) and pads unequal on both axes (top 0, left 1,
// bottom 2, right 2) of x viewed as 2 channels of 3×4, the weights float32:
//
//	y = vec(tanh(conv(reshape(x, [N, 2, 3, 4]), W))),  W: 2×2×2×3,
//
// the output 2 channels of 3×3.
func conv2dModel(t testing.TB) (data []byte, want func(x []float64) []float64) {
	w32 := []float32{0.5, -1, 0.3, 1.2, 0.7, -0.4, -0.8, 0.2, 1.5, 0.1, -0.6, 0.9, 0.4, 0.4, -1.1, 0.6, -0.3, 0.8, 1, -0.5, 0.25, 0.75, -0.9, 0.35}
	w := make([]float64, len(w32))
	for i, v := range w32 {
		w[i] = float64(v)
	}
	m := newONNXModel(17, 24, 18)
	m.ints("to", 0, 2, 3, 4)
	m.float("W", []int64{2, 2, 2, 3}, w32...)
	m.node("Reshape", "/view", []string{"x", "to"}, "r")
	m.node("Conv", "/conv", []string{"r", "W"}, "c", attrIs("strides", 1, 2), attrIs("pads", 0, 1, 2, 2), attrIs("dilations", 2, 1))
	m.node("Tanh", "/tanh", []string{"c"}, "h")
	m.node("Flatten", "/flatten", []string{"h"}, "y", attrI("axis", 1))
	g := refConvGeom{c: 2, h: 3, w: 4, m: 2, kh: 2, kw: 3, s: [2]int{1, 2}, d: [2]int{2, 1}, pb: [2]int{0, 1}, pe: [2]int{2, 2}}
	return m.bytes(t), func(x []float64) []float64 {
		y := refConv(g, x, w, nil)
		for i, v := range y {
			y[i] = math.Tanh(v)
		}
		return y
	}
}

// TestImportONNXOps checks models built in Go against the same formulas
// computed in Go (float64 throughout: agreement to 1e-12 relative, the
// rounding of a few dozen operations), for a batch and for one point.
func TestImportONNXOps(t *testing.T) {
	for _, tc := range []struct {
		name  string
		model func(testing.TB) ([]byte, func([]float64) []float64)
		in    int
	}{
		{"elementwise", elementwiseModel, 3},
		{"shapes", shapesModel, 4},
		{"gemm", gemmModel, 2},
		{"conv1d", conv1dModel, 12},
		{"conv2d", conv2dModel, 24},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, want := tc.model(t)
			o, err := Import(data)
			if err != nil {
				t.Fatal(err)
			}
			if o.InDim() != tc.in || o.OutDim() != len(want(make([]float64, tc.in))) {
				t.Fatalf("dims %d → %d", o.InDim(), o.OutDim())
			}
			pts := datasets.GaussianSamples(5, tc.in, 11, 0)
			checkRows(t, o, pts, func(i int) []float64 { return want(pts[i]) }, 1e-12)
			checkRows(t, o, pts[:1], func(int) []float64 { return want(pts[0]) }, 1e-12)
		})
	}
}

// checkRows compares models.EvalOracle(o, pts) row by row with want, to tol
// relative (absolute below 1).
func checkRows(t *testing.T, o models.Oracle, pts [][]float64, want func(i int) []float64, tol float64) {
	t.Helper()
	got, err := models.EvalOracle(o, pts)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(pts) {
		t.Fatalf("%d rows for %d points", len(got), len(pts))
	}
	for i, row := range got {
		w := want(i)
		if len(row) != len(w) {
			t.Fatalf("row %d: %d values, want %d", i, len(row), len(w))
		}
		for j := range row {
			if d := math.Abs(row[j] - w[j]); !(d <= tol*math.Max(1, math.Abs(w[j]))) {
				t.Errorf("row %d col %d: got %.15g, want %.15g (|Δ| = %.2g)", i, j, row[j], w[j], d)
			}
		}
	}
}

// TestImportONNXErrors checks that models Import cannot use are refused
// with an error that says why, is an invalid spec, and never a panic.
func TestImportONNXErrors(t *testing.T) {
	valid, _ := gemmModel(t)
	edit := func(f func(m *onnxModel)) []byte {
		m := newONNXModel(13, 3, 2)
		m.double("W", []int64{3, 2}, 1, 2, 3, 4, 5, 6)
		f(m)
		return m.bytes(t)
	}
	// conv is x viewed as [N, 1, 3], a Conv with weights 2×1×2 and attrs,
	// then flattened to [N, 2·L].
	conv := func(attrs ...*pb.AttributeProto) []byte {
		return edit(func(m *onnxModel) {
			m.ints("to", 0, 1, 3)
			m.double("K", []int64{2, 1, 2}, 1, 2, 3, 4)
			m.node("Reshape", "/view", []string{"x", "to"}, "r")
			m.node("Conv", "/conv", []string{"r", "K"}, "c", attrs...)
			m.node("Flatten", "/flatten", []string{"c"}, "y")
		})
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"not protobuf", []byte("this is not an ONNX model\x00\xff\xff\xff"), "onnx: decode model"},
		{"empty", nil, "imports no opset"},
		{"truncated", valid[:len(valid)/2], "onnx: "},
		{"opset 12", edit(func(m *onnxModel) {
			m.m.OpsetImport[0].Version = 12
			m.node("MatMul", "/mm", []string{"x", "W"}, "y")
		}), "opset 12; liesweep imports opset 13 or later"},
		{"unsupported operator", edit(func(m *onnxModel) {
			m.node("MatMul", "/mm", []string{"x", "W"}, "h")
			m.node("Erf", "/act/Erf", []string{"h"}, "y")
		}), `onnx: node "/act/Erf" uses operator Erf, which liesweep cannot import (supported: Abs, Add,`},
		{"other domain", edit(func(m *onnxModel) {
			m.node("Gelu", "/gelu", []string{"x"}, "h").Domain = "com.microsoft"
			m.node("MatMul", "/mm", []string{"h", "W"}, "y")
		}), `node "/gelu" uses operator com.microsoft.Gelu`},
		{"unnamed node", edit(func(m *onnxModel) {
			m.node("MatMul", "", []string{"x", "W"}, "h")
			m.node("LSTM", "", []string{"h"}, "y")
		}), `node "#1" uses operator LSTM`},
		{"undefined input", edit(func(m *onnxModel) { m.node("MatMul", "/mm", []string{"x", "V"}, "y") }), `node "/mm" (MatMul) reads "V", which no earlier node`},
		{"no output node", edit(func(m *onnxModel) { m.node("MatMul", "/mm", []string{"x", "W"}, "z") }), `no node computes the output "y"`},
		{"two inputs", edit(func(m *onnxModel) {
			m.m.Graph.Input = append(m.m.Graph.Input, &pb.ValueInfoProto{Name: "t"})
			m.node("MatMul", "/mm", []string{"x", "W"}, "y")
		}), `the model has 2 inputs ["x" "t"]`},
		{"image input", edit(func(m *onnxModel) {
			s := m.m.Graph.Input[0].Type.GetTensorType().Shape
			s.Dim = append(s.Dim, &pb.TensorShapeProto_Dimension{Value: &pb.TensorShapeProto_Dimension_DimValue{DimValue: 28}})
			m.node("MatMul", "/mm", []string{"x", "W"}, "y")
		}), `input "x" has shape [N, 3, 28]; ψ takes points [N, d]`},
		{"short data", edit(func(m *onnxModel) {
			m.double("V", []int64{2, 2}, 1, 2, 3)
			m.node("MatMul", "/mm", []string{"x", "W"}, "y")
		}), `initializer "V": shape [2 2] wants 4 elements, the data holds 3`},
		{"external data", edit(func(m *onnxModel) {
			m.m.Graph.Initializer[0].DataLocation = pb.TensorProto_EXTERNAL
			m.node("MatMul", "/mm", []string{"x", "W"}, "y")
		}), "external file"},
		{"float16", edit(func(m *onnxModel) {
			m.m.Graph.Initializer[0].DataType = int32(pb.TensorProto_FLOAT16)
			m.node("MatMul", "/mm", []string{"x", "W"}, "y")
		}), "data type FLOAT16 is not supported"},
		{"shapes do not fit", edit(func(m *onnxModel) { m.node("MatMul", "/mm", []string{"W", "x"}, "y") }), `node "/mm" (MatMul): cannot multiply (3, 2) by (7, 3)`},
		{"fixed batch", edit(func(m *onnxModel) {
			m.ints("to", 1, 2)
			m.node("MatMul", "/mm", []string{"x", "W"}, "h")
			m.node("Reshape", "/reshape", []string{"h", "to"}, "y")
		}), "fixed batch size"},
		{"softmax axis", edit(func(m *onnxModel) {
			m.node("MatMul", "/mm", []string{"x", "W"}, "h")
			m.node("Softmax", "/softmax", []string{"h"}, "y", attrI("axis", 0))
		}), "only the last axis"},
		{"output width", edit(func(m *onnxModel) {
			m.m.Graph.Output[0].Type.GetTensorType().Shape.Dim[1].Value = &pb.TensorShapeProto_Dimension_DimValue{DimValue: 5}
			m.node("MatMul", "/mm", []string{"x", "W"}, "y")
		}), `output "y" has shape (7, 2) for 7 points`},
		{"constant output", edit(func(m *onnxModel) { m.node("Identity", "/id", []string{"W"}, "y") }), `output "y" does not depend on the points`},
		{"conv group", conv(attrI("group", 2)), `node "/conv" (Conv): attribute group = 2 is not supported: liesweep imports Conv with group = 1 only`},
		{"conv auto_pad", conv(attrS("auto_pad", "SAME_UPPER")), `node "/conv" (Conv): attribute auto_pad = "SAME_UPPER" is not supported`},
		{"conv stride 0", conv(attrIs("strides", 0)), "attribute strides = [0]: each value must be from 1 to"},
		{"conv negative pad", conv(attrIs("pads", -1, 0)), "attribute pads = [-1 0]: each value must be from 0 to"},
		{"conv huge dilation", conv(attrIs("dilations", 1<<40)), "attribute dilations = [1099511627776]: each value must be from 1 to"},
		{"conv pads of 2-D", conv(attrIs("pads", 0, 0, 0, 0)), "attribute pads = [0 0 0 0]: want 2 values"},
		{"conv kernel_shape", conv(attrIs("kernel_shape", 3)), "attribute kernel_shape = [3] does not match weight (2, 1, 2)"},
		{"conv kernel too long", conv(attrIs("dilations", 3)), "the kernel spans 4 positions of spatial axis 2 (kernel 2, dilation 3), more than the 3 of the padded input (7, 1, 3)"},
		{"conv huge output", conv(attrIs("pads", 1<<28, 1<<28)), "is too large"},
		{"conv of points", edit(func(m *onnxModel) {
			m.double("K", []int64{2, 3}, 1, 2, 3, 4, 5, 6)
			m.node("Conv", "/conv", []string{"x", "K"}, "y")
		}), "input of shape (7, 3): liesweep imports 1-D convolutions of [N, C, L] and 2-D ones of [N, C, H, W] only"},
		{"conv channels", edit(func(m *onnxModel) {
			m.ints("to", 0, 1, 3)
			m.double("K", []int64{2, 3, 1}, 1, 2, 3, 4, 5, 6)
			m.node("Reshape", "/view", []string{"x", "to"}, "r")
			m.node("Conv", "/conv", []string{"r", "K"}, "y")
		}), "weight of shape (2, 3, 1) does not fit input (7, 1, 3) (want [M, 1, kernel…] with group = 1)"},
		{"conv bias", edit(func(m *onnxModel) {
			m.ints("to", 0, 1, 3)
			m.double("K", []int64{2, 1, 1}, 1, 2)
			m.double("B", []int64{3}, 1, 2, 3)
			m.node("Reshape", "/view", []string{"x", "to"}, "r")
			m.node("Conv", "/conv", []string{"r", "K", "B"}, "y")
		}), "bias of shape (3), want (2)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := Import(tc.data)
			if err == nil {
				t.Fatalf("imported (%d → %d), want an error", o.InDim(), o.OutDim())
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\n does not contain %q", err, tc.want)
			}
			if !errors.Is(err, sweeps.ErrInvalidSpec) {
				t.Errorf("error %v is not an invalid spec", err)
			}
			var u *UnsupportedOpError
			if errors.As(err, &u) != strings.Contains(tc.want, "uses operator") {
				t.Errorf("errors.As(*UnsupportedOpError) = %v for %v", !strings.Contains(tc.want, "uses operator"), err)
			}
		})
	}
}

// TestONNXGradients checks, against finite differences (onnxGradCheck), that
// the invariance loss (eq. 10) differentiates through imported models into
// a linear generator set, through broadcasts, softmax, reshapes, both
// Gemm paths and 1-D and 2-D convolutions; ψ's weights are not among the
// parameters, so stay frozen.
func TestONNXGradients(t *testing.T) {
	for _, tc := range []struct {
		name  string
		model func(testing.TB) ([]byte, func([]float64) []float64)
	}{
		{"elementwise", elementwiseModel},
		{"shapes", shapesModel},
		{"gemm", gemmModel},
		{"conv1d", conv1dModel},
		{"conv2d", conv2dModel},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, _ := tc.model(t)
			o, err := Import(data)
			if err != nil {
				t.Fatal(err)
			}
			onnxGradCheck(t, o)
		})
	}
}

// onnxGradCheck checks, against finite differences, the gradient of the
// generators' invariance loss (eq. 10) through o (models.GeneratorGradCheck).
func onnxGradCheck(t *testing.T, o models.Oracle) {
	t.Helper()
	if err := models.GeneratorGradCheck(o); err != nil {
		t.Error(err)
	}
}

// torchExport builds small networks in PyTorch with fixed seeds, exports
// each with torch.onnx.export (dynamic batch axis) and records its outputs
// on fixed inputs and its state_dict in expected.json. float64 networks,
// except "probs" (float32).
const torchExport = `
import json, os, sys
import torch
from torch import nn

out = sys.argv[1]
torch.manual_seed(0)
gen = torch.Generator().manual_seed(1)

class Shapes(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin1 = nn.Linear(6, 12)
        self.register_buffer("scale", torch.randn(3, 4, generator=gen))
        self.register_buffer("shift", torch.randn(4, generator=gen))
        self.register_buffer("div", torch.rand(6, generator=gen) + 0.5)
        self.w = nn.Parameter(torch.randn(6, 5, generator=gen))
        self.flat = nn.Flatten()
        self.lin2 = nn.Linear(10, 2)

    def forward(self, x):
        h = self.lin1(x).view(-1, 3, 4)
        h = torch.tanh(h) * self.scale + self.shift
        h = h.reshape(h.size(0), 2, 6)
        h = (h - 0.5) / self.div
        h = h @ self.w
        return self.lin2(self.flat(h))

class Recurrent(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 4, batch_first=True)
        self.lin = nn.Linear(4, 1)

    def forward(self, x):
        h, _ = self.lstm(x.unsqueeze(1))
        return self.lin(h.squeeze(1))

class Misc(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin1 = nn.Linear(3, 6)
        self.act = nn.LeakyReLU(0.1)
        self.sp = nn.Softplus()
        self.lin2 = nn.Linear(6, 2)

    def forward(self, x):
        h = self.sp(self.act(self.lin1(x)))
        h = h.view(-1, 2, 3).transpose(1, 2).reshape(-1, 6)
        return self.lin2(torch.exp(-h))

models = [
    ("mlp", nn.Sequential(nn.Linear(3, 16), nn.Tanh(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 2)).double(), 3, 13),
    ("mlp-tanh", nn.Sequential(nn.Linear(3, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 2)).double(), 3, 17),
    ("probs", nn.Sequential(nn.Linear(4, 8), nn.Sigmoid(), nn.Linear(8, 3), nn.Softmax(dim=1)), 4, 14),
    ("probs-last", nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3), nn.Softmax(dim=-1)).double(), 4, 13),
    ("shapes", Shapes().double(), 6, 13),
    ("misc", Misc().double(), 3, 15),
    ("gelu", nn.Sequential(nn.Linear(3, 4), nn.GELU(), nn.Linear(4, 1)).double(), 3, 13),
    ("lstm", Recurrent().double(), 3, 13),
    ("opset12", nn.Sequential(nn.Linear(3, 2)).double(), 3, 12),
]
meta = {}
for name, m, d, opset in models:
    m.eval()
    dt = next(m.parameters()).dtype
    x = torch.randn(7, d, generator=gen, dtype=torch.float64).to(dt)
    torch.onnx.export(m, (x,), os.path.join(out, name + ".onnx"), opset_version=opset,
                      input_names=["x"], output_names=["y"], dynamic_axes={"x": {0: "N"}, "y": {0: "N"}})
    with torch.no_grad():
        y = m(x)
    meta[name] = {
        "inputs": x.double().tolist(),
        "outputs": y.double().tolist(),
        "params": {k: {"shape": list(v.shape), "data": v.double().flatten().tolist()} for k, v in m.state_dict().items()},
    }
with open(os.path.join(out, "expected.json"), "w") as f:
    json.dump(meta, f)
`

type torchModel struct {
	Inputs  [][]float64 `json:"inputs"`
	Outputs [][]float64 `json:"outputs"`
	Params  map[string]struct {
		Shape []int     `json:"shape"`
		Data  []float64 `json:"data"`
	} `json:"params"`
	// Cotangent v and InputGrad ∂(Σ v ⊙ ψ(x))/∂x, where the script
	// records them (torchConvExport)
	Cotangent [][]float64 `json:"cotangent"`
	InputGrad [][]float64 `json:"input_grad"`
}

// exportTorch runs script (torchExport, torchConvExport) with Debian's
// PyTorch (python3-torch) into a temporary directory, and skips the test
// when PyTorch is not installed.
func exportTorch(t *testing.T, script string) (dir string, exported map[string]torchModel) {
	t.Helper()
	const python = "/usr/bin/python3"
	if out, err := exec.Command(python, "-c", "import torch").CombinedOutput(); err != nil {
		t.Skipf("PyTorch is not installed (apt-get install python3-torch): %s: %v %s", python, err, strings.TrimSpace(string(out)))
	}
	dir = t.TempDir()
	path := filepath.Join(dir, "export.py")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(python, path, dir).CombinedOutput(); err != nil {
		t.Fatalf("export with PyTorch: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &exported); err != nil {
		t.Fatal(err)
	}
	return dir, exported
}

func importFile(t *testing.T, path string) (*Oracle, error) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return Import(data)
}

// TestONNXFromPyTorch imports models exported by PyTorch: ψ equals
// PyTorch's outputs, the same weights as a native MLPOracle give the same
// ψ, gradients flow through it, and what cannot be imported says so.
func TestONNXFromPyTorch(t *testing.T) {
	dir, exported := exportTorch(t, torchExport)

	// float64 networks agree to rounding (1e-12 relative: the same
	// operations, summed in another order); the float32 one to 1e-5, as
	// PyTorch rounds each of its operations to float32 (~6e-8 relative)
	// and ψ here computes in float64.
	for _, tc := range []struct {
		name string
		tol  float64
	}{{"mlp", 1e-12}, {"mlp-tanh", 1e-12}, {"probs", 1e-5}, {"probs-last", 1e-12}, {"shapes", 1e-12}, {"misc", 1e-12}} {
		t.Run("matches PyTorch/"+tc.name, func(t *testing.T) {
			want := exported[tc.name]
			o, err := importFile(t, filepath.Join(dir, tc.name+".onnx"))
			if err != nil {
				t.Fatal(err)
			}
			if o.InDim() != len(want.Inputs[0]) || o.OutDim() != len(want.Outputs[0]) {
				t.Fatalf("dims %d → %d, PyTorch %d → %d", o.InDim(), o.OutDim(), len(want.Inputs[0]), len(want.Outputs[0]))
			}
			checkRows(t, o, want.Inputs, func(i int) []float64 { return want.Outputs[i] }, tc.tol)
			checkRows(t, o, want.Inputs[2:3], func(int) []float64 { return want.Outputs[2] }, tc.tol)
		})
	}

	t.Run("same as MLPOracle", func(t *testing.T) {
		want := exported["mlp-tanh"]
		imported, err := importFile(t, filepath.Join(dir, "mlp-tanh.onnx"))
		if err != nil {
			t.Fatal(err)
		}
		native := models.NewOracle(1, 3, models.OracleArch{Hidden: []int{16, 16}, Activation: models.ActTanh, Outputs: 2}, models.PreserveLogits)
		for i := 0; i < 3; i++ {
			// PyTorch's Linear holds W as (out, in); MLP holds (in, out).
			w, b := want.Params[fmt.Sprintf("%d.weight", 2*i)], want.Params[fmt.Sprintf("%d.bias", 2*i)]
			out, in := w.Shape[0], w.Shape[1]
			dst := native.Net.Params[2*i].Float64s()
			if len(dst) != out*in {
				t.Fatalf("layer %d: native weight has %d values, PyTorch's %v", i, len(dst), w.Shape)
			}
			for r := 0; r < out; r++ {
				for c := 0; c < in; c++ {
					dst[c*out+r] = w.Data[r*in+c]
				}
			}
			copy(native.Net.Params[2*i+1].Float64s(), b.Data)
		}
		pts := datasets.GaussianSamples(9, 3, 5, 0)
		nat, err := models.EvalOracle(native, pts)
		if err != nil {
			t.Fatal(err)
		}
		// Both are the same fused Dense ops on the same float64 weights.
		checkRows(t, imported, pts, func(i int) []float64 { return nat[i] }, 1e-14)
	})

	t.Run("gradients", func(t *testing.T) {
		for _, name := range []string{"mlp-tanh", "probs", "shapes"} {
			t.Run(name, func(t *testing.T) {
				o, err := importFile(t, filepath.Join(dir, name+".onnx"))
				if err != nil {
					t.Fatal(err)
				}
				onnxGradCheck(t, o)
			})
		}
	})

	for _, tc := range []struct{ name, want string }{
		{"gelu", `node "/1/Erf" uses operator Erf, which liesweep cannot import`},
		// the first node of PyTorch's LSTM export it cannot import makes
		// the zero initial state
		{"lstm", `node "/lstm/ConstantOfShape" uses operator ConstantOfShape, which liesweep cannot import`},
		{"opset12", "the model uses opset 12"},
	} {
		t.Run("refuses "+tc.name, func(t *testing.T) {
			_, err := importFile(t, filepath.Join(dir, tc.name+".onnx"))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// torchConvExport builds ψs with convolutions in PyTorch, as an oracle of
// points is written there: the points [N, d] viewed as one channel
// (x.view(N, 1, d), or an h×w image), Conv1d or Conv2d with strides,
// dilations and pads, ReLU, a second convolution, Flatten and Linear. It
// exports each with a dynamic batch axis and records its outputs on fixed
// inputs, a cotangent v and PyTorch's gradient ∂(Σ v ⊙ ψ(x))/∂x.
// "conv1d" and "conv2d" are float64, "conv2d-f32" float32 (PyTorch's
// default); "groups" is a depthwise convolution, which is refused.
const torchConvExport = `
import json, os, sys
import torch
from torch import nn

out = sys.argv[1]
torch.manual_seed(0)
gen = torch.Generator().manual_seed(3)

class Conv1D(nn.Module):
    def __init__(self):
        super().__init__()
        # L = 12 -> (12 + 4 - 5) // 2 + 1 = 6 -> 6 + 2 - 2 + 1 = 7
        self.c1 = nn.Conv1d(1, 4, 3, stride=2, padding=2, dilation=2)
        self.c2 = nn.Conv1d(4, 3, 2, padding=1, bias=False)
        self.flat = nn.Flatten()
        self.lin = nn.Linear(21, 3)

    def forward(self, x):
        h = torch.relu(self.c1(x.view(x.size(0), 1, 12)))
        return self.lin(self.flat(torch.tanh(self.c2(h))))

class Conv2D(nn.Module):
    def __init__(self):
        super().__init__()
        # 4x5 -> 4x5 -> ((4 - 3) + 1, (5 + 2 - 3) // 2 + 1) = 2x3
        self.c1 = nn.Conv2d(1, 3, 3, padding=1)
        self.c2 = nn.Conv2d(3, 2, (2, 3), stride=(1, 2), padding=(0, 1), dilation=(2, 1))
        self.lin = nn.Linear(12, 2)

    def forward(self, x):
        h = torch.relu(self.c1(x.view(-1, 1, 4, 5)))
        h = torch.relu(self.c2(h))
        return self.lin(torch.flatten(h, 1))

class Groups(nn.Module):
    def __init__(self):
        super().__init__()
        self.c = nn.Conv1d(2, 2, 3, groups=2)
        self.lin = nn.Linear(8, 1)

    def forward(self, x):
        return self.lin(torch.flatten(self.c(x.view(x.size(0), 2, 6)), 1))

models = [
    ("conv1d", Conv1D().double(), 12, 13),
    ("conv2d", Conv2D().double(), 20, 17),
    ("conv2d-f32", Conv2D(), 20, 13),
    ("groups", Groups().double(), 12, 13),
]
meta = {}
for name, m, d, opset in models:
    m.eval()
    dt = next(m.parameters()).dtype
    x = torch.randn(7, d, generator=gen, dtype=torch.float64).to(dt)
    torch.onnx.export(m, (x,), os.path.join(out, name + ".onnx"), opset_version=opset,
                      input_names=["x"], output_names=["y"], dynamic_axes={"x": {0: "N"}, "y": {0: "N"}})
    xg = x.clone().requires_grad_(True)
    y = m(xg)
    v = torch.randn(y.shape, generator=gen, dtype=torch.float64).to(dt)
    (y * v).sum().backward()
    meta[name] = {
        "inputs": x.double().tolist(),
        "outputs": y.detach().double().tolist(),
        "cotangent": v.double().tolist(),
        "input_grad": xg.grad.double().tolist(),
        "params": {},
    }
with open(os.path.join(out, "expected.json"), "w") as f:
    json.dump(meta, f)
`

// TestONNXConvFromPyTorch imports convolutional ψs exported by PyTorch
// (torchConvExport) and checks ψ and its gradient with respect to the
// points, ∂(Σ v ⊙ ψ(x))/∂x through gorgonia's autodiff, against PyTorch's.
// float64 networks agree to 1e-12 relative (the same operations summed in
// another order); the float32 one to 1e-5, PyTorch rounding each operation
// to float32 (~6e-8 relative) where ψ here computes in float64.
func TestONNXConvFromPyTorch(t *testing.T) {
	dir, exported := exportTorch(t, torchConvExport)
	for _, tc := range []struct {
		name string
		tol  float64
	}{{"conv1d", 1e-12}, {"conv2d", 1e-12}, {"conv2d-f32", 1e-5}} {
		t.Run(tc.name, func(t *testing.T) {
			want := exported[tc.name]
			o, err := importFile(t, filepath.Join(dir, tc.name+".onnx"))
			if err != nil {
				t.Fatal(err)
			}
			if o.InDim() != len(want.Inputs[0]) || o.OutDim() != len(want.Outputs[0]) {
				t.Fatalf("dims %d → %d, PyTorch %d → %d", o.InDim(), o.OutDim(), len(want.Inputs[0]), len(want.Outputs[0]))
			}
			checkRows(t, o, want.Inputs, func(i int) []float64 { return want.Outputs[i] }, tc.tol)
			checkRows(t, o, want.Inputs[2:3], func(int) []float64 { return want.Outputs[2] }, tc.tol)
			grad := inputGrad(t, o, want.Inputs, want.Cotangent)
			for i, row := range want.InputGrad {
				for j, w := range row {
					if d := math.Abs(grad[i][j] - w); !(d <= tc.tol*math.Max(1, math.Abs(w))) {
						t.Errorf("∂/∂x[%d][%d]: got %.15g, PyTorch %.15g (|Δ| = %.2g)", i, j, grad[i][j], w, d)
					}
				}
			}
		})
	}
	// the generators' loss (eq. 10) differentiates through the
	// convolutions into the generators (finite differences, onnxGradCheck)
	t.Run("gradients", func(t *testing.T) {
		o, err := importFile(t, filepath.Join(dir, "conv1d.onnx"))
		if err != nil {
			t.Fatal(err)
		}
		onnxGradCheck(t, o)
	})
	t.Run("refuses groups", func(t *testing.T) {
		_, err := importFile(t, filepath.Join(dir, "groups.onnx"))
		if want := "(Conv): attribute group = 2 is not supported"; err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("error %v, want one containing %q", err, want)
		}
	})
}

// inputGrad is ∂(Σ v ⊙ ψ(x))/∂x at the points x, by gorgonia's autodiff.
func inputGrad(t *testing.T, o *Oracle, x, v [][]float64) [][]float64 {
	t.Helper()
	g := G.NewGraph()
	xn := G.NodeFromAny(g, models.RowsTensor(x), G.WithName("x"))
	y, err := o.Build(g, graphParams(g), xn)
	if err != nil {
		t.Fatal(err)
	}
	loss, err := G.Sum(G.Must(G.HadamardProd(y, G.NodeFromAny(g, models.RowsTensor(v), G.WithName("v")))))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := G.Grad(loss, xn); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g, G.BindDualValues(xn))
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	d, err := xn.Grad()
	if err != nil {
		t.Fatal(err)
	}
	return models.TensorRows(d.(*tensor.Dense))
}

// FuzzImportONNX imports arbitrary bytes: never a panic; every error is an
// invalid spec; a model it accepts evaluates on two points to [2, k].
func FuzzImportONNX(f *testing.F) {
	for _, model := range []func(testing.TB) ([]byte, func([]float64) []float64){elementwiseModel, shapesModel, gemmModel, conv1dModel, conv2dModel} {
		data, _ := model(f)
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := Import(data)
		if err != nil {
			if !errors.Is(err, sweeps.ErrInvalidSpec) {
				t.Fatalf("error %v is not an invalid spec", err)
			}
			return
		}
		pts := datasets.GaussianSamples(2, o.InDim(), 1, 0)
		y, err := models.EvalOracle(o, pts)
		if err != nil {
			return
		}
		if len(y) != 2 || len(y[0]) != o.OutDim() {
			t.Fatalf("accepted ψ: R^%d → R^%d gives %d×%d", o.InDim(), o.OutDim(), len(y), len(y[0]))
		}
	})
}

// TestONNXConvGradients checks the Conv op's gradients with respect to its
// input, weights and bias against finite differences (models.GradCheck),
// for 1-D and 2-D convolutions with strides, dilations and unequal pads,
// with and without bias, through loss = Σ tanh(conv(x, W) + B).
func TestONNXConvGradients(t *testing.T) {
	for _, tc := range []struct {
		name  string
		x, w  []int
		bias  bool
		attrs []*pb.AttributeProto
	}{
		{"1d", []int{3, 2, 7}, []int{3, 2, 3}, true, []*pb.AttributeProto{attrIs("strides", 2), attrIs("pads", 2, 1), attrIs("dilations", 2)}},
		{"1d plain", []int{2, 1, 5}, []int{2, 1, 2}, false, nil},
		{"2d", []int{2, 2, 4, 5}, []int{3, 2, 2, 3}, true, []*pb.AttributeProto{attrIs("strides", 1, 2), attrIs("pads", 0, 1, 2, 2), attrIs("dilations", 2, 1)}},
		{"2d 1x1", []int{3, 3, 2, 2}, []int{2, 3, 1, 1}, false, []*pb.AttributeProto{attrIs("strides", 2, 1)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			param := func(name string, shape []int, seed uint64) *models.Param {
				n := numel(shape)
				v := datasets.GaussianSamples(1, n, seed, 0)[0]
				return &models.Param{Name: name, Dense: tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))}
			}
			ps := models.Params{param("x", tc.x, 1), param("W", tc.w, 2)}
			if tc.bias {
				ps = append(ps, param("B", []int{tc.w[0]}, 3))
			}
			n := &onnxNode{label: "/conv", op: "Conv", attrs: map[string]*pb.AttributeProto{}}
			for _, a := range tc.attrs {
				n.attrs[a.GetName()] = a
			}
			err := models.GradCheck(ps, func(g *G.ExprGraph, node func(*models.Param) *G.Node) (*G.Node, error) {
				xs := make([]*G.Node, len(ps))
				for i, p := range ps {
					xs[i] = node(p)
				}
				if !tc.bias {
					xs = append(xs, nil)
				}
				c, err := convNode(n, xs)
				if err != nil {
					return nil, err
				}
				th, err := G.Tanh(c.node)
				if err != nil {
					return nil, err
				}
				return G.Sum(th)
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
}
