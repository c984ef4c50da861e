package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/liesweep/liesweep/datasets"
	"github.com/liesweep/liesweep/models"
	"github.com/liesweep/liesweep/sweeps"
)

// Trained is what a finished trial left in the store, loaded back for
// reports: the oracle, the generators with their loss history and, for
// MNIST, the autoencoder and the validation latents.
type Trained struct {
	Oracle models.Oracle
	// Classifier is the trained ψ of an MNIST trial (nil for analytic).
	Classifier *models.MLPOracle
	// AE is the autoencoder of an MNIST trial (nil for analytic).
	AE   *models.Autoencoder
	Set  *models.GeneratorSet
	Val  [][]float64 // validation latents (analytic: the evaluation points)
	ValY []int       // their labels (analytic: nil)
	// History holds the per-epoch losses of the generators' training
	// (nil for artifacts written before liesweep stored it).
	History []map[string]float64
	// Classes are the MNIST digits ψ tells apart, in output order.
	Classes []int
}

// Load reads the stored artifacts of a finished trial without training
// anything: an artifact that is missing is an error naming its key.
func (r *Runner) Load(ctx context.Context, spec *sweeps.Spec, t Trial) (*Trained, error) {
	keys := StageKeys(spec, t)
	out := &Trained{}
	get := func(stage, key, file string) ([]byte, map[string]string, error) {
		k := ArtifactKey(stage, key, file)
		b, err := r.Store.Get(ctx, k)
		if errors.Is(err, sweeps.ErrNotFound) {
			return nil, nil, fmt.Errorf("%s of trial ℓ=%d N_g=%d seed=%d is not in the store (%s): run or resume the sweep first", stage, t.Latent, t.NG, t.Seed, k)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", k, err)
		}
		_, meta, err := models.ReadSafetensors(bytesReader(b))
		if err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", k, err)
		}
		return b, meta, nil
	}
	if spec.Dataset.Kind == "mnist" {
		out.Classes = spec.Dataset.Classes
		b, meta, err := get(StageAutoencoder, keys.Autoencoder, "weights.safetensors")
		if err != nil {
			return nil, err
		}
		ae := models.NewAutoencoder(uint64(t.Seed), t.Latent)
		if _, err := loadInto(b, "", ae.Params()); err != nil {
			return nil, fmt.Errorf("load autoencoder: %w", err)
		}
		if err := json.Unmarshal([]byte(meta["shift"]), &ae.Shift); err != nil {
			return nil, fmt.Errorf("load autoencoder: shift: %w", err)
		}
		if err := json.Unmarshal([]byte(meta["scale"]), &ae.Scale); err != nil {
			return nil, fmt.Errorf("load autoencoder: scale: %w", err)
		}
		out.AE = ae
		ls, _, err := r.Latents(ctx, spec, t, ae)
		if err != nil {
			return nil, err
		}
		out.Val, out.ValY = ls.Val, ls.ValY
		if b, _, err = get(StageOracle, keys.Oracle, "weights.safetensors"); err != nil {
			return nil, err
		}
		o := models.NewMLPOracle(uint64(t.Seed), t.Latent, len(spec.Dataset.Classes), spec.OracleNet.Preserve)
		if _, err := loadInto(b, "", o.Net.Params); err != nil {
			return nil, fmt.Errorf("load oracle: %w", err)
		}
		out.Oracle, out.Classifier = o, o
	} else {
		d := spec.Dataset
		exprs, err := datasets.AnalyticOracle(d.Oracle, d.Dim, d.Expr)
		if err != nil {
			return nil, err
		}
		out.Oracle = models.NewExprOracle(d.Dim, exprs)
		out.Val = datasets.GaussianSamples(min(d.Samples, spec.Train.EvalPoints), d.Dim, uint64(t.Seed), 1)
	}
	cfg := genConfig(spec, t)
	like, err := models.GeneratorParams(cfg, out.Oracle.InDim())
	if err != nil {
		return nil, err
	}
	b, meta, err := get(StageGenerators, keys.Generators, "weights.safetensors")
	if err != nil {
		return nil, err
	}
	if _, err := loadInto(b, "", like); err != nil {
		return nil, fmt.Errorf("load generators: %w", err)
	}
	if out.Set, err = models.NewGeneratorSet(cfg.Kind, out.Oracle.InDim(), cfg.N, cfg.Hidden, cfg.Seed); err != nil {
		return nil, err
	}
	if err := out.Set.Params.CopyFrom(like); err != nil {
		return nil, err
	}
	if out.History, err = decodeHistory(meta["history"]); err != nil {
		return nil, err
	}
	return out, nil
}

// History reads only the per-epoch losses of a trial's generators from
// their stored weights (nil for artifacts written before liesweep stored
// them): what a training-curve plot needs, without loading the networks.
func (r *Runner) History(ctx context.Context, spec *sweeps.Spec, t Trial) ([]map[string]float64, error) {
	k := ArtifactKey(StageGenerators, StageKeys(spec, t).Generators, "weights.safetensors")
	b, err := r.Store.Get(ctx, k)
	if errors.Is(err, sweeps.ErrNotFound) {
		return nil, fmt.Errorf("generators of trial ℓ=%d N_g=%d seed=%d are not in the store (%s): run or resume the sweep first", t.Latent, t.NG, t.Seed, k)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", k, err)
	}
	_, meta, err := models.ReadSafetensors(bytesReader(b))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", k, err)
	}
	return decodeHistory(meta["history"])
}

func decodeHistory(s string) ([]map[string]float64, error) {
	if s == "" {
		return nil, nil
	}
	var h []map[string]float64
	if err := json.Unmarshal([]byte(s), &h); err != nil {
		return nil, fmt.Errorf("load generators: %w: loss history: %v", models.ErrCorrupt, err)
	}
	return h, nil
}

func historyJSON(h []map[string]float64) string {
	b, _ := json.Marshal(h)
	return string(b)
}
