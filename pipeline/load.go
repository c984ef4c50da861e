package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"

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
	// Classes are the MNIST digits (or an image set's labels) ψ tells
	// apart, in output order.
	Classes []int
	// ClassNames name the classes in figures where "digit N" would be
	// wrong (an image set, a table's labels); nil for MNIST.
	ClassNames []string
	// Phi is the pixel-space classifier φ of an MNIST trial (nil for
	// analytic data and for sweeps stored before liesweep trained one).
	Phi *models.PixelClassifier
	// PhiAccuracy is φ's accuracy on the validation images.
	PhiAccuracy float64
	// PhiProblem says why a stored φ could not be used (empty when it was
	// loaded or none is stored).
	PhiProblem string
}

// Load reads the stored artifacts of a finished trial without training
// anything: an artifact that is missing is an error naming its key.
func (r *Runner) Load(ctx context.Context, spec *sweeps.Spec, t sweeps.Trial) (*Trained, error) {
	keys := sweeps.StageKeys(spec, t)
	out := &Trained{}
	get := func(stage, key string) ([]byte, error) {
		k := sweeps.ArtifactKey(stage, key, "weights.safetensors")
		b, err := r.Store.Get(ctx, k)
		if errors.Is(err, sweeps.ErrNotFound) {
			return nil, fmt.Errorf("%s of trial ℓ=%d N_g=%d seed=%d is not in the store (%s): run or resume the sweep first", stage, t.Latent, t.NG, t.Seed, k)
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", k, err)
		}
		return b, nil
	}
	if spec.Dataset.Images() {
		out.Classes = spec.Dataset.Classes
		if spec.Dataset.Kind == "images" {
			for _, c := range out.Classes {
				out.ClassNames = append(out.ClassNames, fmt.Sprintf("class %d", c))
			}
		}
		b, err := get(sweeps.StageAutoencoder, keys.Autoencoder)
		if err != nil {
			return nil, err
		}
		if out.AE, _, err = decodeAutoencoder(b, spec, t); err != nil {
			return nil, fmt.Errorf("load autoencoder: %w", err)
		}
		ro := *r
		ro.noTrain = true
		ls, _, _, err := ro.Latents(ctx, spec, t)
		if err != nil {
			return nil, err
		}
		out.Val, out.ValY = ls.Val, ls.ValY
		if b, err = get(sweeps.StageOracle, keys.Oracle); err != nil {
			return nil, err
		}
		if out.Classifier, _, err = decodeOracle(b, spec, t); err != nil {
			return nil, fmt.Errorf("load oracle: %w", err)
		}
		out.Oracle = out.Classifier
		k := sweeps.ArtifactKey(sweeps.StageClassifier, keys.Classifier, "weights.safetensors")
		if b, err := r.getOptional(ctx, k); err != nil {
			return nil, err
		} else if b != nil {
			phi, meta, err := decodeClassifier(b, spec, t)
			if err != nil {
				out.PhiProblem = fmt.Sprintf("the stored pixel classifier %s is unreadable (%v): delete it and run the sweep again to retrain φ", k, err)
			} else {
				out.Phi = phi
				out.PhiAccuracy, _ = strconv.ParseFloat(meta["val_accuracy"], 64)
			}
		}
	} else {
		// the analytic oracle (or a table's stored ψ) and the evaluation
		// points, as the trial used them; nothing is trained
		ro := *r
		ro.noTrain = true
		var err error
		if out.Oracle, _, out.Val, _, _, err = ro.points(ctx, spec, t, func(sweeps.StageRun) {}); err != nil {
			return nil, err
		}
		if spec.Dataset.Kind == "table" && spec.Dataset.Task == sweeps.TaskClassification {
			// the evaluation points are the first validation rows: their
			// labels colour the figures
			ls, _, err := ro.tableLatents(ctx, spec, t)
			if err != nil {
				return nil, err
			}
			out.ValY = ls.ValY[:min(len(out.Val), len(ls.ValY))]
			for k := range ls.Classes {
				name := fmt.Sprintf("class %d", k)
				if ls.Labels != nil {
					name = fmt.Sprintf("%s = %g", spec.Dataset.Target, ls.Labels[k])
				}
				out.ClassNames = append(out.ClassNames, name)
			}
		}
	}
	b, err := get(sweeps.StageGenerators, keys.Generators)
	if err != nil {
		return nil, err
	}
	var meta map[string]string
	if out.Set, _, meta, err = decodeGenerators(b, genConfig(spec, t), out.Oracle.InDim()); err != nil {
		return nil, fmt.Errorf("load generators: %w", err)
	}
	if out.History, err = models.DecodeHistory(meta["history"]); err != nil {
		return nil, err
	}
	return out, nil
}

// History reads only the per-epoch losses of a trial's generators from
// their stored weights (nil for artifacts written before liesweep stored
// them): what a training-curve plot needs, without loading the networks.
func (r *Runner) History(ctx context.Context, spec *sweeps.Spec, t sweeps.Trial) ([]map[string]float64, error) {
	k := sweeps.ArtifactKey(sweeps.StageGenerators, sweeps.StageKeys(spec, t).Generators, "weights.safetensors")
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
	return models.DecodeHistory(meta["history"])
}

// HistoryJSONL writes a per-epoch loss history as JSON Lines: one object
// per epoch, {"epoch": e, "<term>": value, …}, epochs counted from 1 and
// the terms in name order, every value at full precision (a NaN or ±Inf,
// which JSON lacks, as null).
func HistoryJSONL(h []map[string]float64) []byte {
	var b []byte
	for i, ep := range h {
		terms := make([]string, 0, len(ep))
		for k := range ep {
			terms = append(terms, k)
		}
		sort.Strings(terms)
		b = append(b, `{"epoch":`...)
		b = strconv.AppendInt(b, int64(i+1), 10)
		for _, k := range terms {
			b = append(b, ',')
			key, _ := json.Marshal(k) // a string always marshals
			b = append(b, key...)
			b = append(b, ':')
			if v := ep[k]; math.IsNaN(v) || math.IsInf(v, 0) {
				b = append(b, "null"...)
			} else {
				b = strconv.AppendFloat(b, v, 'g', -1, 64)
			}
		}
		b = append(b, "}\n"...)
	}
	return b
}

// WeightsHistory reads the per-epoch loss history a stage stored in the
// metadata of its weights (nil for artifacts written before liesweep
// stored it).
func WeightsHistory(weights []byte) ([]map[string]float64, error) {
	_, meta, err := models.ReadSafetensors(bytesReader(weights))
	if err != nil {
		return nil, err
	}
	return models.DecodeHistory(meta["history"])
}

// ClassName names class index c in figures: "digit N" for MNIST, else
// ClassNames[c].
func (tr *Trained) ClassName(c int) string {
	if c >= 0 && c < len(tr.ClassNames) {
		return tr.ClassNames[c]
	}
	if c >= 0 && c < len(tr.Classes) {
		return fmt.Sprintf("digit %d", tr.Classes[c])
	}
	return fmt.Sprintf("class %d", c)
}
