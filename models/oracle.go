package models

import (
	"context"
	"fmt"
	"math"

	"github.com/liesweep/liesweep/datasets"
	"github.com/liesweep/liesweep/models/ops"
	"github.com/liesweep/liesweep/sweeps"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Oracle is a frozen, differentiable ψ: R^ℓ → R^k. Generators are trained to
// preserve it; gradients flow through it but never change it. An oracle
// built outside this package is a GraphOracle or embeds one.
type Oracle interface {
	InDim() int
	OutDim() int
	// apply builds ψ(x) for the rows of x (M×ℓ) into b's graph: M×k.
	apply(b *binder, x *G.Node) (*G.Node, error)
}

// GraphOracle is an Oracle built outside this package (models/onnx builds
// one from an ONNX model): Build puts ψ(x) for the rows of x (M×In) into
// the graph g and returns its node, M×Out. param gives the node of a
// parameter in g, the same one however often it is asked for, so ψ's
// weights enter g once however often the generators' loss applies ψ.
// models never differentiates or trains those parameters: gradients flow
// through ψ into the generators and leave ψ unchanged.
type GraphOracle struct {
	In, Out int
	Build   func(g *G.ExprGraph, param func(*Param) *G.Node, x *G.Node) (*G.Node, error)
}

var _ Oracle = (*GraphOracle)(nil)

// InDim returns In.
func (o *GraphOracle) InDim() int { return o.In }

// OutDim returns Out.
func (o *GraphOracle) OutDim() int { return o.Out }

func (o *GraphOracle) apply(b *binder, x *G.Node) (*G.Node, error) { return o.Build(b.g, b.node, x) }

// EvalOracle computes ψ at each point.
func EvalOracle(o Oracle, pts [][]float64) ([][]float64, error) {
	out, err := evalGraph(func(g *G.ExprGraph) ([]*G.Node, error) {
		y, err := o.apply(newBinder(g), matrixNode(g, "points", pts))
		return []*G.Node{y}, err
	})
	if err != nil {
		return nil, fmt.Errorf("evaluate oracle: %w", err)
	}
	return unflatten(out[0], o.OutDim()), nil
}

// ExprOracle is an analytic oracle: one parsed expression per output.
type ExprOracle struct {
	Dim   int
	Exprs []*datasets.Expr
}

// NewExprOracle compiles expressions over R^dim into an oracle.
func NewExprOracle(dim int, exprs []*datasets.Expr) *ExprOracle {
	return &ExprOracle{Dim: dim, Exprs: exprs}
}

func (o *ExprOracle) InDim() int  { return o.Dim }
func (o *ExprOracle) OutDim() int { return len(o.Exprs) }

func (o *ExprOracle) apply(b *binder, x *G.Node) (*G.Node, error) {
	m := x.Shape()[0]
	cols := map[int]*G.Node{}
	outs := make([]*G.Node, len(o.Exprs))
	for i, e := range o.Exprs {
		v, err := compileExpr(e.Root, x, cols)
		if err != nil {
			return nil, fmt.Errorf("compile %q: %w", e.Source, err)
		}
		if v.node == nil {
			return nil, fmt.Errorf("compile %q: %w: the expression is constant (%v)", e.Source, sweeps.ErrInvalidSpec, v.value)
		}
		// a copy, not gorgonia's Reshape (a view): see ops.ReshapeCopy
		if outs[i], err = ops.ReshapeCopy(v.node, tensor.Shape{m, 1}); err != nil {
			return nil, err
		}
	}
	if len(outs) == 1 {
		return outs[0], nil
	}
	return G.Concat(1, outs...)
}

// compiled is a compiled subexpression: a node of the graph, or, when it
// uses no variable, its value (node nil).
type compiled struct {
	node  *G.Node
	value float64
}

// asNode returns c as a node, a constant if c is a value.
func (c compiled) asNode() *G.Node {
	if c.node != nil {
		return c.node
	}
	return G.NewConstant(c.value)
}

// constant returns v as a compiled value, which must be finite: a
// subexpression without variables that is not (sqrt(-1), 1/0) would make
// every output NaN or infinite.
func constant(v float64) (compiled, error) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return compiled{}, fmt.Errorf("%w: a constant subexpression is not finite (%v)", sweeps.ErrInvalidSpec, v)
	}
	return compiled{value: v}, nil
}

// compileExpr turns an expression tree into graph operations on the columns
// of x, so its gradient comes from gorgonia's autodiff. Subexpressions
// without a variable are folded into numbers here as well as in the parser
// (gorgonia cannot apply an operation to a constant outside a graph). An
// integer power x^n takes O(log |n|) multiplications, never n.
func compileExpr(n datasets.Node, x *G.Node, cols map[int]*G.Node) (compiled, error) {
	switch n := n.(type) {
	case *datasets.Num:
		return constant(n.Value)
	case *datasets.Var:
		if c, ok := cols[n.Index]; ok {
			return compiled{node: c}, nil
		}
		if n.Index < 0 || n.Index >= x.Shape()[1] {
			return compiled{}, fmt.Errorf("%w: variable x%d outside the %d inputs", sweeps.ErrInvalidSpec, n.Index, x.Shape()[1])
		}
		c, err := column(x, n.Index)
		if err != nil {
			return compiled{}, err
		}
		cols[n.Index] = c
		return compiled{node: c}, nil
	case *datasets.Neg:
		a, err := compileExpr(n.X, x, cols)
		if err != nil {
			return compiled{}, err
		}
		if a.node == nil {
			return constant(-a.value)
		}
		return node(G.Neg(a.node))
	case *datasets.Binary:
		l, err := compileExpr(n.L, x, cols)
		if err != nil {
			return compiled{}, err
		}
		r, err := compileExpr(n.R, x, cols)
		if err != nil {
			return compiled{}, err
		}
		if l.node == nil && r.node == nil {
			switch n.Op {
			case '+':
				return constant(l.value + r.value)
			case '-':
				return constant(l.value - r.value)
			case '*':
				return constant(l.value * r.value)
			case '/':
				return constant(l.value / r.value)
			}
		}
		switch n.Op {
		case '+':
			return node(G.Add(l.asNode(), r.asNode()))
		case '-':
			return node(G.Sub(l.asNode(), r.asNode()))
		case '*':
			return node(G.HadamardProd(l.asNode(), r.asNode()))
		case '/':
			return node(G.HadamardDiv(l.asNode(), r.asNode()))
		}
		return compiled{}, fmt.Errorf("unknown operator %q", n.Op)
	case *datasets.Pow:
		a, err := compileExpr(n.X, x, cols)
		if err != nil {
			return compiled{}, err
		}
		if a.node == nil || n.N == 0 {
			return constant(math.Pow(a.value, float64(n.N)))
		}
		p, err := powInt(a.node, n.N)
		if err != nil || n.N > 0 {
			return compiled{node: p}, err
		}
		return node(G.HadamardDiv(G.NewConstant(1.0), p))
	case *datasets.Call:
		a, err := compileExpr(n.X, x, cols)
		if err != nil {
			return compiled{}, err
		}
		fn, ok := datasets.Functions[n.Fn]
		if !ok {
			return compiled{}, fmt.Errorf("unknown function %s", n.Fn)
		}
		if a.node == nil {
			return constant(fn(a.value))
		}
		switch n.Fn {
		case "sin":
			return node(G.Sin(a.node))
		case "cos":
			return node(G.Cos(a.node))
		case "exp":
			return node(G.Exp(a.node))
		case "log":
			return node(G.Log(a.node))
		case "sqrt":
			return node(G.Sqrt(a.node))
		case "tanh":
			return node(G.Tanh(a.node))
		}
		return compiled{}, fmt.Errorf("unknown function %s", n.Fn)
	}
	return compiled{}, fmt.Errorf("unknown expression node %T", n)
}

func node(n *G.Node, err error) (compiled, error) { return compiled{node: n}, err }

// column returns column i of the M×ℓ matrix x, as a vector of M values when
// M > 1. gorgonia reduces a column sliced from a one-row matrix to a scalar
// that its elementwise operations then refuse (and its slice of a 1×1
// matrix panics inside the VM), so a single point takes the column as the
// 1×1 product x·e_i with the unit vector e_i instead.
func column(x *G.Node, i int) (*G.Node, error) {
	if x.Shape()[0] > 1 {
		return G.Slice(x, nil, G.S(i))
	}
	dim := x.Shape()[1]
	var e tensor.Tensor
	switch x.Dtype() {
	case tensor.Float32:
		v := make([]float32, dim)
		v[i] = 1
		e = tensor.New(tensor.WithShape(dim, 1), tensor.WithBacking(v))
	default:
		v := make([]float64, dim)
		v[i] = 1
		e = tensor.New(tensor.WithShape(dim, 1), tensor.WithBacking(v))
	}
	return G.Mul(x, G.NewConstant(e))
}

// powInt builds a^|n| by binary exponentiation, squaring a and multiplying
// in the squares that the bits of |n| select:
//
//	a^n = Π_{i: bit i of n set} a^(2^i),
//
// ⌊log2 |n|⌋ squarings and at most as many products, where a chain of
// products would need |n| − 1 nodes. n = 2 and 3 keep gorgonia's Square
// and Cube. It panics if n is 0.
func powInt(a *G.Node, n int) (*G.Node, error) {
	k := n
	if k < 0 {
		k = -k
	}
	switch k {
	case 0:
		panic("models: powInt with exponent 0")
	case 1:
		return a, nil
	case 2:
		return G.Square(a)
	case 3:
		return G.Cube(a)
	}
	var p *G.Node
	sq := a
	for {
		if k&1 == 1 {
			if p == nil {
				p = sq
			} else {
				var err error
				if p, err = G.HadamardProd(p, sq); err != nil {
					return nil, err
				}
			}
		}
		if k >>= 1; k == 0 {
			return p, nil
		}
		var err error
		if sq, err = G.Square(sq); err != nil {
			return nil, err
		}
	}
}

// What an MLP oracle preserves.
const (
	PreserveLogits        = "logits"
	PreserveProbabilities = "probabilities"
)

// MLPOracle is the trained oracle ψ of the paper's §4.2: a dense network
// ℓ → 128 → 128 → 32 → k with ReLU, k = 1 logit for two classes, one logit
// per class otherwise. Preserve chooses whether generators keep the logits
// (eq. 6, the default) or the probabilities.
type MLPOracle struct {
	Net      *MLP
	Preserve string
}

// OracleHidden are the hidden layer sizes of ψ (paper §4.2).
var OracleHidden = []int{128, 128, 32}

// NewMLPOracle builds an untrained oracle for ℓ inputs and the given number
// of classes, with the paper's architecture (OracleHidden, ReLU).
func NewMLPOracle(seed uint64, latent, classes int, preserve string) *MLPOracle {
	return NewOracle(seed, latent, PaperOracle(classes), preserve)
}

// OracleArch is the architecture of a learned ψ: its hidden layer sizes,
// their activation (ActReLU or ActTanh) and its outputs (one logit for two
// classes, one per class otherwise, one value for a regression).
type OracleArch struct {
	Hidden     []int
	Activation string
	Outputs    int
}

// PaperOracle is ψ of the paper's §4.2 for the given number of classes:
// 128 → 128 → 32 with ReLU.
func PaperOracle(classes int) OracleArch {
	return OracleArch{Hidden: OracleHidden, Activation: ActReLU, Outputs: oracleOutputs(classes)}
}

// ClassifierOutputs is the number of outputs of a classifier ψ of the
// given number of classes: one logit for two, one per class otherwise.
func ClassifierOutputs(classes int) int { return oracleOutputs(classes) }

func (a OracleArch) sizes(in int) []int {
	return append(append([]int{in}, a.Hidden...), a.Outputs)
}

// NewOracle builds an untrained ψ on R^in with the architecture a.
func NewOracle(seed uint64, in int, a OracleArch, preserve string) *MLPOracle {
	return &MLPOracle{Net: NewMLP(seed, "oracle", tensor.Float64, a.Activation, a.sizes(in)...), Preserve: preserve}
}

func oracleOutputs(classes int) int {
	if classes == 2 {
		return 1
	}
	return classes
}

func (o *MLPOracle) InDim() int  { return o.Net.Sizes[0] }
func (o *MLPOracle) OutDim() int { return o.Net.Sizes[len(o.Net.Sizes)-1] }

func (o *MLPOracle) apply(b *binder, x *G.Node) (*G.Node, error) {
	logits, err := o.Net.apply(b, x)
	if err != nil || o.Preserve != PreserveProbabilities {
		return logits, err
	}
	if o.OutDim() == 1 {
		return G.Sigmoid(logits)
	}
	return G.SoftMax(logits, 1)
}

// Probabilities returns the class probabilities ψ assigns to each point
// (sigmoid of the logit for two classes, softmax otherwise).
func (o *MLPOracle) Probabilities(pts [][]float64) ([][]float64, error) {
	logitsOnly := &MLPOracle{Net: o.Net, Preserve: PreserveProbabilities}
	p, err := EvalOracle(logitsOnly, pts)
	if err != nil {
		return nil, err
	}
	if o.OutDim() == 1 {
		for i, r := range p {
			p[i] = []float64{1 - r[0], r[0]}
		}
	}
	return p, nil
}

// OracleConfig configures the training of ψ.
type OracleConfig struct {
	Classes  int
	Epochs   int
	LR       float64
	Batch    int
	Seed     uint64
	Preserve string
	// Arch is ψ's architecture; the zero value is the paper's
	// (PaperOracle(Classes)).
	Arch OracleArch
}

func (cfg OracleConfig) arch() OracleArch {
	if cfg.Arch.Outputs == 0 {
		return PaperOracle(cfg.Classes)
	}
	return cfg.Arch
}

// OracleResult is what TrainOracle and TrainRegressionOracle report:
// ValAccuracy for a classifier, ValR2 (the coefficient of determination on
// the validation split) for a regression.
type OracleResult struct {
	Oracle      *MLPOracle
	ValAccuracy float64
	ValR2       float64
	Losses      []map[string]float64
}

// TrainOracle fits ψ to (latents, labels) with Adam: binary cross-entropy on
// one logit for two classes, softmax cross-entropy otherwise, and reports
// the accuracy on the validation split.
func TrainOracle(ctx context.Context, cfg OracleConfig, train, val [][]float64, trainY, valY []int, h Hooks) (*OracleResult, error) {
	k := cfg.arch().Outputs
	o, hist, err := trainOracle(ctx, cfg, train, oracleLoss, func(yb []float32, r, i int) {
		if k == 1 {
			yb[r] = float32(trainY[i])
		} else {
			yb[r*k+trainY[i]] = 1
		}
	}, h)
	if err != nil {
		return nil, err
	}
	acc, err := Accuracy(o, val, valY)
	if err != nil {
		return nil, err
	}
	return &OracleResult{Oracle: o, ValAccuracy: acc, Losses: hist}, nil
}

// TrainRegressionOracle fits a one-output ψ to (points, targets) with Adam
// on the mean squared error and reports R² on the validation split:
//
//	R² = 1 − Σ (ψ(x_i) − t_i)² / Σ (t_i − mean t)².
func TrainRegressionOracle(ctx context.Context, cfg OracleConfig, train, val [][]float64, trainT, valT []float64, h Hooks) (*OracleResult, error) {
	if cfg.Arch.Outputs != 1 {
		return nil, fmt.Errorf("train regression oracle: ψ must have one output, has %d", cfg.Arch.Outputs)
	}
	o, hist, err := trainOracle(ctx, cfg, train, mseLoss, func(yb []float32, r, i int) { yb[r] = float32(trainT[i]) }, h)
	if err != nil {
		return nil, err
	}
	r2, err := R2(o, val, valT)
	if err != nil {
		return nil, err
	}
	return &OracleResult{Oracle: o, ValR2: r2, Losses: hist}, nil
}

// trainOracle trains ψ with Adam on loss(outputs, targets), fill writing
// the target row of point i into row r of the batch's targets.
func trainOracle(ctx context.Context, cfg OracleConfig, train [][]float64, loss func(out, y *G.Node) (*G.Node, error), fill func(yb []float32, r, i int), h Hooks) (*MLPOracle, []map[string]float64, error) {
	if len(train) == 0 {
		return nil, nil, fmt.Errorf("train oracle: no training points")
	}
	latent := len(train[0])
	arch := cfg.arch()
	o := NewOracle(cfg.Seed, latent, arch, cfg.Preserve)
	k := o.OutDim()
	batch := cfg.Batch
	if batch <= 0 || batch > len(train) {
		batch = len(train)
	}
	// ψ trains in float32 (as PyTorch would; half the GEMM time and memory
	// traffic) and is kept in float64 afterwards, where eq. 10's
	// ε-difference runs through it (NOTES-gorgonia pitfall 10).
	net := oracleTrainNet(cfg.Seed, latent, arch)
	g := G.NewGraph()
	b := newBinder(g)
	x := G.NewMatrix(g, tensor.Float32, G.WithName("x"), G.WithShape(batch, latent))
	y := G.NewMatrix(g, tensor.Float32, G.WithName("y"), G.WithShape(batch, k))
	out, err := net.apply(b, x)
	if err != nil {
		return nil, nil, err
	}
	cost, err := loss(out, y)
	if err != nil {
		return nil, nil, err
	}
	learn := b.all(net.Params)
	if _, err := G.Grad(cost, learn...); err != nil {
		return nil, nil, fmt.Errorf("train oracle: gradient: %w", err)
	}
	var costV G.Value
	G.Read(cost, &costV)
	vm := G.NewTapeMachine(g, G.BindDualValues(learn...))
	defer vm.Close()
	xb := make([]float32, batch*latent)
	yb := make([]float32, batch*k)
	l := &loop{
		stage: "oracle", params: net.Params, nodes: learn, vm: vm,
		adam: NewAdam(cfg.LR, net.Params), epochs: cfg.Epochs,
		batches: miniBatches(len(train), batch, cfg.Seed),
		feed: func(idx []int) error {
			clear(yb)
			for r, i := range idx {
				for j, v := range train[i] {
					xb[r*latent+j] = float32(v)
				}
				fill(yb, r, i)
			}
			if err := G.Let(x, tensor.New(tensor.WithShape(batch, latent), tensor.WithBacking(xb))); err != nil {
				return err
			}
			return G.Let(y, tensor.New(tensor.WithShape(batch, k), tensor.WithBacking(yb)))
		},
		names: []string{"total"}, reads: []*G.Value{&costV},
	}
	hist, err := l.run(ctx, h)
	if err != nil {
		return nil, nil, err
	}
	for i, p := range net.Params {
		dst := o.Net.Params[i].Float64s()
		for j, v := range p.Dense.Data().([]float32) {
			dst[j] = float64(v)
		}
	}
	return o, hist, nil
}

// oracleTrainNet is the float32 network ψ trains as (its checkpoints hold
// these parameters).
func oracleTrainNet(seed uint64, latent int, a OracleArch) *MLP {
	return NewMLP(seed, "oracle", tensor.Float32, a.Activation, a.sizes(latent)...)
}

// OracleTrainParams are the parameters of ψ's training checkpoints: the
// float32 network ψ trains as before it is kept in float64. a is ψ's
// architecture (PaperOracle for MNIST).
func OracleTrainParams(seed uint64, latent int, a OracleArch) Params {
	return oracleTrainNet(seed, latent, a).Params
}

// mseLoss is the regression loss of ψ: mean((out − y)²).
func mseLoss(out, y *G.Node) (*G.Node, error) {
	d, err := G.Sub(out, y)
	if err != nil {
		return nil, err
	}
	return G.Mean(G.Must(G.Square(d)))
}

// R2 is the coefficient of determination of a one-output ψ on (pts, t):
// 1 − Σ (ψ(x_i) − t_i)² / Σ (t_i − mean t)². It is 1 for a perfect fit, 0
// for the constant mean, and 0 when the targets are constant and ψ misses
// them.
func R2(o *MLPOracle, pts [][]float64, t []float64) (float64, error) {
	if len(pts) == 0 {
		return 0, nil
	}
	raw := &MLPOracle{Net: o.Net, Preserve: PreserveLogits}
	p, err := EvalOracle(raw, pts)
	if err != nil {
		return 0, err
	}
	var mean float64
	for _, v := range t {
		mean += v
	}
	mean /= float64(len(t))
	var sse, sst float64
	for i, v := range t {
		d := p[i][0] - v
		sse += d * d
		sst += (v - mean) * (v - mean)
	}
	if sst == 0 {
		// constant targets: a perfect fit explains them, anything else
		// explains nothing (kept finite, as results are JSON)
		if sse == 0 {
			return 1, nil
		}
		return 0, nil
	}
	return 1 - sse/sst, nil
}

// oracleLoss is the classification loss of ψ on targets y: for one logit
// the binary cross-entropy mean(softplus(l) − y·l), otherwise the softmax
// cross-entropy −mean(Σ_k y_k log softmax(l)_k) with y one-hot.
func oracleLoss(logits, y *G.Node) (*G.Node, error) {
	if logits.Shape()[1] == 1 {
		sp, err := G.Softplus(logits)
		if err != nil {
			return nil, err
		}
		return G.Mean(G.Must(G.Sub(sp, G.Must(G.HadamardProd(y, logits)))))
	}
	ls, err := G.LogSoftMax(logits, 1)
	if err != nil {
		return nil, err
	}
	return G.Neg(G.Must(G.Mean(G.Must(G.Sum(G.Must(G.HadamardProd(y, ls)), 1)))))
}

// Accuracy is the fraction of points whose most probable class is the label.
func Accuracy(o *MLPOracle, pts [][]float64, labels []int) (float64, error) {
	if len(pts) == 0 {
		return 0, nil
	}
	p, err := o.Probabilities(pts)
	if err != nil {
		return 0, err
	}
	right := 0
	for i, row := range p {
		if Argmax(row) == labels[i] {
			right++
		}
	}
	return float64(right) / float64(len(pts)), nil
}
