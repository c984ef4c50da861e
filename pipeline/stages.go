package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/liesweep/liesweep/datasets"
	"github.com/liesweep/liesweep/lie"
	"github.com/liesweep/liesweep/models"
	"github.com/liesweep/liesweep/sweeps"
	"gorgonia.org/tensor"
)

// latentSet is the output of the latents stage.
type latentSet struct {
	Train, Val   [][]float64
	TrainY, ValY []int
	// a table's regression targets (standardised) and a classifier's
	// number of classes (tables only)
	TrainT, ValT []float64
	Classes      int
	Labels       []float64 // a table's original label of each class index
	// a table's standardisation: z = (x − FeatureMean)/FeatureStd, t = (y − TargetMean)/TargetStd
	FeatureMean, FeatureStd []float64
	TargetMean, TargetStd   float64
	// with a table autoencoder: the standardisation of its latents
	LatentMean, LatentStd []float64
}

// weights is the stored weights file of one stage of a trial.
type weights struct {
	stage, k, key string // the stage, its key, and the store key of the file
	// name calls it in errors ("load <name> <key>", "train <name>",
	// "store <name>"), label in the progress of a reuse
	name, label string
}

func stageWeights(stage, k, name string) weights {
	return weights{stage: stage, k: k, key: sweeps.ArtifactKey(stage, k, "weights.safetensors"), name: name, label: name}
}

// storedWeights returns w's weights decoded when they are stored, with the
// run of their reuse and the validation number their metadata keeps under
// metric; found is false when none are stored, and a runner that must not
// train (noTrain) gets the missing-stage error instead.
func storedWeights[T any](ctx context.Context, r *Runner, w weights, metric string, start time.Time, decode func([]byte) (T, map[string]string, error)) (v T, run sweeps.StageRun, val float64, found bool, err error) {
	b, err := r.getOptional(ctx, w.key)
	if err != nil {
		return v, run, 0, false, err
	}
	if b == nil {
		if r.noTrain {
			return v, run, 0, false, missing(w.stage, w.key)
		}
		return v, run, 0, false, nil
	}
	got, meta, err := decode(b)
	if err != nil {
		return v, run, 0, false, fmt.Errorf("load %s %s: %w", w.name, w.key, err)
	}
	val, _ = strconv.ParseFloat(meta[metric], 64)
	r.emit(Event{Stage: w.stage, Message: "reusing stored " + w.label + " " + w.k})
	return got, stageRun(w.stage, w.k, start, true, 0), val, true, nil
}

// putTensors encodes tensors with their metadata and stores them under key;
// a failed put is "store <name>: …".
func (r *Runner) putTensors(ctx context.Context, key, name string, tensors map[string]*tensor.Dense, meta map[string]string) error {
	b, err := models.EncodeTensors(tensors, meta)
	if err != nil {
		return err
	}
	if err := r.Store.Put(ctx, key, b); err != nil {
		return fmt.Errorf("store %s: %w", name, err)
	}
	return nil
}

// putWeights stores the trained parameters of w with their metadata.
func (r *Runner) putWeights(ctx context.Context, w weights, ps models.Params, meta map[string]string) error {
	return r.putTensors(ctx, w.key, w.name, models.ParamsTensors("", ps), meta)
}

// imageSplit returns the shape of the spec's images and the seeded split of
// its classes, capped as the dataset says.
func (r *Runner) imageSplit(ctx context.Context, spec *sweeps.Spec, t sweeps.Trial) (shape datasets.ImageShape, train, val datasets.Split, err error) {
	m, err := r.imageSet(ctx, spec)
	if err != nil {
		return shape, train, val, err
	}
	train, val, err = m.Select(spec.Dataset.Classes, uint64(t.Seed), spec.Dataset.MaxTrain, spec.Dataset.MaxVal)
	return m.ImageShape(), train, val, err
}

// Autoencoder trains (or reuses) the autoencoder of (ℓ, seed).
func (r *Runner) Autoencoder(ctx context.Context, spec *sweeps.Spec, t sweeps.Trial) (*models.Autoencoder, sweeps.StageRun, float64, error) {
	start := time.Now()
	w := stageWeights(sweeps.StageAutoencoder, sweeps.StageKeys(spec, t).Autoencoder, "autoencoder")
	if ae, run, mse, found, err := storedWeights(ctx, r, w, "val_mse", start, func(b []byte) (*models.Autoencoder, map[string]string, error) {
		return decodeAutoencoder(b, spec, t)
	}); err != nil || found {
		return ae, run, mse, err
	}
	shape, train, val, err := r.imageSplit(ctx, spec, t)
	if err != nil {
		return nil, sweeps.StageRun{}, 0, err
	}
	cfg := models.AEConfig{Latent: t.Latent, Epochs: spec.Autoencoder.Epochs, LR: spec.Autoencoder.LR, Batch: spec.Autoencoder.Batch, Seed: uint64(t.Seed), Shape: shape}
	var res *models.AEResult
	resumed, err := r.trainStage(ctx, w.stage, w.k, models.NewImageAutoencoder(uint64(t.Seed), t.Latent, cfg.Shape).Params(), 1, func(h models.Hooks) error {
		var err error
		res, err = models.TrainAutoencoder(ctx, cfg, train.Images, val.Images, h)
		return err
	})
	if err != nil {
		return nil, sweeps.StageRun{}, 0, fmt.Errorf("train autoencoder: %w", err)
	}
	shift, _ := json.Marshal(res.AE.Shift)
	scale, _ := json.Marshal(res.AE.Scale)
	if err := r.putWeights(ctx, w, res.AE.Params(), map[string]string{
		"stage": sweeps.StageAutoencoder, "latent": strconv.Itoa(t.Latent), "shift": string(shift), "scale": string(scale),
		"val_mse": strconv.FormatFloat(res.ValMSE, 'g', -1, 64), "history": models.EncodeHistory(res.Losses),
		"layout": "conv weights (out,in,kh,kw); dense weights (in,out), biases (1,out); latents standardised: z=(E(x)-shift)/scale",
	}); err != nil {
		return nil, sweeps.StageRun{}, 0, err
	}
	return res.AE, stageRun(w.stage, w.k, start, false, resumed), res.ValMSE, nil
}

// Latents returns the standardised latents of (ℓ, seed), encoding the
// images with the autoencoder when they are not stored. Stored latents are
// read without touching the autoencoder: its validation MSE is kept in the
// latents' metadata (latents stored before it was are the exception: their
// autoencoder is read for it). runs are the autoencoder's and the latents'.
func (r *Runner) Latents(ctx context.Context, spec *sweeps.Spec, t sweeps.Trial) (ls *latentSet, runs []sweeps.StageRun, aeMSE float64, err error) {
	start := time.Now()
	keys := sweeps.StageKeys(spec, t)
	k := keys.Latents
	key := sweeps.ArtifactKey(sweeps.StageLatents, k, "latents.safetensors")
	if b, err := r.getOptional(ctx, key); err != nil {
		return nil, nil, 0, err
	} else if b != nil {
		ts, meta, err := models.ReadSafetensors(bytesReader(b))
		if err != nil {
			return nil, nil, 0, fmt.Errorf("load latents %s: %w", key, err)
		}
		for _, n := range []string{"train_z", "val_z", "train_y", "val_y"} {
			if ts[n] == nil {
				return nil, nil, 0, fmt.Errorf("load latents %s: %w: no tensor %s", key, sweeps.ErrCorrupt, n)
			}
		}
		ls := &latentSet{Train: models.TensorRows(ts["train_z"]), Val: models.TensorRows(ts["val_z"]), TrainY: models.TensorInts(ts["train_y"]), ValY: models.TensorInts(ts["val_y"])}
		aeRun := sweeps.StageRun{Stage: sweeps.StageAutoencoder, Key: keys.Autoencoder, Reused: true}
		mse, perr := strconv.ParseFloat(meta["ae_val_mse"], 64)
		aeGone := !r.noTrain && !r.exists(ctx, sweeps.ArtifactKey(sweeps.StageAutoencoder, keys.Autoencoder, "weights.safetensors"))
		if perr != nil || aeGone {
			// the report decodes with the autoencoder: weights that are
			// gone are trained again (deterministic: the same weights)
			var err error
			if _, aeRun, mse, err = r.Autoencoder(ctx, spec, t); err != nil {
				return nil, nil, 0, err
			}
		}
		return ls, []sweeps.StageRun{aeRun, stageRun(sweeps.StageLatents, k, start, true, 0)}, mse, nil
	}
	if r.noTrain {
		return nil, nil, 0, missing(sweeps.StageLatents, key)
	}
	ae, aeRun, mse, err := r.Autoencoder(ctx, spec, t)
	if err != nil {
		return nil, nil, 0, err
	}
	start = time.Now()
	_, train, val, err := r.imageSplit(ctx, spec, t)
	if err != nil {
		return nil, nil, 0, err
	}
	r.emit(Event{Stage: sweeps.StageLatents, Message: fmt.Sprintf("encoding %d + %d images", len(train.Images), len(val.Images))})
	ls = &latentSet{TrainY: train.Labels, ValY: val.Labels}
	if ls.Train, err = ae.Encode(train.Images); err != nil {
		return nil, nil, 0, err
	}
	if ls.Val, err = ae.Encode(val.Images); err != nil {
		return nil, nil, 0, err
	}
	if err := r.putTensors(ctx, key, "latents", map[string]*tensor.Dense{
		"train_z": models.RowsTensor(ls.Train), "val_z": models.RowsTensor(ls.Val),
		"train_y": models.IntsTensor(ls.TrainY), "val_y": models.IntsTensor(ls.ValY),
	}, map[string]string{"stage": sweeps.StageLatents, "standardised": "true", "ae_val_mse": strconv.FormatFloat(mse, 'g', -1, 64)}); err != nil {
		return nil, nil, 0, err
	}
	return ls, []sweeps.StageRun{aeRun, stageRun(sweeps.StageLatents, k, start, false, 0)}, mse, nil
}

// Oracle trains (or reuses) ψ on the latents of (ℓ, seed).
func (r *Runner) Oracle(ctx context.Context, spec *sweeps.Spec, t sweeps.Trial, ls *latentSet) (*models.MLPOracle, sweeps.StageRun, float64, error) {
	start := time.Now()
	w := stageWeights(sweeps.StageOracle, sweeps.StageKeys(spec, t).Oracle, "oracle")
	classes := len(spec.Dataset.Classes)
	if o, run, acc, found, err := storedWeights(ctx, r, w, "val_accuracy", start, func(b []byte) (*models.MLPOracle, map[string]string, error) {
		return decodeOracle(b, spec, t)
	}); err != nil || found {
		return o, run, acc, err
	}
	cfg := models.OracleConfig{Classes: classes, Epochs: spec.OracleNet.Epochs, LR: spec.OracleNet.LR, Batch: spec.OracleNet.Batch, Seed: uint64(t.Seed), Preserve: spec.OracleNet.Preserve}
	var res *models.OracleResult
	resumed, err := r.trainStage(ctx, w.stage, w.k, models.OracleTrainParams(uint64(t.Seed), t.Latent, models.PaperOracle(classes)), 5, func(h models.Hooks) error {
		var err error
		res, err = models.TrainOracle(ctx, cfg, ls.Train, ls.Val, ls.TrainY, ls.ValY, h)
		return err
	})
	if err != nil {
		return nil, sweeps.StageRun{}, 0, fmt.Errorf("train oracle: %w", err)
	}
	if err := r.putWeights(ctx, w, res.Oracle.Net.Params, map[string]string{
		"stage": sweeps.StageOracle, "classes": strconv.Itoa(classes), "preserve": spec.OracleNet.Preserve,
		"val_accuracy": strconv.FormatFloat(res.ValAccuracy, 'g', -1, 64), "history": models.EncodeHistory(res.Losses),
		"layout": "dense weights (in,out), biases (1,out); ReLU between layers; input: standardised latents",
	}); err != nil {
		return nil, sweeps.StageRun{}, 0, err
	}
	return res.Oracle, stageRun(w.stage, w.k, start, false, resumed), res.ValAccuracy, nil
}

// PixelClassifier trains (or reuses) φ, the small CNN that classifies the
// images of the spec's digits in pixel space. It shares no weights with the
// autoencoder or ψ: it is the independent judge of decoded streamline
// frames (paper Fig. 8). Its key covers the digits, the split caps, the seed
// and spec.Classifier, so one φ serves every ℓ of a seed. Only the report
// uses it: the trial stages never wait for it.
func (r *Runner) PixelClassifier(ctx context.Context, spec *sweeps.Spec, t sweeps.Trial) (*models.PixelClassifier, sweeps.StageRun, float64, error) {
	start := time.Now()
	w := stageWeights(sweeps.StageClassifier, sweeps.StageKeys(spec, t).Classifier, "pixel classifier")
	w.label = "pixel classifier φ"
	classes := len(spec.Dataset.Classes)
	if phi, run, acc, found, err := storedWeights(ctx, r, w, "val_accuracy", start, func(b []byte) (*models.PixelClassifier, map[string]string, error) {
		return decodeClassifier(b, spec, t)
	}); err != nil || found {
		return phi, run, acc, err
	}
	shape, train, val, err := r.imageSplit(ctx, spec, t)
	if err != nil {
		return nil, sweeps.StageRun{}, 0, err
	}
	cfg := models.ClassifierConfig{Classes: classes, Epochs: spec.Classifier.Epochs, LR: spec.Classifier.LR, Batch: spec.Classifier.Batch, Seed: uint64(t.Seed), Shape: shape}
	var res *models.ClassifierResult
	resumed, err := r.trainStage(ctx, w.stage, w.k, models.NewImageClassifier(uint64(t.Seed), classes, cfg.Shape).Params, 1, func(h models.Hooks) error {
		var err error
		res, err = models.TrainPixelClassifier(ctx, cfg, train.Images, train.Labels, val.Images, val.Labels, h)
		return err
	})
	if err != nil {
		return nil, sweeps.StageRun{}, 0, fmt.Errorf("train pixel classifier: %w", err)
	}
	r.emit(Event{Stage: sweeps.StageClassifier, Message: fmt.Sprintf("pixel classifier φ: validation accuracy %.4f", res.ValAccuracy)})
	if err := r.putWeights(ctx, w, res.Phi.Params, map[string]string{
		"stage": sweeps.StageClassifier, "classes": strconv.Itoa(classes),
		"val_accuracy": strconv.FormatFloat(res.ValAccuracy, 'g', -1, 64), "history": models.EncodeHistory(res.Losses),
		"layout": "conv weights (out,in,kh,kw); dense weights (in,out), biases (1,out); input: " + imageShapeNote(cfg.Shape),
	}); err != nil {
		return nil, sweeps.StageRun{}, 0, err
	}
	return res.Phi, stageRun(w.stage, w.k, start, false, resumed), res.ValAccuracy, nil
}

// genConfig maps the spec onto the generator trainer's config.
func genConfig(spec *sweeps.Spec, t sweeps.Trial) models.GenConfig {
	g, tr := spec.Generator, spec.Train
	return models.GenConfig{
		Kind: g.Kind, Hidden: g.Hidden, N: t.NG, Orthogonality: g.Orthogonality,
		Normalization: g.Normalization, Closure: g.Closure,
		Epochs: tr.Epochs, LR: tr.LR, Epsilon: tr.Epsilon, Batch: tr.Batch,
		HNorm: tr.HNorm, HOrtho: tr.HOrtho, HClosure: tr.HClosure, Seed: uint64(t.Seed),
		InvLoss: tr.InvLoss, Init: g.Init,
	}
}

// points returns the oracle and the training and evaluation points of a
// trial: Gaussian samples for an analytic oracle, latents for MNIST.
func (r *Runner) points(ctx context.Context, spec *sweeps.Spec, t sweeps.Trial, run func(sweeps.StageRun)) (models.Oracle, [][]float64, [][]float64, *float64, *float64, error) {
	tr := spec.Train
	if spec.Dataset.Kind == "analytic" {
		d := spec.Dataset
		exprs, err := datasets.AnalyticOracle(d.Oracle, d.Dim, d.Expr)
		if err != nil {
			return nil, nil, nil, nil, nil, err
		}
		train := datasets.GaussianSamples(d.Samples, d.Dim, uint64(t.Seed), 0)
		eval := datasets.GaussianSamples(min(d.Samples, tr.EvalPoints), d.Dim, uint64(t.Seed), 1)
		return models.NewExprOracle(d.Dim, exprs), train, eval, nil, nil, nil
	}
	var (
		ls   *latentSet
		runs []sweeps.StageRun
		mse  float64
		o    models.Oracle
		oRun sweeps.StageRun
		acc  float64
		err  error
	)
	table := spec.Dataset.Kind == "table"
	if table {
		ls, runs, err = r.tableLatents(ctx, spec, t)
	} else {
		ls, runs, mse, err = r.Latents(ctx, spec, t)
	}
	if err != nil {
		return nil, nil, nil, nil, nil, err
	}
	for _, s := range runs {
		run(s)
	}
	if table {
		o, oRun, acc, err = r.tableOracle(ctx, spec, t, ls)
	} else {
		o, oRun, acc, err = r.Oracle(ctx, spec, t, ls)
	}
	if err != nil {
		return nil, nil, nil, nil, nil, err
	}
	run(oRun)
	train := ls.Train
	if tr.MaxPoints > 0 && len(train) > tr.MaxPoints {
		train = train[:tr.MaxPoints]
	}
	eval := ls.Val
	if len(eval) > tr.EvalPoints {
		eval = eval[:tr.EvalPoints]
	}
	if table {
		return o, train, eval, &acc, nil, nil
	}
	return o, train, eval, &acc, &mse, nil
}

// Generators trains (or reuses) the N_g generators of a trial.
func (r *Runner) Generators(ctx context.Context, spec *sweeps.Spec, t sweeps.Trial, o models.Oracle, train [][]float64) (*models.GeneratorSet, [][][]float64, map[string]float64, sweeps.StageRun, error) {
	start := time.Now()
	k := sweeps.StageKeys(spec, t).Generators
	key := sweeps.ArtifactKey(sweeps.StageGenerators, k, "weights.safetensors")
	cfg := genConfig(spec, t)
	// Generators stored under the gen-v1 key (before the key covered the
	// whole Train config) are the same stage and are still found.
	for _, cand := range []struct{ key, k, note string }{
		{key, k, ""},
		{sweeps.ArtifactKey(sweeps.StageGenerators, sweeps.LegacyGeneratorKey(spec, t), "weights.safetensors"), sweeps.LegacyGeneratorKey(spec, t), " (stored under its gen-v1 key)"},
	} {
		if cand.k == "" {
			continue
		}
		b, err := r.getOptional(ctx, cand.key)
		if err != nil {
			return nil, nil, nil, sweeps.StageRun{}, err
		}
		if b == nil {
			continue
		}
		set, like, meta, err := decodeGenerators(b, cfg, o.InDim())
		if err != nil {
			return nil, nil, nil, sweeps.StageRun{}, fmt.Errorf("load generators %s: %w", cand.key, err)
		}
		var losses map[string]float64
		if err := json.Unmarshal([]byte(meta["final_losses"]), &losses); err != nil {
			return nil, nil, nil, sweeps.StageRun{}, fmt.Errorf("load generators %s: %w: final_losses", cand.key, sweeps.ErrCorrupt)
		}
		if cand.key != key {
			// Found under the gen-v1 key: keep a copy under the current
			// one, where results, reports and loaders look.
			if err := r.Store.Put(ctx, key, b); err != nil {
				return nil, nil, nil, sweeps.StageRun{}, fmt.Errorf("copy generators %s to %s: %w", cand.key, key, err)
			}
		}
		r.emit(Event{Stage: sweeps.StageGenerators, Message: "reusing stored generators " + cand.k + cand.note})
		run := stageRun(sweeps.StageGenerators, cand.k, start, true, 0)
		if run.Epochs, err = strconv.Atoi(meta["epochs_run"]); err != nil {
			run.Epochs = spec.Train.Epochs // stored before early stopping existed
		}
		return set, jointConstants(like.ByName("closure.coeffs"), cfg.N), losses, run, nil
	}
	if r.noTrain {
		return nil, nil, nil, sweeps.StageRun{}, missing(sweeps.StageGenerators, key)
	}
	like, err := models.GeneratorParams(cfg, o.InDim())
	if err != nil {
		return nil, nil, nil, sweeps.StageRun{}, err
	}
	var res *models.GenResult
	resumed, err := r.trainStage(ctx, sweeps.StageGenerators, k, like, spec.Train.CheckpointEvery, func(h models.Hooks) error {
		var err error
		if tr := spec.Train; tr.EarlyStop {
			h.Plateau = &models.Plateau{Window: tr.EarlyStopWindow, Tol: tr.EarlyStopTol}
		}
		res, err = models.TrainGenerators(ctx, o, train, cfg, h)
		return err
	})
	if err != nil {
		return nil, nil, nil, sweeps.StageRun{}, fmt.Errorf("train generators (N_g=%d): %w", t.NG, err)
	}
	ps := append(models.Params(nil), res.Set.Params...)
	if res.Coeffs != nil {
		ps = append(ps, res.Coeffs)
	}
	final, _ := json.Marshal(res.Final())
	if err := r.putTensors(ctx, key, "generators", models.ParamsTensors("", ps), map[string]string{
		"stage": sweeps.StageGenerators, "kind": cfg.Kind, "ng": strconv.Itoa(cfg.N), "final_losses": string(final), "history": models.EncodeHistory(res.Losses),
		"epochs_run": strconv.Itoa(len(res.Losses)),
		"layout":     "linear: gen.<a>.matrix G_a acting on column vectors, g_a(z)=G_a z; mlp: gen.<a>.<l>.weight (in,out), bias (1,out), tanh; closure.coeffs (pairs a<b in order, N_g)",
	}); err != nil {
		return nil, nil, nil, sweeps.StageRun{}, err
	}
	var coeffs *models.Param
	if res.Coeffs != nil {
		coeffs = res.Coeffs
	}
	run := stageRun(sweeps.StageGenerators, k, start, false, resumed)
	run.Epochs = len(res.Losses)
	return res.Set, jointConstants(coeffs, cfg.N), res.Final(), run, nil
}

// decodeAutoencoder restores a stored autoencoder, its weights and the
// standardisation of its latents, and returns the artifact's metadata.
func decodeAutoencoder(b []byte, spec *sweeps.Spec, t sweeps.Trial) (*models.Autoencoder, map[string]string, error) {
	ae := models.NewImageAutoencoder(uint64(t.Seed), t.Latent, imageShape(spec))
	meta, err := models.LoadParams(b, "", ae.Params())
	if err != nil {
		return nil, nil, err
	}
	if err := json.Unmarshal([]byte(meta["shift"]), &ae.Shift); err != nil {
		return nil, nil, fmt.Errorf("%w: shift: %v", sweeps.ErrCorrupt, err)
	}
	if err := json.Unmarshal([]byte(meta["scale"]), &ae.Scale); err != nil {
		return nil, nil, fmt.Errorf("%w: scale: %v", sweeps.ErrCorrupt, err)
	}
	return ae, meta, nil
}

// decodeOracle restores a stored ψ.
func decodeOracle(b []byte, spec *sweeps.Spec, t sweeps.Trial) (*models.MLPOracle, map[string]string, error) {
	o := models.NewMLPOracle(uint64(t.Seed), t.Latent, len(spec.Dataset.Classes), spec.OracleNet.Preserve)
	meta, err := models.LoadParams(b, "", o.Net.Params)
	return o, meta, err
}

// decodeClassifier restores a stored φ.
func decodeClassifier(b []byte, spec *sweeps.Spec, t sweeps.Trial) (*models.PixelClassifier, map[string]string, error) {
	phi := models.NewImageClassifier(uint64(t.Seed), len(spec.Dataset.Classes), imageShape(spec))
	meta, err := models.LoadParams(b, "", phi.Params)
	return phi, meta, err
}

// decodeGenerators restores a stored generator set on R^dim; like also
// holds the jointly trained structure constants, when there are any.
func decodeGenerators(b []byte, cfg models.GenConfig, dim int) (*models.GeneratorSet, models.Params, map[string]string, error) {
	like, err := models.GeneratorParams(cfg, dim)
	if err != nil {
		return nil, nil, nil, err
	}
	meta, err := models.LoadParams(b, "", like)
	if err != nil {
		return nil, nil, nil, err
	}
	set, err := models.NewGeneratorSet(cfg.Kind, dim, cfg.N, cfg.Hidden, cfg.Seed)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := set.Params.CopyFrom(like); err != nil {
		return nil, nil, nil, err
	}
	return set, like, meta, nil
}

func jointConstants(p *models.Param, n int) [][][]float64 {
	if p == nil {
		return nil
	}
	out := make([][][]float64, n)
	for a := range out {
		out[a] = make([][]float64, n)
		for b := range out[a] {
			out[a][b] = make([]float64, n)
		}
	}
	v := p.Float64s()
	for pi, pr := range lie.Pairs(n) {
		for c := 0; c < n; c++ {
			out[pr[0]][pr[1]][c] = v[pi*n+c]
			out[pr[1]][pr[0]][c] = -v[pi*n+c]
		}
	}
	return out
}

// RunTrial runs every stage of one trial that is not stored yet (reusing
// the rest), analyses the generators and returns the judged result.
//
// out.Key, when not "", is where the caller keeps the trial's result
// (sweeps/<id>/results/… in a sweep, results/… of `liesweep run`): a result
// stored there by the same analysis (same stage keys) is reused, judged
// with this spec's thresholds, and a new one is written there, once.
// known are stage runs done elsewhere (by earlier activities of the same
// trial): they replace the "reused" records of those stages, so the result
// tells how each stage was produced.
func (r *Runner) RunTrial(ctx context.Context, spec *sweeps.Spec, t sweeps.Trial, out Out, known ...sweeps.StageRun) (*sweeps.TrialResult, error) {
	return r.trial(ctx, spec, t, out, known)
}

// AnalyzeTrial is RunTrial's analysis alone: it loads the stored
// autoencoder, latents, ψ and generators and fails with an error wrapping
// sweeps.ErrStageMissing, naming the key, when one is not stored. It never
// trains, so it fits the orchestration queue.
func (r *Runner) AnalyzeTrial(ctx context.Context, spec *sweeps.Spec, t sweeps.Trial, out Out, known ...sweeps.StageRun) (*sweeps.TrialResult, error) {
	ro := *r
	ro.noTrain = true
	return ro.trial(ctx, spec, t, out, known)
}

func (r *Runner) trial(ctx context.Context, spec *sweeps.Spec, t sweeps.Trial, out Out, known []sweeps.StageRun) (*sweeps.TrialResult, error) {
	keys := sweeps.StageKeys(spec, t)
	if out.Key != "" {
		res, err := r.storedResult(ctx, out.Key, keys.Analysis)
		if res != nil && !r.noTrain {
			// a result whose weights are gone is trained again (from the
			// checkpoint when one is stored: the same weights), so that the
			// report's plots and a re-analysis have them; reusing it left
			// them missing for ever
			if gone, gerr := MissingArtifacts(ctx, r.Store, spec, *res); gerr != nil {
				return nil, gerr
			} else if len(gone) > 0 {
				r.emit(Event{Stage: sweeps.StageAnalysis, Message: fmt.Sprintf("stored result %s names objects that are gone (%s): training the trial again to recreate them", out.Key, strings.Join(gone, ", "))})
				res = nil
			}
		}
		if err != nil || res != nil {
			if res != nil {
				res.Sweep = out.Sweep
				res.Combo, res.Hyper, res.HyperLabel = out.Combo.Index, out.Combo.Values, out.Combo.Label
				before := fmt.Sprint(res.Thresholds, res.Passed, res.FlowsPassed, res.FailedOn)
				res.Judge(spec.Verdict)
				markOpen(res, spec.Verdict.ClosureRel)
				r.emit(Event{Stage: sweeps.StageAnalysis, Message: "reusing stored result " + out.Key})
				// New verdict thresholds re-judge the stored trial: store what
				// is printed, so result.json never says the opposite.
				if fmt.Sprint(res.Thresholds, res.Passed, res.FlowsPassed, res.FailedOn) != before {
					if err := r.Store.Put(ctx, out.Key, jsonBytes(res)); err != nil {
						return nil, fmt.Errorf("store the re-judged result: %w", err)
					}
					r.emit(Event{Stage: sweeps.StageAnalysis, Message: "re-judged with the spec's verdict thresholds: " + out.Key})
				}
			}
			return res, err
		}
	}
	res := r.newResult(spec, t, out)
	o, train, eval, acc, mse, err := r.points(ctx, spec, t, func(s sweeps.StageRun) { res.Stages = append(res.Stages, s) })
	if errors.Is(err, models.ErrNonFinite) {
		return r.failedTrial(ctx, spec, res, keys, out, upstreamDiverged, err)
	}
	if err != nil {
		return nil, err
	}
	res.OracleAccuracy, res.AutoencoderMSE = acc, mse
	if spec.Dataset.Task == sweeps.TaskRegression {
		res.OracleAccuracy, res.OracleR2 = nil, acc
	}
	if spec.Dataset.Kind == "table" {
		res.Artifacts["data"] = spec.Dataset.Object
		res.Artifacts[sweeps.StageLatents] = sweeps.ArtifactKey(sweeps.StageLatents, keys.Latents, "latents.safetensors")
		res.Artifacts[sweeps.StageOracle] = sweeps.ArtifactKey(sweeps.StageOracle, keys.Oracle, "weights.safetensors")
		if spec.OracleNet.ONNX != "" {
			res.Artifacts[sweeps.StageOracle] = spec.OracleNet.ONNXObject
		}
	}
	if spec.Dataset.Images() {
		res.Artifacts[sweeps.StageAutoencoder] = sweeps.ArtifactKey(sweeps.StageAutoencoder, keys.Autoencoder, "weights.safetensors")
		res.Artifacts[sweeps.StageLatents] = sweeps.ArtifactKey(sweeps.StageLatents, keys.Latents, "latents.safetensors")
		res.Artifacts[sweeps.StageOracle] = sweeps.ArtifactKey(sweeps.StageOracle, keys.Oracle, "weights.safetensors")
		// φ is trained for reports (run, the sweep's PrepareLatent), not by
		// `liesweep train`: name it only when it is there.
		if ck := sweeps.ArtifactKey(sweeps.StageClassifier, keys.Classifier, "weights.safetensors"); r.exists(ctx, ck) {
			res.Artifacts[sweeps.StageClassifier] = ck
		}
	}
	set, joint, losses, gRun, err := r.Generators(ctx, spec, t, o, train)
	if what := TrialFailure(err); what != "" {
		return r.failedTrial(ctx, spec, res, keys, out, what, err)
	}
	if err != nil {
		return nil, err
	}
	res.Stages = append(res.Stages, gRun)
	res.EpochsRun = gRun.Epochs
	res.StoppedEarly = gRun.Epochs > 0 && gRun.Epochs < spec.Train.Epochs
	res.Artifacts[sweeps.StageGenerators] = sweeps.ArtifactKey(sweeps.StageGenerators, keys.Generators, "weights.safetensors")
	res.JointConstants = joint
	res.Losses = sweeps.Losses{Total: losses["total"], Inv: losses["inv"], Norm: losses["norm"], Ortho: losses["ortho"], Closure: losses["closure"]}

	start := time.Now()
	r.emit(Event{Stage: sweeps.StageAnalysis, Message: fmt.Sprintf("closure analysis on %d points", len(eval))})
	// The analysis does not watch ctx (at ℓ = 16, N_g = 64 it takes over a
	// minute): it runs aside so that Ctrl-C or a cancel returns at once.
	var (
		an           *models.Analysis
		sb           *sweeps.SparseBasis
		sbErr, rkErr error
		rank         int
	)
	err = interruptible(ctx, func() error {
		var err error
		if an, err = models.Analyze(o, set, eval, genConfig(spec, t), uint64(t.Seed)); err != nil {
			return err
		}
		sb, sbErr = set.Sparse(eval)
		rank, _, rkErr = models.OracleRank(o, eval, rankStep)
		return nil
	})
	if errors.Is(err, sweeps.ErrInvalidSpec) {
		// a shape the analysis cannot solve (N_g over the values a field
		// has on the evaluation points): the trial's outcome, not a fault
		return r.failedTrial(ctx, spec, res, keys, out, "the closure analysis cannot be solved", err)
	}
	if errors.Is(err, models.ErrNonFinite) {
		return r.failedTrial(ctx, spec, res, keys, out, "the generators' training diverged", err)
	}
	if err != nil {
		return nil, err
	}
	res.Metrics = an.Metrics
	res.PairResidual = an.PairResidual
	res.PairOrtho = an.PairOrtho
	if res.PairResidual == nil {
		res.PairResidual = []float64{}
	}
	res.StructureConstants = an.Structure
	res.MetricIntervals = an.Intervals
	res.Notes = append(res.Notes, an.Notes...)
	res.Algebra = an.Algebra
	res.Algebra.Structure = lie.Decompose(an.Structure, lie.StructureTol(res.Metrics.ClosureRel))
	if sbErr != nil {
		res.SparseBasisNote = sbErr.Error()
	} else {
		res.SparseBasis = sb
	}
	// the rank of ∂ψ, and for MLP generators the flows any oracle of that
	// rank allows (issue 20's trivial bound)
	if rkErr == nil {
		res.OracleRank = &rank
		if spec.Generator.Kind == "mlp" {
			trivial := t.Latent - rank
			res.TrivialFlows = &trivial
		}
	}
	res.Judge(spec.Verdict)
	markOpen(res, spec.Verdict.ClosureRel)
	res.Stages = append(res.Stages, stageRun(sweeps.StageAnalysis, keys.Analysis, start, false, 0))
	for i, st := range res.Stages {
		for _, k := range known {
			if k.Stage == st.Stage && k.Key == st.Key {
				res.Stages[i] = k
			}
		}
	}
	if out.Key != "" {
		res.Artifacts[sweeps.StageAnalysis] = out.Key
		if err := r.Store.Put(ctx, out.Key, jsonBytes(res)); err != nil {
			return nil, fmt.Errorf("store result: %w", err)
		}
	}
	return res, nil
}

// MissingArtifacts lists the objects a stored result names that the store
// no longer has and the trial recreates: the trained stages' weights and
// latents (not the uploaded data or ONNX ψ, which only the user has, nor
// φ, which the sweep's preparation trains, nor the result itself).
func MissingArtifacts(ctx context.Context, st sweeps.ArtifactStore, spec *sweeps.Spec, res sweeps.TrialResult) ([]string, error) {
	var gone []string
	for _, stage := range []string{sweeps.StageAutoencoder, sweeps.StageLatents, sweeps.StageOracle, sweeps.StageGenerators} {
		k := res.Artifacts[stage]
		if k == "" || (stage == sweeps.StageOracle && spec.OracleNet.ONNX != "") {
			continue
		}
		ok, err := st.Exists(ctx, k)
		if err != nil {
			return nil, fmt.Errorf("is %s stored? %w", k, err)
		}
		if !ok {
			gone = append(gone, k)
		}
	}
	return gone, nil
}

func (r *Runner) newResult(spec *sweeps.Spec, t sweeps.Trial, out Out) *sweeps.TrialResult {
	return &sweeps.TrialResult{SchemaVersion: sweeps.ResultSchemaVersion, Sweep: out.Sweep, Combo: out.Combo.Index, Hyper: out.Combo.Values, HyperLabel: out.Combo.Label, Dataset: sweeps.DatasetLabel(spec), NG: t.NG, LatentDim: t.Latent, Seed: t.Seed, Worker: r.Worker, Epochs: spec.Train.Epochs, Artifacts: map[string]string{}}
}

// TrialFailure says what a generator training error means when it is the
// trial's deterministic outcome rather than a fault: a loss that is not
// finite, or a condition of the trial's own data and ψ that the spec's
// validation cannot see (an imported ψ that is constant at the training
// points). "" for any other error.
func TrialFailure(err error) string {
	switch {
	case errors.Is(err, models.ErrNonFinite):
		return "the generators' training diverged"
	case errors.Is(err, sweeps.ErrInvalidSpec):
		return "the generators cannot be trained"
	}
	return ""
}

// FailTrial stores the result of a trial whose training failed
// deterministically (TrainGeneratorsStage's TrialFailedError), as
// RunTrial does: the sweep's training activity, which has no result to
// return, leaves it for the analysis activity to find.
func (r *Runner) FailTrial(ctx context.Context, spec *sweeps.Spec, t sweeps.Trial, out Out, cause *TrialFailedError) (*sweeps.TrialResult, error) {
	return r.failedTrial(ctx, spec, r.newResult(spec, t, out), sweeps.StageKeys(spec, t), out, cause.What, cause.Err)
}

// failedTrial completes res as a trial that failed deterministically (a
// loss that is not finite, an analysis that cannot be solved): every
// metric undefined (null in JSON), the reason as a note, judged (it fails
// every threshold) and stored like any result, so the rest of the grid is
// judged, the verdict counts it as failed, and a re-run reuses it instead
// of failing the same way again. A changed spec (a lower learning rate,
// more evaluation points) has other stage keys and trains anew.
func (r *Runner) failedTrial(ctx context.Context, spec *sweeps.Spec, res *sweeps.TrialResult, keys sweeps.Keys, out Out, what string, cause error) (*sweeps.TrialResult, error) {
	nan := math.NaN()
	res.Metrics = sweeps.Metrics{InvRatio: nan, OrthoCos2: nan, NormDev: nan, ClosureRel: nan}
	res.Losses = sweeps.Losses{Total: nan, Inv: nan, Norm: nan, Ortho: nan, Closure: nan}
	res.PairResidual = []float64{}
	res.Notes = append(res.Notes, fmt.Sprintf("%s, so the trial has no metrics and fails: %v", what, cause))
	res.Judge(spec.Verdict)
	res.Stages = append(res.Stages, stageRun(sweeps.StageAnalysis, keys.Analysis, time.Now(), false, 0))
	r.emit(Event{Stage: sweeps.StageAnalysis, Message: fmt.Sprintf("trial failed: %s: %v", what, cause)})
	if out.Key != "" {
		res.Artifacts[sweeps.StageAnalysis] = out.Key
		if err := r.Store.Put(ctx, out.Key, jsonBytes(res)); err != nil {
			return nil, fmt.Errorf("store result: %w", err)
		}
	}
	return res, nil
}

// Prepare runs (or reuses) the autoencoder, latents and oracle of the
// trial's (ℓ, seed) and the pixel classifier φ of its seed; analytic specs
// have none.
func (r *Runner) Prepare(ctx context.Context, spec *sweeps.Spec, t sweeps.Trial) ([]sweeps.StageRun, float64, error) {
	var runs []sweeps.StageRun
	if spec.Dataset.Kind == "analytic" {
		return nil, 0, nil
	}
	_, _, _, acc, _, err := r.points(ctx, spec, t, func(s sweeps.StageRun) { runs = append(runs, s) })
	if err != nil {
		return runs, 0, err
	}
	if spec.Dataset.Kind == "table" {
		return runs, *acc, nil
	}
	_, phiRun, _, err := r.PixelClassifier(ctx, spec, t)
	if err != nil {
		return runs, 0, err
	}
	return append(runs, phiRun), *acc, nil
}

// Out names where a trial's result goes: the sweep it belongs to and the
// store key of its result ("": returned only, not stored).
type Out struct {
	Sweep string
	Key   string
	// Combo is the trial's hyperparameter combination (zero without axes).
	Combo sweeps.Combo
}

// storedResult returns the result stored under key when the same analysis
// (analysisKey) produced it, nil when there is none or it is from another
// configuration (it is then recomputed and replaced).
func (r *Runner) storedResult(ctx context.Context, key, analysisKey string) (*sweeps.TrialResult, error) {
	b, err := r.getOptional(ctx, key)
	if err != nil || b == nil {
		return nil, err
	}
	var res sweeps.TrialResult
	if err := json.Unmarshal(b, &res); err != nil {
		return nil, fmt.Errorf("load result %s: %w: %v (delete it to have it recomputed)", key, sweeps.ErrCorrupt, err)
	}
	for _, st := range res.Stages {
		if st.Stage == sweeps.StageAnalysis && st.Key == analysisKey {
			for i := range res.Stages {
				res.Stages[i].Reused, res.Stages[i].Seconds = true, 0
			}
			return &res, nil
		}
	}
	return nil, nil
}

// TrainGeneratorsStage trains (or reuses) the generators of one trial; the
// upstream stages are reused from the store (or run when missing).
func (r *Runner) TrainGeneratorsStage(ctx context.Context, spec *sweeps.Spec, t sweeps.Trial) (sweeps.StageRun, error) {
	o, train, _, _, _, err := r.points(ctx, spec, t, func(sweeps.StageRun) {})
	if errors.Is(err, models.ErrNonFinite) {
		return sweeps.StageRun{}, &TrialFailedError{What: upstreamDiverged, Err: err}
	}
	if err != nil {
		return sweeps.StageRun{}, err
	}
	_, _, _, run, err := r.Generators(ctx, spec, t, o, train)
	if what := TrialFailure(err); what != "" {
		err = &TrialFailedError{What: what, Err: err}
	}
	return run, err
}

// upstreamDiverged names the failure of a trial whose autoencoder or ψ
// training diverged (its error names the stage and epoch).
const upstreamDiverged = "a training before the generators (the autoencoder or ψ) diverged"

// TrialFailedError is TrainGeneratorsStage's error when the training
// failed as the trial's outcome (What), not by a fault: the caller records
// it with FailTrial.
type TrialFailedError struct {
	What string
	Err  error
}

func (e *TrialFailedError) Error() string { return e.Err.Error() }
func (e *TrialFailedError) Unwrap() error { return e.Err }

// imageShape is the shape of the spec's images: MNIST's, or the one
// staging recorded for an image set (dataset.image_shape, C×H×W).
func imageShape(spec *sweeps.Spec) datasets.ImageShape {
	if sh := spec.Dataset.ImageShape; len(sh) == 3 {
		return datasets.ImageShape{C: sh[0], H: sh[1], W: sh[2]}
	}
	return datasets.MNISTShape
}

// imageShapeNote describes the conv networks' input in a weights file's
// layout note: MNIST's words as before, other shapes with their padding.
func imageShapeNote(s datasets.ImageShape) string {
	if s == datasets.MNISTShape {
		return "28×28 pixels in [0,1]"
	}
	return fmt.Sprintf("%d×%d×%d (C×H×W) pixels in [0,1], zero-padded at the bottom and right to sides that are multiples of 4", s.C, s.H, s.W)
}

// rankStep is the central-difference step of models.OracleRank in
// standardised latent units: large enough for a float32 ψ's rounding,
// small against the curvature of its level sets.
const rankStep = 1e-3

// openPrefix begins the algebra's words of a trial whose generators do not
// close under the verdict's closure_rel threshold.
const openPrefix = "The generators do not close (closure_rel "

// markOpen makes the algebra's words say whether the generators close
// under the closure_rel threshold limit: a prefix written by an earlier
// judgement (another threshold) is replaced, so a re-judged result never
// says "do not close" beside passed: true.
func markOpen(res *sweeps.TrialResult, limit float64) {
	if strings.HasPrefix(res.Algebra.Words, openPrefix) {
		if _, rest, ok := strings.Cut(res.Algebra.Words, "not of an algebra. "); ok {
			res.Algebra.Words = rest
		}
	}
	if !res.Passed && res.Metrics.ClosureRel > limit {
		res.Algebra.Words = fmt.Sprintf(openPrefix+"%.3g > %.3g): this is the structure of their least-squares constants, not of an algebra. ", res.Metrics.ClosureRel, limit) + res.Algebra.Words
	}
}
