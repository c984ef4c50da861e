package models

import (
	"context"
	"fmt"
	"math"

	"github.com/liesweep/liesweep/datasets"
	"github.com/liesweep/liesweep/models/ops"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Autoencoder is the conv autoencoder of the paper's Fig. 3, in float32:
//
//	E: 1×28×28 → conv3×3/2 16 → ReLU → conv3×3/2 32 → ReLU → (7·7·32) → mapping → ℓ
//	D: ℓ → mapping → ReLU → 32×7×7 → upsample×2 → conv3×3 16 → ReLU
//	   → upsample×2 → conv3×3 1 → sigmoid   (trained with pixel-wise BCE)
//
// The mapping is one dense layer for ℓ ≤ 3 and three (1568→128→64→ℓ and
// back) above (paper §5.3). Upsampling + convolution stands in for the
// transposed convolution gorgonia lacks; each upsampling and the
// convolution after it are one fused op (ops.UpConv3x3). Latents are
// standardised per dimension over the training split: Shift and Scale are
// kept with the encoder and undone before decoding.
type Autoencoder struct {
	Latent int
	// Shape is the images' shape (MNIST's 1×28×28 for NewAutoencoder).
	// Other sizes are padded with zeros to multiples of 4 (imageGeom);
	// the encoder sees and the decoder draws C channels.
	Shape  datasets.ImageShape
	geom   imageGeom
	Enc    Params // conv1.weight, conv1.bias, conv2.weight, conv2.bias, then the mapping MLP
	encMap *MLP
	Dec    Params
	decMap *MLP
	// Standardisation of the latents: z_std = (z − Shift) / Scale.
	Shift, Scale []float64
}

const (
	aeC1 = 16
	aeC2 = 32
)

// NewAutoencoder builds an untrained autoencoder of MNIST images with an
// ℓ-dimensional bottleneck.
func NewAutoencoder(seed uint64, latent int) *Autoencoder {
	return NewImageAutoencoder(seed, latent, datasets.MNISTShape)
}

// NewImageAutoencoder builds an untrained autoencoder of images of the
// given shape with an ℓ-dimensional bottleneck.
func NewImageAutoencoder(seed uint64, latent int, shape datasets.ImageShape) *Autoencoder {
	geom := geomOf(shape)
	aeFlat := geom.flat()
	f32 := tensor.Float32
	conv := func(name string, out, in int) (*Param, *Param) {
		bound := 1 / math.Sqrt(float64(in*9))
		return newUniform(seed, name+".weight", f32, bound, out, in, 3, 3), newUniform(seed, name+".bias", f32, bound, 1, out, 1, 1)
	}
	ae := &Autoencoder{Latent: latent, Shape: geom.ImageShape, geom: geom}
	w1, b1 := conv("enc.conv1", aeC1, geom.C)
	w2, b2 := conv("enc.conv2", aeC2, aeC1)
	encSizes, decSizes := []int{aeFlat, latent}, []int{latent, aeFlat}
	if latent > 3 {
		encSizes, decSizes = []int{aeFlat, 128, 64, latent}, []int{latent, 64, 128, aeFlat}
	}
	ae.encMap = NewMLP(seed, "enc.map", f32, ActReLU, encSizes...)
	ae.Enc = append(Params{w1, b1, w2, b2}, ae.encMap.Params...)
	ae.decMap = NewMLP(seed, "dec.map", f32, ActReLU, decSizes...)
	w3, b3 := conv("dec.conv1", aeC1, aeC2)
	w4, b4 := conv("dec.conv2", geom.C, aeC1)
	ae.Dec = append(append(Params(nil), ae.decMap.Params...), w3, b3, w4, b4)
	return ae
}

// Params returns encoder and decoder parameters.
func (ae *Autoencoder) Params() Params { return append(append(Params(nil), ae.Enc...), ae.Dec...) }

// conv2d is a 3×3, padding-1 convolution with bias (ops.Conv3x3).
func conv2d(b *binder, x *G.Node, w, bias *Param, stride int) (*G.Node, error) {
	return ops.Conv3x3(x, b.node(w), b.node(bias), stride)
}

// upConv2d is a nearest 2× upsampling followed by conv2d at stride 1, fused
// into one op that never builds the upsampled image (ops.UpConv3x3).
func upConv2d(b *binder, x *G.Node, w, bias *Param) (*G.Node, error) {
	return ops.UpConv3x3(x, b.node(w), b.node(bias))
}

// encode builds E(x) for x of shape B×C×hp×wp (the working layout of
// imageGeom; B×1×28×28 for MNIST): B×ℓ raw (unstandardised) latents.
func (ae *Autoencoder) encode(b *binder, x *G.Node) (*G.Node, error) {
	bs := x.Shape()[0]
	h, err := conv2d(b, x, ae.Enc[0], ae.Enc[1], 2)
	if err != nil {
		return nil, err
	}
	h = G.Must(ops.ReLU(h))
	if h, err = conv2d(b, h, ae.Enc[2], ae.Enc[3], 2); err != nil {
		return nil, err
	}
	h = G.Must(ops.ReLU(h))
	h = G.Must(G.Reshape(h, tensor.Shape{bs, ae.geom.flat()}))
	return ae.encMap.apply(b, h)
}

// decode builds D(z) for raw latents z (B×ℓ): B×C×hp×wp in (0, 1).
func (ae *Autoencoder) decode(b *binder, z *G.Node) (*G.Node, error) {
	l, err := ae.decodeLogits(b, z)
	if err != nil {
		return nil, err
	}
	return G.Sigmoid(l)
}

// decodeLogits builds D(z) before the final sigmoid.
func (ae *Autoencoder) decodeLogits(b *binder, z *G.Node) (*G.Node, error) {
	bs := z.Shape()[0]
	h, err := ae.decMap.apply(b, z)
	if err != nil {
		return nil, err
	}
	h = G.Must(ops.ReLU(h))
	h = G.Must(G.Reshape(h, tensor.Shape{bs, aeC2, ae.geom.hp / 4, ae.geom.wp / 4}))
	n := len(ae.Dec)
	if h, err = upConv2d(b, h, ae.Dec[n-4], ae.Dec[n-3]); err != nil {
		return nil, err
	}
	h = G.Must(ops.ReLU(h))
	return upConv2d(b, h, ae.Dec[n-2], ae.Dec[n-1])
}

// AEConfig configures autoencoder training.
type AEConfig struct {
	Latent int
	Epochs int
	LR     float64
	Batch  int
	Seed   uint64
	// Shape is the images' shape; the zero value is MNIST's.
	Shape datasets.ImageShape
}

// AEResult is what TrainAutoencoder returns.
type AEResult struct {
	AE     *Autoencoder
	ValMSE float64
	Losses []map[string]float64
}

// TrainAutoencoder fits the autoencoder to images (rows of cfg.Shape's
// pixels in [0, 1], 784 for MNIST) with Adam on the pixel-wise binary cross-entropy, then measures
// the error on the validation images and the standardisation of the
// training latents.
func TrainAutoencoder(ctx context.Context, cfg AEConfig, train, val [][]float32, h Hooks) (*AEResult, error) {
	ae := NewImageAutoencoder(cfg.Seed, cfg.Latent, cfg.Shape)
	geom := ae.geom
	batch := cfg.Batch
	if batch <= 0 || batch > len(train) {
		batch = len(train)
	}
	if batch == 0 {
		return nil, fmt.Errorf("train autoencoder: no images")
	}
	g := G.NewGraph()
	b := newBinder(g)
	x := G.NewTensor(g, tensor.Float32, 4, G.WithName("x"), G.WithShape(geom.shape(batch)...))
	z, err := ae.encode(b, x)
	if err != nil {
		return nil, fmt.Errorf("train autoencoder: encoder: %w", err)
	}
	logits, err := ae.decodeLogits(b, z)
	if err != nil {
		return nil, fmt.Errorf("train autoencoder: decoder: %w", err)
	}
	// Pixel-wise binary cross-entropy on the logits, mean(softplus(l) − x·l):
	// with MSE through the sigmoid, Adam drove every output to 0 (MSE ≈ E[x²]
	// ≈ 0.10) where the sigmoid's gradient vanishes; BCE does not saturate.
	// The reconstruction MSE is still what the stage reports.
	cost, err := ops.BCEWithLogits(logits, x)
	if err != nil {
		return nil, fmt.Errorf("train autoencoder: loss: %w", err)
	}
	params := ae.Params()
	learn := b.all(params)
	if _, err := G.Grad(cost, learn...); err != nil {
		return nil, fmt.Errorf("train autoencoder: gradient: %w", err)
	}
	var costV G.Value
	G.Read(cost, &costV)
	vm := G.NewTapeMachine(g, G.BindDualValues(learn...))
	defer vm.Close()
	xb := make([]float32, batch*geom.size())
	l := &loop{
		stage: "autoencoder", params: params, nodes: learn, vm: vm,
		adam: NewAdam(cfg.LR, params), epochs: cfg.Epochs,
		batches: miniBatches(len(train), batch, cfg.Seed),
		feed: func(idx []int) error {
			for r, i := range idx {
				geom.put(xb[r*geom.size():], train[i])
			}
			return G.Let(x, tensor.New(tensor.WithShape(geom.shape(batch)...), tensor.WithBacking(xb)))
		},
		names: []string{"total"}, reads: []*G.Value{&costV},
	}
	hist, err := l.run(ctx, h)
	if err != nil {
		return nil, err
	}
	res := &AEResult{AE: ae, Losses: hist}
	if err := ae.Standardise(train); err != nil {
		return nil, err
	}
	if len(val) > 0 {
		if res.ValMSE, err = ae.ReconstructionMSE(val); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// evalChunk is the batch size of forward-only passes.
const evalChunk = 500

// EncodeRaw returns E(x) for each image, before standardisation.
func (ae *Autoencoder) EncodeRaw(images [][]float32) ([][]float64, error) {
	out := make([][]float64, 0, len(images))
	for s := 0; s < len(images); s += evalChunk {
		chunk := images[s:min(s+evalChunk, len(images))]
		vals, err := evalGraph(func(g *G.ExprGraph) ([]*G.Node, error) {
			z, err := ae.encode(newBinder(g), ae.geom.node(g, chunk))
			return []*G.Node{z}, err
		})
		if err != nil {
			return nil, fmt.Errorf("encode: %w", err)
		}
		out = append(out, unflatten(vals[0], ae.Latent)...)
	}
	return out, nil
}

// Encode returns the standardised latents of the images.
func (ae *Autoencoder) Encode(images [][]float32) ([][]float64, error) {
	z, err := ae.EncodeRaw(images)
	if err != nil {
		return nil, err
	}
	for _, r := range z {
		for j := range r {
			r[j] = (r[j] - ae.Shift[j]) / ae.Scale[j]
		}
	}
	return z, nil
}

// Standardise sets Shift and Scale to the mean and standard deviation of
// each latent dimension over images (the training split). A dimension with
// zero spread keeps scale 1.
func (ae *Autoencoder) Standardise(images [][]float32) error {
	z, err := ae.EncodeRaw(images)
	if err != nil {
		return err
	}
	ae.Shift, ae.Scale = make([]float64, ae.Latent), make([]float64, ae.Latent)
	for _, r := range z {
		for j, v := range r {
			ae.Shift[j] += v / float64(len(z))
		}
	}
	for _, r := range z {
		for j, v := range r {
			ae.Scale[j] += sq(v-ae.Shift[j]) / float64(len(z))
		}
	}
	for j := range ae.Scale {
		ae.Scale[j] = math.Sqrt(ae.Scale[j])
		if ae.Scale[j] == 0 {
			ae.Scale[j] = 1
		}
	}
	return nil
}

// Decode maps standardised latents back to images (rows of the shape's
// pixels, 784 for MNIST).
func (ae *Autoencoder) Decode(z [][]float64) ([][]float32, error) {
	out := make([][]float32, 0, len(z))
	for s := 0; s < len(z); s += evalChunk {
		chunk := z[s:min(s+evalChunk, len(z))]
		raw := make([]float32, 0, len(chunk)*ae.Latent)
		for _, r := range chunk {
			for j, v := range r {
				raw = append(raw, float32(v*ae.Scale[j]+ae.Shift[j]))
			}
		}
		vals, err := evalGraph(func(g *G.ExprGraph) ([]*G.Node, error) {
			zn := G.NewMatrix(g, tensor.Float32, G.WithName("z"), G.WithShape(len(chunk), ae.Latent), G.WithValue(tensor.New(tensor.WithShape(len(chunk), ae.Latent), tensor.WithBacking(raw))))
			img, err := ae.decode(newBinder(g), zn)
			return []*G.Node{img}, err
		})
		if err != nil {
			return nil, fmt.Errorf("decode: %w", err)
		}
		for i := range chunk {
			out = append(out, ae.geom.crop(vals[0], i))
		}
	}
	return out, nil
}

// ReconstructionMSE is the mean squared error of D(E(x)) over the images'
// pixels (padding excluded).
func (ae *Autoencoder) ReconstructionMSE(images [][]float32) (float64, error) {
	var total float64
	for s := 0; s < len(images); s += evalChunk {
		chunk := images[s:min(s+evalChunk, len(images))]
		vals, err := evalGraph(func(g *G.ExprGraph) ([]*G.Node, error) {
			b := newBinder(g)
			x := ae.geom.node(g, chunk)
			z, err := ae.encode(b, x)
			if err != nil {
				return nil, err
			}
			rec, err := ae.decode(b, z)
			if err != nil {
				return nil, err
			}
			if ae.geom.padded() {
				return []*G.Node{rec}, nil
			}
			return []*G.Node{G.Must(G.Sum(G.Must(G.Square(G.Must(G.Sub(rec, x))))))}, nil
		})
		if err != nil {
			return 0, fmt.Errorf("reconstruction error: %w", err)
		}
		if !ae.geom.padded() {
			total += vals[0][0]
			continue
		}
		for i, im := range chunk {
			for j, v := range ae.geom.crop(vals[0], i) {
				d := float64(v - im[j])
				total += d * d
			}
		}
	}
	return total / float64(len(images)*ae.Shape.Pixels()), nil
}
