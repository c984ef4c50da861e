package onnx

import (
	"math"
	"testing"

	"github.com/liesweep/liesweep/datasets"
	"github.com/liesweep/liesweep/models"
	G "gorgonia.org/gorgonia"
)

// Models whose output is a reshape of an activation whose gradient reads
// the activation's own output (Tanh: 1 − y², Sigmoid: y(1 − y)). With
// gorgonia's Reshape, a view of its input, an op after the model (the
// loss's Square, Sub, Mul, …) may run in place on the view, overwriting the
// activation's output before the activation's gradient reads it.

// flattenActModel is ψ: R⁴ → R⁶,
//
//	y = flatten(act(reshape(x, [N, 2, 2]) · W)),  W: 2×3,
//
// act being "Tanh" or "Sigmoid".
func flattenActModel(act string) func(testing.TB) ([]byte, func([]float64) []float64) {
	return func(t testing.TB) ([]byte, func([]float64) []float64) {
		w := []float64{0.3, -1.2, 0.8, 2.0, 0.1, -0.5}
		m := newONNXModel(13, 4, 6)
		m.double("W", []int64{2, 3}, w...)
		m.ints("to", 0, 2, 2)
		m.node("Reshape", "/view", []string{"x", "to"}, "r")
		m.node("MatMul", "/matmul", []string{"r", "W"}, "p")
		m.node(act, "/act", []string{"p"}, "a")
		m.node("Flatten", "/flatten", []string{"a"}, "y", attrI("axis", 1))
		return m.bytes(t), func(x []float64) []float64 {
			y := make([]float64, 0, 6)
			for a := 0; a < 2; a++ {
				for c := 0; c < 3; c++ {
					var v float64
					for k := 0; k < 2; k++ {
						v += x[2*a+k] * w[3*k+c]
					}
					y = append(y, refActivation(act, v))
				}
			}
			return y
		}
	}
}

// reshapeActModel is ψ: R³ → R⁶ through an explicit Reshape (−1 and 0):
//
//	y = reshape(reshape(tanh(x · W), [N, 2, 3]), [0, −1]),  W: 3×6,
//
// two reshapes in a row of a Tanh's output.
func reshapeActModel(t testing.TB) ([]byte, func([]float64) []float64) {
	w := []float64{0.5, -1, 0.3, 1.2, 0.7, -0.4, -0.8, 0.2, 1.5, 0.1, -0.6, 0.9, 0.4, 0.4, -1.1, 0.6, -0.3, 0.8}
	m := newONNXModel(13, 3, 6)
	m.double("W", []int64{3, 6}, w...)
	m.ints("to3", -1, 2, 3)
	m.ints("to2", 0, -1)
	m.node("MatMul", "/matmul", []string{"x", "W"}, "p")
	m.node("Tanh", "/tanh", []string{"p"}, "a")
	m.node("Reshape", "/r3", []string{"a", "to3"}, "r")
	m.node("Reshape", "/r2", []string{"r", "to2"}, "y")
	return m.bytes(t), func(x []float64) []float64 {
		y := make([]float64, 6)
		for c := range y {
			var v float64
			for k := 0; k < 3; k++ {
				v += x[k] * w[6*k+c]
			}
			y[c] = math.Tanh(v)
		}
		return y
	}
}

// gemmTanhModel is ψ: R³ → R⁶ through a Gemm with its Tanh fused (one
// Dense op, whose gradient reads its own output), then an Unsqueeze, a
// Reshape and a Flatten:
//
//	y = flatten(reshape(unsqueeze(tanh(x·Wᵀ + b), 1), [0, 3, 2])),  W: 6×3.
func gemmTanhModel(t testing.TB) ([]byte, func([]float64) []float64) {
	w := []float64{0.5, -1, 0.3, 1.2, 0.7, -0.4, -0.8, 0.2, 1.5, 0.1, -0.6, 0.9, 0.4, 0.4, -1.1, 0.6, -0.3, 0.8}
	bias := []float64{0.1, -0.2, 0.3, 0, 0.5, -0.4}
	m := newONNXModel(13, 3, 6)
	m.double("W", []int64{6, 3}, w...)
	m.double("b", []int64{6}, bias...)
	m.ints("axes", 1)
	m.ints("to", 0, 3, 2)
	m.node("Gemm", "/fc", []string{"x", "W", "b"}, "g", attrI("transB", 1))
	m.node("Tanh", "/tanh", []string{"g"}, "a")
	m.node("Unsqueeze", "/unsqueeze", []string{"a", "axes"}, "u")
	m.node("Reshape", "/reshape", []string{"u", "to"}, "r")
	m.node("Flatten", "/flatten", []string{"r"}, "y")
	return m.bytes(t), func(x []float64) []float64 {
		y := make([]float64, 6)
		for o := range y {
			v := bias[o]
			for k := 0; k < 3; k++ {
				v += x[k] * w[3*o+k]
			}
			y[o] = math.Tanh(v)
		}
		return y
	}
}

// flatSigmoidModel is ψ: R³ → R with a one-dimensional output [N], which
// the importer makes a column [N, 1]:
//
//	y = sigmoid(squeeze(x·W, 1)),  W: 3×1.
func flatSigmoidModel(t testing.TB) ([]byte, func([]float64) []float64) {
	w := []float64{0.7, -1.3, 0.4}
	m := newONNXModel(13, 3, 1)
	m.double("W", []int64{3, 1}, w...)
	m.ints("axes", 1)
	m.node("MatMul", "/matmul", []string{"x", "W"}, "p")
	m.node("Squeeze", "/squeeze", []string{"p", "axes"}, "s")
	m.node("Sigmoid", "/sigmoid", []string{"s"}, "y")
	return m.bytes(t), func(x []float64) []float64 {
		return []float64{refActivation("Sigmoid", x[0]*w[0]+x[1]*w[1]+x[2]*w[2])}
	}
}

func refActivation(act string, v float64) float64 {
	if act == "Sigmoid" {
		return 1 / (1 + math.Exp(-v))
	}
	return math.Tanh(v)
}

var reshapedActModels = []struct {
	name  string
	model func(testing.TB) ([]byte, func([]float64) []float64)
	in    int
}{
	{"flatten-tanh", flattenActModel("Tanh"), 4},
	{"flatten-sigmoid", flattenActModel("Sigmoid"), 4},
	{"reshape-tanh", reshapeActModel, 3},
	{"gemm-tanh-reshape", gemmTanhModel, 3},
	{"flat-sigmoid", flatSigmoidModel, 3},
}

// TestONNXReshapedActivationGradients checks the gradient of
// L = Σ ψ(x)² with respect to the points x, and of the invariance loss with
// respect to linear generators (onnxGradCheck), against central finite
// differences, for models whose output is a Flatten or Reshape of a Tanh or
// Sigmoid. Their values are checked too.
func TestONNXReshapedActivationGradients(t *testing.T) {
	for _, tc := range reshapedActModels {
		t.Run(tc.name, func(t *testing.T) {
			data, want := tc.model(t)
			o, err := Import(data)
			if err != nil {
				t.Fatal(err)
			}
			pts := datasets.GaussianSamples(5, tc.in, 11, 0)
			checkRows(t, o, pts, func(i int) []float64 { return want(pts[i]) }, 1e-12)
			t.Run("points", func(t *testing.T) { pointsGradCheck(t, o, pts) })
			t.Run("generators", func(t *testing.T) { onnxGradCheck(t, o) })
		})
	}
}

// pointsGradCheck checks the gradient of Σ ψ(x)² with respect to the
// points x against central differences (models.GradCheck).
func pointsGradCheck(t *testing.T, o *Oracle, pts [][]float64) {
	t.Helper()
	x := &models.Param{Name: "x", Dense: models.RowsTensor(pts)}
	err := models.GradCheck(models.Params{x}, func(g *G.ExprGraph, node func(*models.Param) *G.Node) (*G.Node, error) {
		y, err := o.Build(g, node, node(x))
		if err != nil {
			return nil, err
		}
		return G.Sum(G.Must(G.Square(y)))
	})
	if err != nil {
		t.Error(err)
	}
}
