package sweeps

import (
	"fmt"
	"path"
	"strconv"
	"strings"
)

// Stage names, also the first segment of artifact keys.
const (
	StageAutoencoder = "autoencoder"
	StageLatents     = "latents"
	StageOracle      = "oracle"
	StageGenerators  = "generators"
	StageAnalysis    = "analysis"
	// StageClassifier trains φ, the pixel-space judge of decoded frames; it
	// depends on the dataset, seed and classifier settings only, so every ℓ
	// of a seed shares it.
	StageClassifier = "classifier"
)

// Trial names one point of the grid.
type Trial struct {
	Latent int
	NG     int
	Seed   int
	// Combo is the index of the hyperparameter combination (Spec.Combos);
	// 0 for a spec without axes.
	Combo int `json:",omitempty"`
}

// Keys are the content addresses of each stage of a trial.
type Keys struct {
	Autoencoder, Latents, Oracle, Generators, Analysis string
	// Classifier is φ's key (MNIST only).
	Classifier string
}

// The stage key documents. Each holds its format version, the keys of its
// upstream stages and its whole config struct, so a field added to a config
// changes the key without anyone listing it here (TestStageKeysCoverConfig).

type classifierKey struct {
	Format   string
	Classes  []int
	MaxTrain int
	MaxVal   int
	Seed     int
	Train    StageTrain
}

type aeKey struct {
	Format   string
	Classes  []int
	MaxTrain int
	MaxVal   int
	Latent   int
	Seed     int
	Train    StageTrain
}

// tableKey is the latents stage of a table: the data (its SHA-256, not
// where it lies), which columns, the task, the seeded split and the caps.
// Its artifact holds the standardised split and the statistics.
type tableKey struct {
	Format      string
	Digest      string
	Features    []string
	Target      string
	XArray      string
	Task        string
	ValFraction float64
	MaxTrain    int
	MaxVal      int
	Latent      int
	Seed        int
}

// imagesKey wraps an image stage's key with the SHA-256 of the IDX set.
type imagesKey struct {
	Format string
	Digest string
	Stage  any
}

// tableAEKey is a table's MLP autoencoder: the split it trains on (the
// table stage's key) and its training settings.
type tableAEKey struct {
	Format string
	Table  string
	Train  StageTrain
}

type latentsKey struct {
	Format string
	AE     string
}

type oracleKey struct {
	Format  string
	Latents string
	Train   OracleTrain
}

type genKey struct {
	Format    string
	Upstream  string
	Analytic  *Dataset `json:",omitempty"`
	NG        int
	Seed      int
	Generator Generator
	Train     Train
}

type analysisKey struct {
	Format     string
	Generators string
	EvalPoints int
}

// GeneratorInputs is the part of Train the generator stage depends on:
// everything but the analysis' EvalPoints and the checkpoint interval
// (which changes when a checkpoint is written, not what is trained). A new
// field is an input unless it is cleared here.
func (t Train) GeneratorInputs() Train {
	t.EvalPoints = 0
	t.CheckpointEvery = 0
	if t.InvLoss == "raw" {
		t.InvLoss = "" // the default, as stage keys before inv_loss had it
	}
	if !t.EarlyStop {
		// The rule's settings do nothing when it is off.
		t.EarlyStopWindow, t.EarlyStopTol = 0, 0
	}
	return t
}

// StageKeys returns the content addresses of the trial's stages.
func StageKeys(spec *Spec, t Trial) Keys {
	var k Keys
	upstream := ""
	var analytic *Dataset
	if spec.Dataset.Images() {
		d := spec.Dataset
		// MNIST's keys name no data (the files are fixed by their
		// digests); another IDX set's keys hold its SHA-256.
		data := func(v any) any {
			if d.Kind == "images" {
				return imagesKey{"images-v1", d.Digest, v}
			}
			return v
		}
		k.Autoencoder = StageKey(data(aeKey{"ae-v2", d.Classes, d.MaxTrain, d.MaxVal, t.Latent, t.Seed, spec.Autoencoder}))
		k.Latents = StageKey(latentsKey{"latents-v1", k.Autoencoder})
		k.Oracle = StageKey(oracleKey{"oracle-v2", k.Latents, spec.OracleNet})
		upstream = k.Oracle
		k.Classifier = StageKey(data(classifierKey{"phi-v1", d.Classes, d.MaxTrain, d.MaxVal, t.Seed, spec.Classifier}))
	} else if spec.Dataset.Kind == "table" {
		d := spec.Dataset
		k.Latents = StageKey(tableKey{"table-v1", d.Digest, d.Features, d.Target, d.XArray, d.Task, d.ValFraction, d.MaxTrain, d.MaxVal, t.Latent, t.Seed})
		if t.Latent < d.Columns {
			// ℓ below the features: an MLP autoencoder in front, its
			// settings upstream of the latents
			k.Autoencoder = StageKey(tableAEKey{"table-ae-v1", k.Latents, spec.Autoencoder})
			k.Latents = StageKey(latentsKey{"table-latents-v1", k.Autoencoder})
		}
		if on := spec.OracleNet; on.ONNX != "" {
			// an imported ψ: its bytes and what the flows preserve, not
			// where the file lies or the training settings it never used
			k.Oracle = StageKey(oracleKey{"oracle-onnx-v1", k.Latents, OracleTrain{Preserve: on.Preserve, ONNXDigest: on.ONNXDigest}})
		} else {
			k.Oracle = StageKey(oracleKey{"oracle-table-v1", k.Latents, spec.OracleNet})
		}
		upstream = k.Oracle
	} else {
		d := spec.Dataset
		d.MNISTDir = ""
		analytic = &d
	}
	k.Generators = StageKey(genKey{"gen-v2", upstream, analytic, t.NG, t.Seed, spec.Generator, spec.Train.GeneratorInputs()})
	k.Analysis = StageKey(analysisKey{"analysis-v3", k.Generators, spec.Train.EvalPoints})
	return k
}

// legacyGenKey is the generator stage key of format gen-v1, which listed
// the training fields by hand. Generators stored under it are still found
// (a spec's v1 and v2 inputs are the same but for the format).
type legacyGenKey struct {
	Format    string
	Upstream  string
	Analytic  *Dataset `json:",omitempty"`
	NG        int
	Seed      int
	Generator Generator
	Epochs    int
	LR        float64
	Epsilon   float64
	Batch     int
	HNorm     float64
	HOrtho    float64
	HClosure  float64
	MaxPoints int
}

// LegacyGeneratorKey returns the gen-v1 key of the trial's generators, or
// "" when the spec has an input gen-v1 did not cover (so no v1 artifact
// can match it).
func LegacyGeneratorKey(spec *Spec, t Trial) string {
	tr := spec.Train.GeneratorInputs()
	if tr != (Train{Epochs: tr.Epochs, LR: tr.LR, Epsilon: tr.Epsilon, Batch: tr.Batch, HNorm: tr.HNorm, HOrtho: tr.HOrtho, HClosure: tr.HClosure, MaxPoints: tr.MaxPoints}) {
		return ""
	}
	upstream := ""
	var analytic *Dataset
	if spec.Dataset.Kind == "table" || spec.Dataset.Kind == "images" {
		return ""
	}
	if spec.Dataset.Kind == "mnist" {
		upstream = StageKeys(spec, t).Oracle
	} else {
		d := spec.Dataset
		d.MNISTDir = ""
		analytic = &d
	}
	return StageKey(legacyGenKey{"gen-v1", upstream, analytic, t.NG, t.Seed, spec.Generator, tr.Epochs, tr.LR, tr.Epsilon, tr.Batch, tr.HNorm, tr.HOrtho, tr.HClosure, tr.MaxPoints})
}

// ArtifactKey returns the store key of a stage's file.
func ArtifactKey(stage, key, file string) string {
	return "artifacts/" + stage + "/" + key + "/" + file
}

// ValidateID checks a sweep id: 1–128 characters of letters, digits, '.',
// '_' and '-', starting with a letter or digit. The id names the workflow
// and the folder sweeps/<id>/ of the bucket, so '/' or ".." could reach
// another sweep's objects.
func ValidateID(id string) error {
	ok := len(id) > 0 && len(id) <= 128 && !strings.Contains(id, "..")
	for i, c := range id {
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || (c != '.' && c != '_' && c != '-')) {
			ok = false
		}
	}
	if !ok {
		return fmt.Errorf("%w: sweep id %q: use 1–128 letters, digits, '.', '_' or '-', starting with a letter or digit (no '/' or '..')", ErrInvalidSpec, id)
	}
	return nil
}

// ValidateKey checks a store key: 1–1024 bytes of letters, digits, '.',
// '_', '-' and '/', a relative slash path without empty or ".." segments.
// Both stores refuse any other key, so no key can escape its folder or
// name another sweep's objects.
func ValidateKey(key string) error {
	ok := len(key) > 0 && len(key) <= 1024 && !strings.HasPrefix(key, "/") && !strings.HasSuffix(key, "/")
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			ok = false
		}
	}
	for _, c := range key {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' || c == '/') {
			ok = false
		}
	}
	if !ok {
		return fmt.Errorf("store key %q: want a relative slash path of letters, digits, '.', '_' and '-' (no empty or '..' segments)", key)
	}
	return nil
}

// SweepPrefix is the folder of a sweep's own objects.
func SweepPrefix(sweepID string) string { return "sweeps/" + sweepID + "/" }

// SpecKey is where a sweep's spec is kept, so `sweep resume` can restart it.
func SpecKey(sweepID string) string { return SweepPrefix(sweepID) + "spec.json" }

// ResultsPrefix is the folder of a sweep's trial results.
func ResultsPrefix(sweepID string) string { return SweepPrefix(sweepID) + "results/" }

// ResultKey is where a sweep's trial result is stored.
func ResultKey(sweepID string, t Trial) string {
	return ResultsPrefix(sweepID) + ResultFile(t)
}

// ResultFile is the file name of a trial's result; the trials of
// hyperparameter combination k > 0 carry the prefix "h<k>-".
func ResultFile(t Trial) string {
	prefix := ""
	if t.Combo > 0 {
		prefix = fmt.Sprintf("h%d-", t.Combo)
	}
	return fmt.Sprintf("%sl%d-ng%d-seed%d.json", prefix, t.Latent, t.NG, t.Seed)
}

// VerdictKey is where a sweep's verdict document is stored.
func VerdictKey(sweepID string) string { return SweepPrefix(sweepID) + "verdict.json" }

// classList writes classes as {0,1,…}.
func classList(classes []int) string {
	s := make([]string, len(classes))
	for i, c := range classes {
		s[i] = strconv.Itoa(c)
	}
	return "{" + strings.Join(s, ",") + "}"
}

// DatasetLabel is a short human name of the spec's dataset, e.g.
// "norm(n=3)" or "mnist{0,1}".
func DatasetLabel(spec *Spec) string {
	d := spec.Dataset
	// a staged set named by its store object only is named by that
	file := d.Path
	if file == "" {
		file = d.Object
	}
	file = path.Base(strings.TrimSuffix(file, "/"))
	switch d.Kind {
	case "mnist":
		return "mnist" + classList(d.Classes)
	case "images":
		return "images(" + file + ")" + classList(d.Classes)
	case "table":
		return fmt.Sprintf("table(%s, %s)", file, d.Task)
	}
	if d.Oracle == "expr" {
		return fmt.Sprintf("expr%q(n=%d)", d.Expr, d.Dim)
	}
	return fmt.Sprintf("%s(n=%d)", d.Oracle, d.Dim)
}
