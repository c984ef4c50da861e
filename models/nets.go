package models

import (
	"fmt"
	"math"

	"github.com/liesweep/liesweep/models/ops"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// binder puts parameters into one graph, each once.
type binder struct {
	g     *G.ExprGraph
	nodes map[*Param]*G.Node
}

func newBinder(g *G.ExprGraph) *binder { return &binder{g: g, nodes: map[*Param]*G.Node{}} }

func (b *binder) node(p *Param) *G.Node {
	if n, ok := b.nodes[p]; ok {
		return n
	}
	n := G.NodeFromAny(b.g, p.Dense, G.WithName(p.Name))
	b.nodes[p] = n
	return n
}

func (b *binder) all(ps Params) []*G.Node {
	out := make([]*G.Node, len(ps))
	for i, p := range ps {
		out[i] = b.node(p)
	}
	return out
}

// Activation names accepted by MLP layers.
const (
	ActReLU = ops.ActReLU
	ActTanh = ops.ActTanh
)

// MLP is a fully connected network: hidden layers with an activation, a
// linear output layer. Weights are stored in×out ("<prefix>.<i>.weight"),
// biases 1×out ("<prefix>.<i>.bias").
type MLP struct {
	Sizes      []int
	Activation string
	Params     Params
}

// NewMLP builds an MLP with the layer sizes given (input first, output
// last), initialised as PyTorch's nn.Linear: U(−1/√in, 1/√in).
func NewMLP(seed uint64, prefix string, dt tensor.Dtype, act string, sizes ...int) *MLP {
	m := &MLP{Sizes: sizes, Activation: act}
	for i := 0; i+1 < len(sizes); i++ {
		bound := 1 / math.Sqrt(float64(sizes[i]))
		m.Params = append(m.Params,
			newUniform(seed, fmt.Sprintf("%s.%d.weight", prefix, i), dt, bound, sizes[i], sizes[i+1]),
			newUniform(seed, fmt.Sprintf("%s.%d.bias", prefix, i), dt, bound, 1, sizes[i+1]))
	}
	return m
}

// apply builds the network on x (rows are points) in b's graph: one fused
// ops.Dense per layer.
func (m *MLP) apply(b *binder, x *G.Node) (*G.Node, error) {
	h := x
	layers := len(m.Params) / 2
	for i := 0; i < layers; i++ {
		act := ""
		if i+1 < layers {
			act = m.Activation
		}
		var err error
		if h, err = ops.Dense(h, b.node(m.Params[2*i]), b.node(m.Params[2*i+1]), act); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// evalGraph builds a graph with build, runs it forward once and returns the
// values of the nodes build returned, as flat float64 slices.
func evalGraph(build func(g *G.ExprGraph) ([]*G.Node, error)) ([][]float64, error) {
	g := G.NewGraph()
	outs, err := build(g)
	if err != nil {
		return nil, err
	}
	vals := make([]G.Value, len(outs))
	for i, n := range outs {
		G.Read(n, &vals[i])
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		return nil, err
	}
	res := make([][]float64, len(outs))
	for i, v := range vals {
		switch d := v.Data().(type) {
		case []float64:
			res[i] = append([]float64(nil), d...)
		case float64:
			res[i] = []float64{d}
		case float32:
			res[i] = []float64{float64(d)}
		case []float32:
			res[i] = make([]float64, len(d))
			for j, x := range d {
				res[i][j] = float64(x)
			}
		default:
			return nil, fmt.Errorf("eval: unexpected value type %T", d)
		}
	}
	return res, nil
}

// matrixNode makes a constant m×n float64 input node holding rows.
func matrixNode(g *G.ExprGraph, name string, rows [][]float64) *G.Node {
	return G.NewMatrix(g, tensor.Float64, G.WithName(name), G.WithShape(len(rows), len(rows[0])), G.WithValue(newDense(flatten(rows), len(rows), len(rows[0]))))
}

func flatten(rows [][]float64) []float64 {
	if len(rows) == 0 {
		return nil
	}
	out := make([]float64, 0, len(rows)*len(rows[0]))
	for _, r := range rows {
		out = append(out, r...)
	}
	return out
}

func unflatten(flat []float64, cols int) [][]float64 {
	out := make([][]float64, len(flat)/cols)
	for i := range out {
		out[i] = flat[i*cols : (i+1)*cols : (i+1)*cols]
	}
	return out
}
