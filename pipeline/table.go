package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/liesweep/liesweep/datasets"
	"github.com/liesweep/liesweep/models"
	"github.com/liesweep/liesweep/models/onnx"
	"github.com/liesweep/liesweep/sweeps"
	"gorgonia.org/tensor"
)

// MinSplitRows is the fewest rows a table's training or validation split
// may hold: ψ's accuracy, the metrics and the structure constants are
// measured on the validation rows (train.eval_points is at least 10).
const MinSplitRows = 10

// TableObjectKey is the store key of a table's bytes: data/<sha256>/<file
// name>. The name keeps the extension, which says the format; a character
// a store key cannot hold (a space, ψ) becomes '_' (such a file passed
// validate, then failed every command with a store-key error).
func TableObjectKey(digest, name string) string {
	base := strings.Map(func(c rune) rune {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' {
			return c
		}
		return '_'
	}, path.Base(name))
	if strings.Trim(base, ".") == "" {
		base = "data" + base
	}
	return "data/" + digest + "/" + base
}

// tableOptions are the reader options of the spec's table.
func tableOptions(d sweeps.Dataset) datasets.TableOptions {
	return datasets.TableOptions{Features: d.Features, Target: d.Target, XArray: d.XArray, Task: d.Task}
}

// CheckTable reads the whole table from data (the bytes of the file name)
// and checks every combination's columns, labels and split against it,
// before anything trains. It fills latent_dims with the number of features
// when the spec lists none and sets dataset.digest to the bytes' SHA-256.
// Bad data returns a *datasets.DataError naming the file, row and column.
func CheckTable(spec *sweeps.Spec, name string, data []byte) (*datasets.Table, error) {
	combos, err := spec.Combos()
	if err != nil {
		return nil, err
	}
	// dataset.* cannot be swept (sweeps.AxisSections): one read serves
	// every combination
	first, err := datasets.ReadTable(name, data, tableOptions(spec.Dataset))
	if err != nil {
		return nil, err
	}
	for _, c := range combos {
		if len(c.Spec.LatentDims) > 0 {
			if err := checkTableSpec(&c.Spec, first, name); err != nil {
				return nil, err
			}
		}
	}
	if len(spec.LatentDims) == 0 {
		spec.LatentDims = []int{first.D}
	}
	if err := checkTableSpec(spec, first, name); err != nil {
		return nil, err
	}
	spec.Dataset.Digest = sweeps.Digest(data)
	spec.Dataset.Columns = first.D
	return first, nil
}

// StageTable checks the spec's table (CheckTable), then puts its bytes into
// the store under their SHA-256 (once: an object already there is not
// written again) and sets dataset.object, so every worker reads these
// bytes and every stage key changes with them. Nothing is written when the
// data is bad.
func StageTable(ctx context.Context, store sweeps.ArtifactStore, spec *sweeps.Spec, name string, data []byte) (*datasets.Table, error) {
	tb, err := CheckTable(spec, name, data)
	if err != nil {
		return nil, err
	}
	return tb, PutInput(ctx, store, &spec.Dataset.Object, spec.Dataset.Digest, name, data)
}

// PutInput puts a checked input file (a table, an ONNX model) into the store
// under data/<digest>/<name>, unless it is there already, and sets *object
// to its key.
func PutInput(ctx context.Context, store sweeps.ArtifactStore, object *string, digest, name string, data []byte) error {
	key := TableObjectKey(digest, name)
	ok, err := store.Exists(ctx, key)
	if err != nil {
		return fmt.Errorf("look for %s in the store: %w", path.Base(name), err)
	}
	if !ok {
		if err := store.Put(ctx, key, data); err != nil {
			return fmt.Errorf("put %s into the store: %w", path.Base(name), err)
		}
	}
	*object = key
	return nil
}

// checkTableSpec checks a spec against its table: each latent dimension is
// the number of features (the flows act on the standardised features), and
// every seed's split leaves MinSplitRows rows on each side.
func checkTableSpec(spec *sweeps.Spec, tb *datasets.Table, name string) error {
	for _, l := range spec.LatentDims {
		if l > tb.D {
			return &sweeps.FieldError{Field: "latent_dims", Msg: fmt.Sprintf("%s has %d features, so ℓ must be at most %d: ℓ = %d flows on the standardised features, a smaller ℓ on the latents of an MLP autoencoder; got %d", name, tb.D, tb.D, tb.D, l)}
		}
		if l < tb.D && spec.OracleNet.ONNX != "" {
			return &sweeps.FieldError{Field: "latent_dims", Msg: fmt.Sprintf("an imported ψ (oracle_net.onnx) takes the table's %d features, so ℓ must be %d, got %d", tb.D, tb.D, l)}
		}
	}
	for _, seed := range spec.Seeds {
		if _, _, err := tb.Split(uint64(seed), spec.Dataset.ValFraction, MinSplitRows); err != nil {
			return err
		}
	}
	for _, c := range []struct {
		field string
		v     int
	}{{"dataset.max_train", spec.Dataset.MaxTrain}, {"dataset.max_val", spec.Dataset.MaxVal}} {
		if c.v > 0 && c.v < MinSplitRows {
			return &sweeps.FieldError{Field: c.field, Msg: fmt.Sprintf("caps the split at %d rows, fewer than the %d ψ and the metrics need (0 = all)", c.v, MinSplitRows)}
		}
	}
	return nil
}

// loadTable reads the spec's table from the store and checks its bytes
// against the digest the sweep recorded, once per runner for the same
// data and columns (the trials of every ℓ and seed share it; a Table is
// only read after ReadTable).
func (r *Runner) loadTable(ctx context.Context, spec *sweeps.Spec) (*datasets.Table, error) {
	d := spec.Dataset
	if d.Object == "" || d.Digest == "" {
		return nil, fmt.Errorf("%w: the table %q was not staged: run it with liesweep run or sweep start, which put the file into the store", sweeps.ErrInvalidSpec, d.Path)
	}
	opt, err := json.Marshal(tableOptions(d))
	if err != nil {
		return nil, err
	}
	return cachedLoad(ctx, r, "table/"+d.Digest+"/"+string(opt), func(ctx context.Context) (*datasets.Table, error) { return r.downloadTable(ctx, d) })
}

// downloadTable reads and decodes a staged table.
func (r *Runner) downloadTable(ctx context.Context, d sweeps.Dataset) (*datasets.Table, error) {
	b, err := r.Store.Get(ctx, d.Object)
	if errors.Is(err, sweeps.ErrNotFound) {
		return nil, fmt.Errorf("%w: the table's bytes are not in the store at %s (the sweep put them there when it started: was the bucket changed? start the sweep again)", sweeps.ErrInvalidSpec, d.Object)
	}
	if err != nil {
		return nil, fmt.Errorf("read table %s: %w", d.Object, err)
	}
	if got := sweeps.Digest(b); got != d.Digest {
		return nil, fmt.Errorf("read table %s: %w: SHA-256 %s, the sweep recorded %s", d.Object, sweeps.ErrCorrupt, got, d.Digest)
	}
	return datasets.ReadTable(d.Object, b, tableOptions(d))
}

// tableLatents returns the standardised split of a table for (ℓ, seed):
// the rows of the seeded split, each feature shifted and scaled by its mean
// and standard deviation over the training rows (stored with the stage),
// and the targets: class indices, or for a regression the values
// standardised the same way.
func (r *Runner) tableLatents(ctx context.Context, spec *sweeps.Spec, t sweeps.Trial) (*latentSet, []sweeps.StageRun, error) {
	start := time.Now()
	k := sweeps.StageKeys(spec, t).Latents
	key := sweeps.ArtifactKey(sweeps.StageLatents, k, "latents.safetensors")
	if b, err := r.getOptional(ctx, key); err != nil {
		return nil, nil, err
	} else if b != nil {
		ls, err := decodeTableLatents(b)
		if err != nil {
			return nil, nil, fmt.Errorf("load table latents %s: %w", key, err)
		}
		return ls, []sweeps.StageRun{stageRun(sweeps.StageLatents, k, start, true, 0)}, nil
	}
	if r.noTrain {
		return nil, nil, missing(sweeps.StageLatents, key)
	}
	tb, err := r.loadTable(ctx, spec)
	if err != nil {
		return nil, nil, err
	}
	if err := checkTableSpec(spec, tb, spec.Dataset.Object); err != nil {
		return nil, nil, err
	}
	trainRows, valRows, err := tb.Split(uint64(t.Seed), spec.Dataset.ValFraction, MinSplitRows)
	if err != nil {
		return nil, nil, err
	}
	if m := spec.Dataset.MaxTrain; m > 0 && len(trainRows) > m {
		trainRows = trainRows[:m]
	}
	if m := spec.Dataset.MaxVal; m > 0 && len(valRows) > m {
		valRows = valRows[:m]
	}
	mean, std := tb.Stats(trainRows)
	ls := &latentSet{Train: tb.Rows(trainRows, mean, std), Val: tb.Rows(valRows, mean, std), Classes: tb.Classes, Labels: tb.Labels, FeatureMean: mean, FeatureStd: std}
	var aeRuns []sweeps.StageRun
	aeMeta := map[string]string{}
	if t.Latent < tb.D {
		run, mse, err := r.tableAutoencoder(ctx, spec, t, ls)
		if err != nil {
			return nil, nil, err
		}
		aeRuns = append(aeRuns, run)
		aeMeta["ae_val_mse"] = strconv.FormatFloat(mse, 'g', -1, 64)
		aeMeta["latent_mean"], aeMeta["latent_std"] = jsonString(ls.LatentMean), jsonString(ls.LatentStd)
	}
	meta := map[string]string{
		"stage": sweeps.StageLatents, "standardised": "true", "task": spec.Dataset.Task,
		"feature_mean": jsonString(mean), "feature_std": jsonString(std), "features": jsonString(tb.Features), "target": tb.Target,
		"classes": strconv.Itoa(tb.Classes), "layout": "rows of standardised features z = (x - feature_mean)/feature_std (with an autoencoder: its latents of them, standardised by latent_mean/latent_std); targets: class indices (labels: the original label of each index) or standardised values t = (y - target_mean)/target_std",
	}
	for k, v := range aeMeta {
		meta[k] = v
	}
	tensors := map[string]*tensor.Dense{"train_z": models.RowsTensor(ls.Train), "val_z": models.RowsTensor(ls.Val)}
	if spec.Dataset.Task == sweeps.TaskRegression {
		var tm, ts float64
		ls.TrainT, tm, ts = standardTargets(tb.Y, trainRows)
		ls.TargetMean, ls.TargetStd = tm, ts
		ls.ValT = make([]float64, len(valRows))
		for i, row := range valRows {
			ls.ValT[i] = (tb.Y[row] - tm) / ts
		}
		meta["target_mean"], meta["target_std"] = strconv.FormatFloat(tm, 'g', -1, 64), strconv.FormatFloat(ts, 'g', -1, 64)
		tensors["train_t"], tensors["val_t"] = models.RowsTensor(column(ls.TrainT)), models.RowsTensor(column(ls.ValT))
	} else {
		ls.TrainY, ls.ValY = classIndices(tb.Y, trainRows), classIndices(tb.Y, valRows)
		meta["labels"] = jsonString(tb.Labels)
		tensors["train_y"], tensors["val_y"] = models.IntsTensor(ls.TrainY), models.IntsTensor(ls.ValY)
	}
	r.emit(Event{Stage: sweeps.StageLatents, Message: fmt.Sprintf("table: %d features, %d training and %d validation rows, standardised", tb.D, len(trainRows), len(valRows))})
	if err := r.putTensors(ctx, key, "table latents", tensors, meta); err != nil {
		return nil, nil, err
	}
	return ls, append(aeRuns, stageRun(sweeps.StageLatents, k, start, false, 0)), nil
}

// tableAutoencoder trains (or reuses) the MLP autoencoder of a table whose
// ℓ is below its features and replaces ls's rows by their latents,
// standardised over the training rows. It returns the stage's run and the
// autoencoder's validation MSE per value.
func (r *Runner) tableAutoencoder(ctx context.Context, spec *sweeps.Spec, t sweeps.Trial, ls *latentSet) (sweeps.StageRun, float64, error) {
	start := time.Now()
	k := sweeps.StageKeys(spec, t).Autoencoder
	key := sweeps.ArtifactKey(sweeps.StageAutoencoder, k, "weights.safetensors")
	d := len(ls.Train[0])
	var ae *models.TableAE
	var mse float64
	reused := false
	resumed := 0
	if b, err := r.getOptional(ctx, key); err != nil {
		return sweeps.StageRun{}, 0, err
	} else if b != nil {
		ae = models.NewTableAE(uint64(t.Seed), d, t.Latent)
		meta, err := models.LoadParams(b, "", ae.Net.Params)
		if err != nil {
			return sweeps.StageRun{}, 0, fmt.Errorf("load table autoencoder %s: %w", key, err)
		}
		mse, _ = strconv.ParseFloat(meta["val_mse"], 64)
		reused = true
	} else {
		cfg := models.OracleConfig{Epochs: spec.Autoencoder.Epochs, LR: spec.Autoencoder.LR, Batch: spec.Autoencoder.Batch, Seed: uint64(t.Seed)}
		var hist []map[string]float64
		var err error
		resumed, err = r.trainStage(ctx, sweeps.StageAutoencoder, k, models.TableAEParams(uint64(t.Seed), d, t.Latent), 50, func(h models.Hooks) error {
			var err error
			ae, mse, hist, err = models.TrainTableAE(ctx, cfg, ls.Train, ls.Val, t.Latent, h)
			return err
		})
		if err != nil {
			return sweeps.StageRun{}, 0, fmt.Errorf("train table autoencoder: %w", err)
		}
		if err := r.putTensors(ctx, key, "table autoencoder", models.ParamsTensors("", ae.Net.Params), map[string]string{
			"stage": sweeps.StageAutoencoder, "latent": strconv.Itoa(t.Latent), "val_mse": strconv.FormatFloat(mse, 'g', -1, 64), "history": models.EncodeHistory(hist),
			"layout": "one MLP d → 64 → ℓ → 64 → d, tanh between layers (the bottleneck included), dense weights (in,out), biases (1,out); encoder: layers 0 and 1 with tanh; input: standardised features",
		}); err != nil {
			return sweeps.StageRun{}, 0, err
		}
	}
	r.emit(Event{Stage: sweeps.StageAutoencoder, Message: fmt.Sprintf("table autoencoder %d → %d: validation MSE %.4g per standardised value", d, t.Latent, mse)})
	ls.Train, ls.Val = ae.Encode(ls.Train), ae.Encode(ls.Val)
	ls.LatentMean, ls.LatentStd = columnStats(ls.Train)
	for _, rows := range [][][]float64{ls.Train, ls.Val} {
		for _, z := range rows {
			for j := range z {
				z[j] = (z[j] - ls.LatentMean[j]) / ls.LatentStd[j]
			}
		}
	}
	return stageRun(sweeps.StageAutoencoder, k, start, reused, resumed), mse, nil
}

// columnStats returns the mean and standard deviation of each column
// (1 for a constant one).
func columnStats(rows [][]float64) (mean, std []float64) {
	d := len(rows[0])
	mean, std = make([]float64, d), make([]float64, d)
	for _, r := range rows {
		for j, v := range r {
			mean[j] += v
		}
	}
	for j := range mean {
		mean[j] /= float64(len(rows))
	}
	for _, r := range rows {
		for j, v := range r {
			std[j] += (v - mean[j]) * (v - mean[j])
		}
	}
	for j := range std {
		if std[j] = math.Sqrt(std[j] / float64(len(rows))); std[j] == 0 {
			std[j] = 1
		}
	}
	return mean, std
}

// decodeTableLatents restores a table's stored split.
func decodeTableLatents(b []byte) (*latentSet, error) {
	ts, meta, err := models.ReadSafetensors(bytesReader(b))
	if err != nil {
		return nil, err
	}
	need := []string{"train_z", "val_z", "train_y", "val_y"}
	if meta["task"] == sweeps.TaskRegression {
		need = []string{"train_z", "val_z", "train_t", "val_t"}
	}
	for _, n := range need {
		if ts[n] == nil {
			return nil, fmt.Errorf("%w: no tensor %s", sweeps.ErrCorrupt, n)
		}
	}
	ls := &latentSet{Train: models.TensorRows(ts["train_z"]), Val: models.TensorRows(ts["val_z"])}
	if json.Unmarshal([]byte(meta["feature_mean"]), &ls.FeatureMean) != nil || json.Unmarshal([]byte(meta["feature_std"]), &ls.FeatureStd) != nil {
		return nil, fmt.Errorf("%w: feature_mean/feature_std", sweeps.ErrCorrupt)
	}
	if meta["task"] == sweeps.TaskRegression {
		ls.TrainT, ls.ValT = flat(models.TensorRows(ts["train_t"])), flat(models.TensorRows(ts["val_t"]))
		var e1, e2 error
		ls.TargetMean, e1 = strconv.ParseFloat(meta["target_mean"], 64)
		ls.TargetStd, e2 = strconv.ParseFloat(meta["target_std"], 64)
		if e1 != nil || e2 != nil {
			return nil, fmt.Errorf("%w: target_mean/target_std", sweeps.ErrCorrupt)
		}
		return ls, nil
	}
	ls.TrainY, ls.ValY = models.TensorInts(ts["train_y"]), models.TensorInts(ts["val_y"])
	if ls.Classes, err = strconv.Atoi(meta["classes"]); err != nil || ls.Classes < 2 {
		return nil, fmt.Errorf("%w: classes %q", sweeps.ErrCorrupt, meta["classes"])
	}
	// the original labels name the classes in figures; a stage without
	// them (or unreadable ones) names them by index
	if json.Unmarshal([]byte(meta["labels"]), &ls.Labels) != nil || len(ls.Labels) != ls.Classes {
		ls.Labels = nil
	}
	return ls, nil
}

// tableArch is ψ's architecture for a table: the spec's hidden layers and
// activation, one output per class (one logit for two) or one value.
func tableArch(spec *sweeps.Spec, classes int) models.OracleArch {
	out := 1
	if spec.Dataset.Task != sweeps.TaskRegression {
		out = models.ClassifierOutputs(classes)
	}
	return models.OracleArch{Hidden: spec.OracleNet.Hidden, Activation: spec.OracleNet.Activation, Outputs: out}
}

// tableOracle trains (or reuses) ψ on a table's standardised split; quality
// is its validation accuracy (classification) or R² (regression).
func (r *Runner) tableOracle(ctx context.Context, spec *sweeps.Spec, t sweeps.Trial, ls *latentSet) (o models.Oracle, run sweeps.StageRun, quality float64, err error) {
	if spec.OracleNet.ONNX != "" {
		return r.importedOracle(ctx, spec, t, ls)
	}
	start := time.Now()
	w := stageWeights(sweeps.StageOracle, sweeps.StageKeys(spec, t).Oracle, "oracle")
	regression := spec.Dataset.Task == sweeps.TaskRegression
	arch := tableArch(spec, ls.Classes)
	if o, run, q, found, err := storedWeights(ctx, r, w, qualityKey(regression), start, func(b []byte) (models.Oracle, map[string]string, error) {
		o := models.NewOracle(uint64(t.Seed), t.Latent, arch, spec.OracleNet.Preserve)
		meta, err := models.LoadParams(b, "", o.Net.Params)
		return o, meta, err
	}); err != nil || found {
		return o, run, q, err
	}
	cfg := models.OracleConfig{Classes: ls.Classes, Epochs: spec.OracleNet.Epochs, LR: spec.OracleNet.LR, Batch: spec.OracleNet.Batch, Seed: uint64(t.Seed), Preserve: spec.OracleNet.Preserve, Arch: arch}
	var res *models.OracleResult
	resumed, err := r.trainStage(ctx, w.stage, w.k, models.OracleTrainParams(uint64(t.Seed), t.Latent, arch), 50, func(h models.Hooks) error {
		var err error
		if regression {
			res, err = models.TrainRegressionOracle(ctx, cfg, ls.Train, ls.Val, ls.TrainT, ls.ValT, h)
		} else {
			res, err = models.TrainOracle(ctx, cfg, ls.Train, ls.Val, ls.TrainY, ls.ValY, h)
		}
		return err
	})
	if err != nil {
		return nil, sweeps.StageRun{}, 0, fmt.Errorf("train oracle: %w", err)
	}
	quality = res.ValAccuracy
	if regression {
		quality = res.ValR2
	}
	r.emit(Event{Stage: sweeps.StageOracle, Message: fmt.Sprintf("ψ: validation %s %.4f", qualityName(regression), quality)})
	if err := r.putWeights(ctx, w, res.Oracle.Net.Params, map[string]string{
		"stage": sweeps.StageOracle, "task": spec.Dataset.Task, "classes": strconv.Itoa(ls.Classes), "preserve": spec.OracleNet.Preserve,
		"hidden": jsonString(arch.Hidden), "activation": arch.Activation, "outputs": strconv.Itoa(arch.Outputs),
		qualityKey(regression): strconv.FormatFloat(quality, 'g', -1, 64), "history": models.EncodeHistory(res.Losses),
		"layout": "dense weights (in,out), biases (1,out); " + arch.Activation + " between layers; input: standardised features",
	}); err != nil {
		return nil, sweeps.StageRun{}, 0, err
	}
	return res.Oracle, stageRun(w.stage, w.k, start, false, resumed), quality, nil
}

func qualityKey(regression bool) string {
	if regression {
		return "val_r2"
	}
	return "val_accuracy"
}

func qualityName(regression bool) string {
	if regression {
		return "R²"
	}
	return "accuracy"
}

// standardTargets returns the targets of rows standardised by their own
// mean and standard deviation (1 when they are constant), with both.
func standardTargets(y []float64, rows []int) (out []float64, mean, std float64) {
	for _, r := range rows {
		mean += y[r]
	}
	mean /= float64(len(rows))
	for _, r := range rows {
		std += (y[r] - mean) * (y[r] - mean)
	}
	std = math.Sqrt(std / float64(len(rows)))
	if std == 0 {
		std = 1
	}
	out = make([]float64, len(rows))
	for i, r := range rows {
		out[i] = (y[r] - mean) / std
	}
	return out, mean, std
}

func classIndices(y []float64, rows []int) []int {
	out := make([]int, len(rows))
	for i, r := range rows {
		out[i] = int(y[r])
	}
	return out
}

func column(v []float64) [][]float64 {
	out := make([][]float64, len(v))
	for i, x := range v {
		out[i] = []float64{x}
	}
	return out
}

func flat(rows [][]float64) []float64 {
	out := make([]float64, 0, len(rows))
	for _, r := range rows {
		out = append(out, r...)
	}
	return out
}

func jsonString(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// CheckONNX imports an ONNX ψ (onnx.Import) and checks it against
// the table: it takes the table's d features and gives one output per class
// (one logit for two) or, for a regression, one output. It sets
// oracle_net.onnx_digest.
func CheckONNX(spec *sweeps.Spec, tb *datasets.Table, name string, data []byte) (*onnx.Oracle, error) {
	o, err := onnx.Import(data)
	if err != nil {
		return nil, fmt.Errorf("oracle_net.onnx %s: %w", name, err)
	}
	if o.InDim() != tb.D {
		return nil, &sweeps.FieldError{Field: "oracle_net.onnx", Msg: fmt.Sprintf("%s takes %d inputs, the table has %d features (%v): the network must take the table's features in the order of dataset.features", name, o.InDim(), tb.D, tb.Features)}
	}
	want := 1
	if spec.Dataset.Task == sweeps.TaskClassification {
		want = models.ClassifierOutputs(tb.Classes)
		if tb.Classes > 2 && o.OutDim() != tb.Classes {
			return nil, &sweeps.FieldError{Field: "oracle_net.onnx", Msg: fmt.Sprintf("%s has %d outputs; a classifier of the table's %d classes needs one logit per class", name, o.OutDim(), tb.Classes)}
		}
	}
	if tb.Classes == 2 && o.OutDim() == 2 {
		want = 2 // two logits for two classes: softmax over them
	}
	if o.OutDim() != want {
		return nil, &sweeps.FieldError{Field: "oracle_net.onnx", Msg: fmt.Sprintf("%s has %d outputs; a %s ψ of this table needs %d", name, o.OutDim(), spec.Dataset.Task, want)}
	}
	spec.OracleNet.ONNXDigest = sweeps.Digest(data)
	return o, nil
}

// importedOracle loads the user's ψ (oracle_net.onnx) from the store and
// sees it from the standardised features: ψ(z ⊙ std + mean). quality is
// its accuracy, or its R² on the raw targets, on the validation rows.
func (r *Runner) importedOracle(ctx context.Context, spec *sweeps.Spec, t sweeps.Trial, ls *latentSet) (models.Oracle, sweeps.StageRun, float64, error) {
	start := time.Now()
	on := spec.OracleNet
	if on.ONNXObject == "" || on.ONNXDigest == "" {
		return nil, sweeps.StageRun{}, 0, fmt.Errorf("%w: oracle_net.onnx %q was not staged: run it with liesweep run or sweep start, which put the file into the store", sweeps.ErrInvalidSpec, on.ONNX)
	}
	b, err := r.Store.Get(ctx, on.ONNXObject)
	if errors.Is(err, sweeps.ErrNotFound) {
		return nil, sweeps.StageRun{}, 0, fmt.Errorf("%w: the imported ψ is not in the store at %s (start the sweep again)", sweeps.ErrInvalidSpec, on.ONNXObject)
	}
	if err != nil {
		return nil, sweeps.StageRun{}, 0, fmt.Errorf("read oracle_net.onnx %s: %w", on.ONNXObject, err)
	}
	if got := sweeps.Digest(b); got != on.ONNXDigest {
		return nil, sweeps.StageRun{}, 0, fmt.Errorf("read oracle_net.onnx %s: %w: SHA-256 %s, the sweep recorded %s", on.ONNXObject, sweeps.ErrCorrupt, got, on.ONNXDigest)
	}
	inner, err := onnx.Import(b)
	if err != nil {
		return nil, sweeps.StageRun{}, 0, err
	}
	o := &models.Rescaled{Inner: inner, Shift: ls.FeatureMean, Scale: ls.FeatureStd, Preserve: on.Preserve}
	q, err := importedQuality(o, spec, ls)
	if err != nil {
		return nil, sweeps.StageRun{}, 0, err
	}
	k := sweeps.StageKeys(spec, t).Oracle
	r.emit(Event{Stage: sweeps.StageOracle, Message: fmt.Sprintf("imported ψ %s: validation %s %.4f", path.Base(on.ONNX), qualityName(spec.Dataset.Task == sweeps.TaskRegression), q)})
	return o, sweeps.StageRun{Stage: sweeps.StageOracle, Key: k, Seconds: time.Since(start).Seconds(), Reused: true}, q, nil
}

// importedQuality is an imported ψ's validation accuracy (the class of the
// largest logit, or of the sign of a single one) or R² on the raw targets.
func importedQuality(o *models.Rescaled, spec *sweeps.Spec, ls *latentSet) (float64, error) {
	raw := *o
	raw.Preserve = models.PreserveLogits
	out, err := models.EvalOracle(&raw, ls.Val)
	if err != nil {
		return 0, err
	}
	if len(out) == 0 {
		return 0, nil
	}
	if spec.Dataset.Task == sweeps.TaskRegression {
		var mean, sse, sst float64
		for _, t := range ls.ValT {
			mean += t*ls.TargetStd + ls.TargetMean
		}
		mean /= float64(len(ls.ValT))
		for i, t := range ls.ValT {
			y := t*ls.TargetStd + ls.TargetMean
			sse += (out[i][0] - y) * (out[i][0] - y)
			sst += (y - mean) * (y - mean)
		}
		if sst == 0 {
			return 0, nil // constant targets (see models.R2)
		}
		return 1 - sse/sst, nil
	}
	right := 0
	for i, row := range out {
		c := models.Argmax(row)
		if len(row) == 1 && row[0] > 0 {
			c = 1
		}
		if c == ls.ValY[i] {
			right++
		}
	}
	return float64(right) / float64(len(out)), nil
}
