package models

import (
	"context"
	"fmt"
	"math"

	"gorgonia.org/tensor"
)

// TableAE is the MLP autoencoder of a table whose latent space is smaller
// than its feature space (the paper's latent flows for tabular data):
//
//	E: R^d → hidden → R^ℓ (tanh at every layer, the bottleneck included)
//	D: R^ℓ → hidden → R^d (linear output)
//
// trained as one network d → h → ℓ → h → d on the mean squared
// reconstruction error of the standardised features.
type TableAE struct {
	Net    *MLP // float64, sizes [d, h, ℓ, h, d]
	Latent int
}

// TableAEHidden is the width of the table autoencoder's hidden layers.
const TableAEHidden = 64

// tableAEArch is the architecture of the autoencoder as one network.
func tableAEArch(d, latent int) OracleArch {
	return OracleArch{Hidden: []int{TableAEHidden, latent, TableAEHidden}, Activation: ActTanh, Outputs: d}
}

// TableAEParams are the parameters of the table autoencoder's training
// checkpoints.
func TableAEParams(seed uint64, d, latent int) Params {
	return oracleTrainNet(seed, d, tableAEArch(d, latent)).Params
}

// NewTableAE returns an untrained autoencoder of d features into ℓ
// latents (its weights to be loaded).
func NewTableAE(seed uint64, d, latent int) *TableAE {
	a := tableAEArch(d, latent)
	return &TableAE{Net: NewMLP(seed, "oracle", tensor.Float64, a.Activation, a.sizes(d)...), Latent: latent}
}

// TrainTableAE trains the autoencoder on the rows of train with Adam
// (cfg's epochs, lr, batch and seed) and returns it with its mean squared
// reconstruction error per value on val.
func TrainTableAE(ctx context.Context, cfg OracleConfig, train, val [][]float64, latent int, h Hooks) (*TableAE, float64, []map[string]float64, error) {
	if len(train) == 0 {
		return nil, 0, nil, fmt.Errorf("train table autoencoder: no rows")
	}
	d := len(train[0])
	if latent < 1 || latent >= d {
		return nil, 0, nil, fmt.Errorf("train table autoencoder: ℓ = %d must be in 1…%d (below the %d features)", latent, d-1, d)
	}
	cfg.Arch = tableAEArch(d, latent)
	o, hist, err := trainOracle(ctx, cfg, train, mseLoss, func(yb []float32, r, i int) {
		for j, v := range train[i] {
			yb[r*d+j] = float32(v)
		}
	}, h)
	if err != nil {
		return nil, 0, nil, err
	}
	ae := &TableAE{Net: o.Net, Latent: latent}
	var sse float64
	for _, x := range val {
		for j, v := range ae.Net.Forward(x) {
			sse += (v - x[j]) * (v - x[j])
		}
	}
	mse := 0.0
	if len(val) > 0 {
		mse = sse / float64(len(val)*d)
	}
	return ae, mse, hist, nil
}

// Encode maps rows of standardised features to their latents: the first
// two layers, tanh included.
func (ae *TableAE) Encode(rows [][]float64) [][]float64 {
	enc := &MLP{Sizes: ae.Net.Sizes[:3], Activation: ae.Net.Activation, Params: ae.Net.Params[:4]}
	out := make([][]float64, len(rows))
	for i, x := range rows {
		z := enc.Forward(x)
		for j, v := range z {
			z[j] = math.Tanh(v) // Forward leaves the last layer linear
		}
		out[i] = z
	}
	return out
}
