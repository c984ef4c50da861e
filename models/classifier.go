package models

import (
	"context"
	"fmt"
	"math"

	"github.com/liesweep/liesweep/datasets"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// PixelClassifier is φ, a small CNN that classifies MNIST images in pixel
// space, in float32:
//
//	1×28×28 → conv3×3/2 16 → ReLU → conv3×3/2 32 → ReLU → 1568 → 64 → ReLU → k
//
// It is the independent judge of the decoded streamline frames (paper
// Fig. 8): it is trained on the images themselves and shares no weights
// with the autoencoder or ψ, so a frame it still calls "7" looks like a 7,
// not merely like a latent ψ maps to 7. k is 1 (one logit, sigmoid) for two
// classes and the number of classes otherwise, as for ψ.
type PixelClassifier struct {
	Classes int
	// Shape is the images' shape (MNIST's for NewPixelClassifier), laid
	// out as for the autoencoder (imageGeom).
	Shape  datasets.ImageShape
	geom   imageGeom
	Params Params // phi.conv1.weight, phi.conv1.bias, phi.conv2.weight, phi.conv2.bias, then the dense layers
	head   *MLP
}

// NewPixelClassifier builds an untrained φ of MNIST images for the given
// number of classes.
func NewPixelClassifier(seed uint64, classes int) *PixelClassifier {
	return NewImageClassifier(seed, classes, datasets.MNISTShape)
}

// NewImageClassifier builds an untrained φ of images of the given shape.
func NewImageClassifier(seed uint64, classes int, shape datasets.ImageShape) *PixelClassifier {
	geom := geomOf(shape)
	f32 := tensor.Float32
	conv := func(name string, out, in int) (*Param, *Param) {
		bound := 1 / math.Sqrt(float64(in*9))
		return newUniform(seed, name+".weight", f32, bound, out, in, 3, 3), newUniform(seed, name+".bias", f32, bound, 1, out, 1, 1)
	}
	c := &PixelClassifier{Classes: classes, Shape: geom.ImageShape, geom: geom}
	w1, b1 := conv("phi.conv1", aeC1, geom.C)
	w2, b2 := conv("phi.conv2", aeC2, aeC1)
	c.head = NewMLP(seed, "phi.head", f32, ActReLU, geom.flat(), 64, oracleOutputs(classes))
	c.Params = append(Params{w1, b1, w2, b2}, c.head.Params...)
	return c
}

// logits builds φ(x) for x of shape B×C×hp×wp (imageGeom).
func (c *PixelClassifier) logits(b *binder, x *G.Node) (*G.Node, error) {
	bs := x.Shape()[0]
	h, err := conv2d(b, x, c.Params[0], c.Params[1], 2)
	if err != nil {
		return nil, err
	}
	h = G.Must(G.Rectify(h))
	if h, err = conv2d(b, h, c.Params[2], c.Params[3], 2); err != nil {
		return nil, err
	}
	h = G.Must(G.Rectify(h))
	h = G.Must(G.Reshape(h, tensor.Shape{bs, c.geom.flat()}))
	return c.head.apply(b, h)
}

// Probabilities returns φ's class probabilities of each image (rows of the
// shape's pixels in [0, 1]); for two classes the rows are (P(first), P(second)).
func (c *PixelClassifier) Probabilities(images [][]float32) ([][]float64, error) {
	k := oracleOutputs(c.Classes)
	out := make([][]float64, 0, len(images))
	for s := 0; s < len(images); s += evalChunk {
		chunk := images[s:min(s+evalChunk, len(images))]
		vals, err := evalGraph(func(g *G.ExprGraph) ([]*G.Node, error) {
			l, err := c.logits(newBinder(g), c.geom.node(g, chunk))
			return []*G.Node{l}, err
		})
		if err != nil {
			return nil, fmt.Errorf("pixel classifier: %w", err)
		}
		for _, row := range unflatten(vals[0], k) {
			out = append(out, softmaxRow(row))
		}
	}
	return out, nil
}

// softmaxRow turns one row of logits into probabilities: the sigmoid pair
// for a single logit, the softmax otherwise.
func softmaxRow(l []float64) []float64 {
	if len(l) == 1 {
		p := 1 / (1 + math.Exp(-l[0]))
		return []float64{1 - p, p}
	}
	m := l[0]
	for _, v := range l {
		m = math.Max(m, v)
	}
	out := make([]float64, len(l))
	var s float64
	for i, v := range l {
		out[i] = math.Exp(v - m)
		s += out[i]
	}
	for i := range out {
		out[i] /= s
	}
	return out
}

// ClassifierConfig configures the training of φ.
type ClassifierConfig struct {
	Classes int
	Epochs  int
	LR      float64
	Batch   int
	Seed    uint64
	// Shape is the images' shape; the zero value is MNIST's.
	Shape datasets.ImageShape
}

// ClassifierResult is what TrainPixelClassifier returns.
type ClassifierResult struct {
	Phi         *PixelClassifier
	ValAccuracy float64
	Losses      []map[string]float64
}

// TrainPixelClassifier fits φ to labelled images with Adam on the
// cross-entropy (binary for two classes) and measures its accuracy on the
// validation images.
func TrainPixelClassifier(ctx context.Context, cfg ClassifierConfig, train [][]float32, trainY []int, val [][]float32, valY []int, h Hooks) (*ClassifierResult, error) {
	if len(train) == 0 {
		return nil, fmt.Errorf("train pixel classifier: no images")
	}
	if cfg.Epochs < 1 || cfg.LR <= 0 || len(trainY) != len(train) {
		return nil, fmt.Errorf("train pixel classifier: %d epochs, lr %g, %d labels for %d images: want ≥ 1 epoch, lr > 0 and one label per image", cfg.Epochs, cfg.LR, len(trainY), len(train))
	}
	c := NewImageClassifier(cfg.Seed, cfg.Classes, cfg.Shape)
	geom := c.geom
	k := oracleOutputs(cfg.Classes)
	batch := cfg.Batch
	if batch <= 0 || batch > len(train) {
		batch = len(train)
	}
	g := G.NewGraph()
	b := newBinder(g)
	x := G.NewTensor(g, tensor.Float32, 4, G.WithName("x"), G.WithShape(geom.shape(batch)...))
	y := G.NewMatrix(g, tensor.Float32, G.WithName("y"), G.WithShape(batch, k))
	logits, err := c.logits(b, x)
	if err != nil {
		return nil, fmt.Errorf("train pixel classifier: %w", err)
	}
	cost, err := oracleLoss(logits, y)
	if err != nil {
		return nil, err
	}
	learn := b.all(c.Params)
	if _, err := G.Grad(cost, learn...); err != nil {
		return nil, fmt.Errorf("train pixel classifier: gradient: %w", err)
	}
	var costV G.Value
	G.Read(cost, &costV)
	vm := G.NewTapeMachine(g, G.BindDualValues(learn...))
	defer vm.Close()
	xb := make([]float32, batch*geom.size())
	yb := make([]float32, batch*k)
	l := &loop{
		stage: "classifier", params: c.Params, nodes: learn, vm: vm,
		adam: NewAdam(cfg.LR, c.Params), epochs: cfg.Epochs,
		batches: miniBatches(len(train), batch, cfg.Seed),
		feed: func(idx []int) error {
			clear(yb)
			for r, i := range idx {
				geom.put(xb[r*geom.size():], train[i])
				if k == 1 {
					yb[r] = float32(trainY[i])
				} else {
					yb[r*k+trainY[i]] = 1
				}
			}
			if err := G.Let(x, tensor.New(tensor.WithShape(geom.shape(batch)...), tensor.WithBacking(xb))); err != nil {
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
	res := &ClassifierResult{Phi: c, Losses: hist}
	if len(val) > 0 {
		p, err := c.Probabilities(val)
		if err != nil {
			return nil, err
		}
		right := 0
		for i, row := range p {
			if Argmax(row) == valY[i] {
				right++
			}
		}
		res.ValAccuracy = float64(right) / float64(len(val))
	}
	return res, nil
}

// Argmax is the index of the largest value of row (the first on ties).
func Argmax(row []float64) int {
	best := 0
	for j := range row {
		if row[j] > row[best] {
			best = j
		}
	}
	return best
}
