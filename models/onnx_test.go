package models

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

	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/liesweep/liesweep/datasets"
	"github.com/liesweep/liesweep/sweeps"
	"google.golang.org/protobuf/proto"
	G "gorgonia.org/gorgonia"
)

// onnxModel assembles an ONNX model in Go, so the importer's tests need no
// PyTorch: inputs and outputs [N, d] with a dynamic N, weights as DOUBLE
// (raw or double_data) or FLOAT (float_data) initializers.
type onnxModel struct{ m *onnx.ModelProto }

func newONNXModel(opset int64, in, out int64) *onnxModel {
	vi := func(name string, d int64) *onnx.ValueInfoProto {
		return &onnx.ValueInfoProto{Name: name, Type: &onnx.TypeProto{Value: &onnx.TypeProto_TensorType{TensorType: &onnx.TypeProto_Tensor{
			ElemType: int32(onnx.TensorProto_DOUBLE),
			Shape: &onnx.TensorShapeProto{Dim: []*onnx.TensorShapeProto_Dimension{
				{Value: &onnx.TensorShapeProto_Dimension_DimParam{DimParam: "N"}},
				{Value: &onnx.TensorShapeProto_Dimension_DimValue{DimValue: d}},
			}},
		}}}}
	}
	return &onnxModel{m: &onnx.ModelProto{
		IrVersion:   8,
		OpsetImport: []*onnx.OperatorSetIdProto{{Version: opset}},
		Graph:       &onnx.GraphProto{Name: "test", Input: []*onnx.ValueInfoProto{vi("x", in)}, Output: []*onnx.ValueInfoProto{vi("y", out)}},
	}}
}

// double adds a DOUBLE initializer stored as raw little-endian bytes.
func (b *onnxModel) double(name string, dims []int64, v ...float64) {
	raw := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(raw[8*i:], math.Float64bits(x))
	}
	b.m.Graph.Initializer = append(b.m.Graph.Initializer, &onnx.TensorProto{Name: name, Dims: dims, DataType: int32(onnx.TensorProto_DOUBLE), RawData: raw})
}

// float adds a FLOAT initializer stored in float_data.
func (b *onnxModel) float(name string, dims []int64, v ...float32) {
	b.m.Graph.Initializer = append(b.m.Graph.Initializer, &onnx.TensorProto{Name: name, Dims: dims, DataType: int32(onnx.TensorProto_FLOAT), FloatData: v})
}

// ints adds a one-dimensional INT64 initializer stored in int64_data.
func (b *onnxModel) ints(name string, v ...int64) {
	b.m.Graph.Initializer = append(b.m.Graph.Initializer, &onnx.TensorProto{Name: name, Dims: []int64{int64(len(v))}, DataType: int32(onnx.TensorProto_INT64), Int64Data: v})
}

func (b *onnxModel) node(op, name string, in []string, out string, attrs ...*onnx.AttributeProto) *onnx.NodeProto {
	n := &onnx.NodeProto{OpType: op, Name: name, Input: in, Output: []string{out}, Attribute: attrs}
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

func attrI(name string, v int64) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: name, Type: onnx.AttributeProto_INT, I: v}
}

func attrF(name string, v float32) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: name, Type: onnx.AttributeProto_FLOAT, F: v}
}

func attrIs(name string, v ...int64) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: name, Type: onnx.AttributeProto_INTS, Ints: v}
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
	m.m.Graph.Initializer = append(m.m.Graph.Initializer, &onnx.TensorProto{Name: "r", Dims: []int64{1, 3}, DataType: int32(onnx.TensorProto_DOUBLE), DoubleData: r})
	m.node("Constant", "/s", nil, "s", &onnx.AttributeProto{Name: "value_float", Type: onnx.AttributeProto_FLOAT, F: float32(s)})
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
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, want := tc.model(t)
			o, err := ImportONNX(data)
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

// checkRows compares EvalOracle(o, pts) row by row with want, to tol
// relative (absolute below 1).
func checkRows(t *testing.T, o Oracle, pts [][]float64, want func(i int) []float64, tol float64) {
	t.Helper()
	got, err := EvalOracle(o, pts)
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

// TestImportONNXErrors checks that models ImportONNX cannot use are refused
// with an error that says why, is an invalid spec, and never a panic.
func TestImportONNXErrors(t *testing.T) {
	valid, _ := gemmModel(t)
	edit := func(f func(m *onnxModel)) []byte {
		m := newONNXModel(13, 3, 2)
		m.double("W", []int64{3, 2}, 1, 2, 3, 4, 5, 6)
		f(m)
		return m.bytes(t)
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
			m.m.Graph.Input = append(m.m.Graph.Input, &onnx.ValueInfoProto{Name: "t"})
			m.node("MatMul", "/mm", []string{"x", "W"}, "y")
		}), `the model has 2 inputs ["x" "t"]`},
		{"image input", edit(func(m *onnxModel) {
			s := m.m.Graph.Input[0].Type.GetTensorType().Shape
			s.Dim = append(s.Dim, &onnx.TensorShapeProto_Dimension{Value: &onnx.TensorShapeProto_Dimension_DimValue{DimValue: 28}})
			m.node("MatMul", "/mm", []string{"x", "W"}, "y")
		}), `input "x" has shape [N, 3, 28]; ψ takes points [N, d]`},
		{"short data", edit(func(m *onnxModel) {
			m.double("V", []int64{2, 2}, 1, 2, 3)
			m.node("MatMul", "/mm", []string{"x", "W"}, "y")
		}), `initializer "V": shape [2 2] wants 4 elements, the data holds 3`},
		{"external data", edit(func(m *onnxModel) {
			m.m.Graph.Initializer[0].DataLocation = onnx.TensorProto_EXTERNAL
			m.node("MatMul", "/mm", []string{"x", "W"}, "y")
		}), "external file"},
		{"float16", edit(func(m *onnxModel) {
			m.m.Graph.Initializer[0].DataType = int32(onnx.TensorProto_FLOAT16)
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
			m.m.Graph.Output[0].Type.GetTensorType().Shape.Dim[1].Value = &onnx.TensorShapeProto_Dimension_DimValue{DimValue: 5}
			m.node("MatMul", "/mm", []string{"x", "W"}, "y")
		}), `output "y" has shape (7, 2) for 7 points`},
		{"constant output", edit(func(m *onnxModel) { m.node("Identity", "/id", []string{"W"}, "y") }), `output "y" does not depend on the points`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := ImportONNX(tc.data)
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

// TestONNXGradients checks, against finite differences (gradCheck), that
// the invariance loss (eq. 10) differentiates through imported models into
// a linear generator set, through broadcasts, softmax, reshapes and both
// Gemm paths; ψ's weights are not among the parameters, so stay frozen.
func TestONNXGradients(t *testing.T) {
	for _, tc := range []struct {
		name  string
		model func(testing.TB) ([]byte, func([]float64) []float64)
	}{
		{"elementwise", elementwiseModel},
		{"shapes", shapesModel},
		{"gemm", gemmModel},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, _ := tc.model(t)
			o, err := ImportONNX(data)
			if err != nil {
				t.Fatal(err)
			}
			onnxGradCheck(t, o)
		})
	}
}

func onnxGradCheck(t *testing.T, o Oracle) {
	t.Helper()
	s, err := NewGeneratorSet(GenLinear, o.InDim(), 2, nil, 7)
	if err != nil {
		t.Fatal(err)
	}
	z := datasets.GaussianSamples(6, o.InDim(), 3, 0)
	cfg := GenConfig{Kind: GenLinear, N: 2, Normalization: NormPointwise, Epsilon: 1e-3}
	gradCheck(t, s.Params, func(b *binder) (*G.Node, error) {
		ln, err := buildLoss(b, o, s, nil, cfg, matrixNode(b.g, "z", z))
		if err != nil {
			return nil, err
		}
		return ln.inv, nil
	})
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
}

// exportTorch runs torchExport with Debian's PyTorch (python3-torch) into a
// temporary directory, and skips the test when PyTorch is not installed.
func exportTorch(t *testing.T) (dir string, models map[string]torchModel) {
	t.Helper()
	const python = "/usr/bin/python3"
	if out, err := exec.Command(python, "-c", "import torch").CombinedOutput(); err != nil {
		t.Skipf("PyTorch is not installed (apt-get install python3-torch): %s: %v %s", python, err, strings.TrimSpace(string(out)))
	}
	dir = t.TempDir()
	script := filepath.Join(dir, "export.py")
	if err := os.WriteFile(script, []byte(torchExport), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(python, script, dir).CombinedOutput(); err != nil {
		t.Fatalf("export with PyTorch: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &models); err != nil {
		t.Fatal(err)
	}
	return dir, models
}

func importFile(t *testing.T, path string) (*ONNXOracle, error) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return ImportONNX(data)
}

// TestONNXFromPyTorch imports models exported by PyTorch: ψ equals
// PyTorch's outputs, the same weights as a native MLPOracle give the same
// ψ, gradients flow through it, and what cannot be imported says so.
func TestONNXFromPyTorch(t *testing.T) {
	dir, models := exportTorch(t)

	// float64 networks agree to rounding (1e-12 relative: the same
	// operations, summed in another order); the float32 one to 1e-5, as
	// PyTorch rounds each of its operations to float32 (~6e-8 relative)
	// and ψ here computes in float64.
	for _, tc := range []struct {
		name string
		tol  float64
	}{{"mlp", 1e-12}, {"mlp-tanh", 1e-12}, {"probs", 1e-5}, {"probs-last", 1e-12}, {"shapes", 1e-12}, {"misc", 1e-12}} {
		t.Run("matches PyTorch/"+tc.name, func(t *testing.T) {
			want := models[tc.name]
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
		want := models["mlp-tanh"]
		imported, err := importFile(t, filepath.Join(dir, "mlp-tanh.onnx"))
		if err != nil {
			t.Fatal(err)
		}
		native := NewOracle(1, 3, OracleArch{Hidden: []int{16, 16}, Activation: ActTanh, Outputs: 2}, PreserveLogits)
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
		nat, err := EvalOracle(native, pts)
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

// FuzzImportONNX imports arbitrary bytes: never a panic; every error is an
// invalid spec; a model it accepts evaluates on two points to [2, k].
func FuzzImportONNX(f *testing.F) {
	for _, model := range []func(testing.TB) ([]byte, func([]float64) []float64){elementwiseModel, shapesModel, gemmModel} {
		data, _ := model(f)
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := ImportONNX(data)
		if err != nil {
			if !errors.Is(err, sweeps.ErrInvalidSpec) {
				t.Fatalf("error %v is not an invalid spec", err)
			}
			return
		}
		pts := datasets.GaussianSamples(2, o.InDim(), 1, 0)
		y, err := EvalOracle(o, pts)
		if err != nil {
			return
		}
		if len(y) != 2 || len(y[0]) != o.OutDim() {
			t.Fatalf("accepted ψ: R^%d → R^%d gives %d×%d", o.InDim(), o.OutDim(), len(y), len(y[0]))
		}
	})
}
