package models

import (
	"context"
	"fmt"

	"github.com/liesweep/liesweep/datasets"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Oracle is a frozen, differentiable ψ: R^ℓ → R^k. Generators are trained to
// preserve it; gradients flow through it but never change it.
type Oracle interface {
	InDim() int
	OutDim() int
	// apply builds ψ(x) for the rows of x (M×ℓ) into b's graph: M×k.
	apply(b *binder, x *G.Node) (*G.Node, error)
}

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
		if v.IsScalar() {
			return nil, fmt.Errorf("compile %q: expression is constant", e.Source)
		}
		if outs[i], err = G.Reshape(v, tensor.Shape{m, 1}); err != nil {
			return nil, err
		}
	}
	if len(outs) == 1 {
		return outs[0], nil
	}
	return G.Concat(1, outs...)
}

// compileExpr turns an expression tree into graph operations on the columns
// of x, so its gradient comes from gorgonia's autodiff.
func compileExpr(n datasets.Node, x *G.Node, cols map[int]*G.Node) (*G.Node, error) {
	switch n := n.(type) {
	case *datasets.Num:
		return G.NewConstant(n.Value), nil
	case *datasets.Var:
		if c, ok := cols[n.Index]; ok {
			return c, nil
		}
		c, err := G.Slice(x, nil, G.S(n.Index))
		if err != nil {
			return nil, err
		}
		cols[n.Index] = c
		return c, nil
	case *datasets.Neg:
		a, err := compileExpr(n.X, x, cols)
		if err != nil {
			return nil, err
		}
		return G.Neg(a)
	case *datasets.Binary:
		l, err := compileExpr(n.L, x, cols)
		if err != nil {
			return nil, err
		}
		r, err := compileExpr(n.R, x, cols)
		if err != nil {
			return nil, err
		}
		switch n.Op {
		case '+':
			return G.Add(l, r)
		case '-':
			return G.Sub(l, r)
		case '*':
			return G.HadamardProd(l, r)
		default:
			return G.HadamardDiv(l, r)
		}
	case *datasets.Pow:
		a, err := compileExpr(n.X, x, cols)
		if err != nil {
			return nil, err
		}
		k := n.N
		if k < 0 {
			k = -k
		}
		var p *G.Node
		switch k {
		case 0:
			p = G.NewConstant(1.0)
		case 1:
			p = a
		case 2:
			p, err = G.Square(a)
		case 3:
			p, err = G.Cube(a)
		default:
			p = a
			for i := 1; i < k && err == nil; i++ {
				p, err = G.HadamardProd(p, a)
			}
		}
		if err != nil {
			return nil, err
		}
		if n.N < 0 {
			return G.HadamardDiv(G.NewConstant(1.0), p)
		}
		return p, nil
	case *datasets.Call:
		a, err := compileExpr(n.X, x, cols)
		if err != nil {
			return nil, err
		}
		switch n.Fn {
		case "sin":
			return G.Sin(a)
		case "cos":
			return G.Cos(a)
		case "exp":
			return G.Exp(a)
		case "log":
			return G.Log(a)
		case "sqrt":
			return G.Sqrt(a)
		case "tanh":
			return G.Tanh(a)
		}
		return nil, fmt.Errorf("unknown function %s", n.Fn)
	}
	return nil, fmt.Errorf("unknown expression node %T", n)
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
// of classes.
func NewMLPOracle(seed uint64, latent, classes int, preserve string) *MLPOracle {
	sizes := append([]int{latent}, OracleHidden...)
	sizes = append(sizes, oracleOutputs(classes))
	return &MLPOracle{Net: NewMLP(seed, "oracle", tensor.Float64, ActReLU, sizes...), Preserve: preserve}
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
}

// OracleResult is what TrainOracle reports.
type OracleResult struct {
	Oracle      *MLPOracle
	ValAccuracy float64
	Losses      []map[string]float64
}

// TrainOracle fits ψ to (latents, labels) with Adam: binary cross-entropy on
// one logit for two classes, softmax cross-entropy otherwise, and reports
// the accuracy on the validation split.
func TrainOracle(ctx context.Context, cfg OracleConfig, train, val [][]float64, trainY, valY []int, h Hooks) (*OracleResult, error) {
	if len(train) == 0 {
		return nil, fmt.Errorf("train oracle: no training points")
	}
	latent := len(train[0])
	o := NewMLPOracle(cfg.Seed, latent, cfg.Classes, cfg.Preserve)
	k := o.OutDim()
	batch := cfg.Batch
	if batch <= 0 || batch > len(train) {
		batch = len(train)
	}
	// ψ trains in float32 (as PyTorch would; half the GEMM time and memory
	// traffic) and is kept in float64 afterwards, where eq. 10's
	// ε-difference runs through it (NOTES-gorgonia pitfall 10).
	net := oracleTrainNet(cfg.Seed, latent, cfg.Classes)
	g := G.NewGraph()
	b := newBinder(g)
	x := G.NewMatrix(g, tensor.Float32, G.WithName("x"), G.WithShape(batch, latent))
	y := G.NewMatrix(g, tensor.Float32, G.WithName("y"), G.WithShape(batch, k))
	logits, err := net.apply(b, x)
	if err != nil {
		return nil, err
	}
	cost, err := oracleLoss(logits, y)
	if err != nil {
		return nil, err
	}
	learn := b.all(net.Params)
	if _, err := G.Grad(cost, learn...); err != nil {
		return nil, fmt.Errorf("train oracle: gradient: %w", err)
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
				if k == 1 {
					yb[r] = float32(trainY[i])
				} else {
					yb[r*k+trainY[i]] = 1
				}
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
		return nil, err
	}
	for i, p := range net.Params {
		dst := o.Net.Params[i].Float64s()
		for j, v := range p.Dense.Data().([]float32) {
			dst[j] = float64(v)
		}
	}
	acc, err := Accuracy(o, val, valY)
	if err != nil {
		return nil, err
	}
	return &OracleResult{Oracle: o, ValAccuracy: acc, Losses: hist}, nil
}

// oracleTrainNet is the float32 network ψ trains as (its checkpoints hold
// these parameters).
func oracleTrainNet(seed uint64, latent, classes int) *MLP {
	sizes := append(append([]int{latent}, OracleHidden...), oracleOutputs(classes))
	return NewMLP(seed, "oracle", tensor.Float32, ActReLU, sizes...)
}

// OracleTrainParams are the parameters of ψ's training checkpoints: the
// float32 network ψ trains as before it is kept in float64.
func OracleTrainParams(seed uint64, latent, classes int) Params {
	return oracleTrainNet(seed, latent, classes).Params
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
