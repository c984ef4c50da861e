// Package sweeps holds liesweep's domain: the sweep spec and its
// validation, the grid of trials, content hashes of stage configs, trial
// results and the verdict. It is pure Go: no Temporal, S3, viper or
// gorgonia.
package sweeps

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Spec is a sweep: one dataset, a grid over latent dims × N_g × seeds, and
// the hyperparameters of every stage. Field tags give the YAML keys.
type Spec struct {
	Name        string      `mapstructure:"name" json:"name"`
	Dataset     Dataset     `mapstructure:"dataset" json:"dataset"`
	LatentDims  []int       `mapstructure:"latent_dims" json:"latent_dims"`
	NG          []int       `mapstructure:"ng" json:"ng"`
	Seeds       []int       `mapstructure:"seeds" json:"seeds"`
	Generator   Generator   `mapstructure:"generator" json:"generator"`
	Train       Train       `mapstructure:"train" json:"train"`
	Autoencoder StageTrain  `mapstructure:"autoencoder" json:"autoencoder"`
	OracleNet   OracleTrain `mapstructure:"oracle_net" json:"oracle_net"`
	// Classifier trains φ, the pixel-space CNN that judges decoded
	// streamline frames independently of the autoencoder and ψ (MNIST only).
	Classifier  StageTrain `mapstructure:"classifier" json:"classifier"`
	Verdict     Verdict    `mapstructure:"verdict" json:"verdict"`
	Concurrency int        `mapstructure:"concurrency" json:"concurrency"`
	Adaptive    Adaptive   `mapstructure:"adaptive" json:"adaptive"`
}

// Dataset selects the data: real MNIST digits or an analytic oracle.
type Dataset struct {
	Kind string `mapstructure:"kind" json:"kind"` // mnist | analytic
	// analytic
	Oracle  string   `mapstructure:"oracle" json:"oracle,omitempty"` // norm | lorentz | expr
	Dim     int      `mapstructure:"dim" json:"dim,omitempty"`
	Samples int      `mapstructure:"samples" json:"samples,omitempty"`
	Expr    []string `mapstructure:"expr" json:"expr,omitempty"`
	// mnist
	Classes  []int  `mapstructure:"classes" json:"classes,omitempty"`
	MaxTrain int    `mapstructure:"max_train" json:"max_train,omitempty"`
	MaxVal   int    `mapstructure:"max_val" json:"max_val,omitempty"`
	MNISTDir string `mapstructure:"mnist_dir" json:"-"` // where the files are; not part of any hash
}

// Generator chooses the generator networks and the loss terms.
type Generator struct {
	Kind          string `mapstructure:"kind" json:"kind"`                   // mlp | linear
	Hidden        []int  `mapstructure:"hidden" json:"hidden"`               // mlp hidden sizes
	Orthogonality string `mapstructure:"orthogonality" json:"orthogonality"` // pointwise | global
	Normalization string `mapstructure:"normalization" json:"normalization"` // pointwise | frobenius (default by kind)
	Closure       string `mapstructure:"closure" json:"closure"`             // posthoc | joint
}

// Train holds the generator-training hyperparameters.
type Train struct {
	Epochs          int     `mapstructure:"epochs" json:"epochs"`
	LR              float64 `mapstructure:"lr" json:"lr"`
	Epsilon         float64 `mapstructure:"epsilon" json:"epsilon"`
	Batch           int     `mapstructure:"batch" json:"batch"` // 0 = full batch
	HNorm           float64 `mapstructure:"h_norm" json:"h_norm"`
	HOrtho          float64 `mapstructure:"h_ortho" json:"h_ortho"`
	HClosure        float64 `mapstructure:"h_closure" json:"h_closure"`
	MaxPoints       int     `mapstructure:"max_points" json:"max_points"`             // cap on training latents (0 = all)
	EvalPoints      int     `mapstructure:"eval_points" json:"eval_points"`           // validation points for metrics
	CheckpointEvery int     `mapstructure:"checkpoint_every" json:"checkpoint_every"` // epochs between checkpoints
}

// StageTrain holds the hyperparameters of the autoencoder stage.
type StageTrain struct {
	Epochs int     `mapstructure:"epochs" json:"epochs"`
	LR     float64 `mapstructure:"lr" json:"lr"`
	Batch  int     `mapstructure:"batch" json:"batch"`
}

// OracleTrain holds the hyperparameters of the oracle stage.
type OracleTrain struct {
	Epochs   int     `mapstructure:"epochs" json:"epochs"`
	LR       float64 `mapstructure:"lr" json:"lr"`
	Batch    int     `mapstructure:"batch" json:"batch"`
	Preserve string  `mapstructure:"preserve" json:"preserve"` // logits | probabilities
}

// Verdict holds the pass thresholds of a trial and the quorum of an N_g.
type Verdict struct {
	InvRatio   float64 `mapstructure:"inv_ratio" json:"inv_ratio"`
	OrthoCos2  float64 `mapstructure:"ortho_cos2" json:"ortho_cos2"`
	NormDev    float64 `mapstructure:"norm_dev" json:"norm_dev"`
	ClosureRel float64 `mapstructure:"closure_rel" json:"closure_rel"`
	Quorum     int     `mapstructure:"quorum" json:"quorum"`
}

// Adaptive ascends N_g level by level instead of training the whole grid.
type Adaptive struct {
	Enabled  bool `mapstructure:"enabled" json:"enabled"`
	Patience int  `mapstructure:"patience" json:"patience"`
	// MaxNG caps how far adaptive mode extends past the spec's largest N_g
	// while levels keep passing (0: ℓ², the dimension of gl(ℓ)).
	MaxNG int `mapstructure:"max_ng" json:"max_ng"`
}

// DefaultSpec returns a spec with every field at its documented default;
// a spec file overrides what it sets.
func DefaultSpec() Spec {
	return Spec{
		NG:          []int{1},
		Seeds:       []int{1},
		Generator:   Generator{Kind: "mlp", Hidden: []int{32, 32}, Orthogonality: "pointwise", Closure: "posthoc"},
		Train:       Train{Epochs: 2000, LR: 1e-3, Epsilon: 1e-3, HNorm: 1, HOrtho: 1, HClosure: 1, EvalPoints: 2000, CheckpointEvery: 500},
		Autoencoder: StageTrain{Epochs: 10, LR: 1e-3, Batch: 128},
		OracleNet:   OracleTrain{Epochs: 5, LR: 1e-3, Batch: 128, Preserve: "logits"},
		Classifier:  StageTrain{Epochs: 2, LR: 1e-3, Batch: 128},
		Verdict:     Verdict{InvRatio: 1e-2, OrthoCos2: 1e-2, NormDev: 0.1, ClosureRel: 0.1, Quorum: 1},
		Concurrency: 2,
		Adaptive:    Adaptive{Patience: 2},
	}
}

// FieldError names the spec field that is wrong and why.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return fmt.Sprintf("spec field %q: %s", e.Field, e.Msg) }

// ErrInvalidSpec wraps every validation failure.
var ErrInvalidSpec = errors.New("invalid spec")

// Normalize fills the defaults that depend on other fields: the
// normalization by generator kind and, for analytic datasets, the latent
// dimension (which is the feature dimension).
func (s *Spec) Normalize() {
	if s.Generator.Normalization == "" {
		s.Generator.Normalization = "pointwise"
		if s.Generator.Kind == "linear" {
			s.Generator.Normalization = "frobenius"
		}
	}
	if s.Dataset.Kind == "analytic" && s.Dataset.Samples == 0 {
		s.Dataset.Samples = 300
	}
	if s.Dataset.Kind == "analytic" && len(s.LatentDims) == 0 {
		s.LatentDims = []int{s.Dataset.Dim}
	}
	if s.Dataset.Kind == "mnist" && len(s.Dataset.Classes) == 0 {
		s.Dataset.Classes = []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	}
	// Specs stored before the classifier section existed (sweeps to
	// resume, recorded workflow histories) get its defaults.
	if s.Classifier == (StageTrain{}) {
		s.Classifier = DefaultSpec().Classifier
	}
}

// Validate checks every field and returns all problems at once, each a
// *FieldError, joined and wrapping ErrInvalidSpec.
func (s *Spec) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	oneOf := func(field, v string, allowed ...string) {
		if !slices.Contains(allowed, v) {
			bad(field, "%q is not one of %s", v, strings.Join(allowed, ", "))
		}
	}
	positive := func(field string, v float64) {
		if !(v > 0) || math.IsInf(v, 0) {
			bad(field, "must be a finite number > 0, got %v", v)
		}
	}
	nonNeg := func(field string, v float64) {
		if !(v >= 0) || math.IsInf(v, 0) {
			bad(field, "must be a finite number ≥ 0, got %v", v)
		}
	}
	if s.Name != "" && strings.ContainsAny(s.Name, "/ \t\n") {
		bad("name", "%q must not contain spaces or slashes", s.Name)
	}
	d := s.Dataset
	oneOf("dataset.kind", d.Kind, "mnist", "analytic")
	switch d.Kind {
	case "analytic":
		oneOf("dataset.oracle", d.Oracle, "norm", "lorentz", "expr")
		if d.Dim < 1 {
			bad("dataset.dim", "must be ≥ 1 for an analytic oracle, got %d", d.Dim)
		}
		if d.Samples < 2 {
			bad("dataset.samples", "must be ≥ 2, got %d", d.Samples)
		}
		if d.Oracle == "expr" && len(d.Expr) == 0 {
			bad("dataset.expr", "oracle expr needs one expression per output, e.g. [\"x0^2 + x1^2\"]")
		}
		if d.Oracle != "expr" && len(d.Expr) > 0 {
			bad("dataset.expr", "is only read with oracle: expr (oracle is %q)", d.Oracle)
		}
		for _, l := range s.LatentDims {
			if l != d.Dim {
				bad("latent_dims", "an analytic dataset's latent space is its feature space: every entry must equal dataset.dim = %d, got %d", d.Dim, l)
			}
		}
		if len(d.Classes) > 0 {
			bad("dataset.classes", "is only read with kind: mnist")
		}
	case "mnist":
		seen := map[int]bool{}
		for _, c := range d.Classes {
			if c < 0 || c > 9 || seen[c] {
				bad("dataset.classes", "%v must list distinct digits 0–9", d.Classes)
				break
			}
			seen[c] = true
		}
		if len(d.Classes) == 1 {
			bad("dataset.classes", "needs at least two classes for an oracle to separate, got %v", d.Classes)
		}
		if d.Oracle != "" || len(d.Expr) > 0 || d.Dim != 0 || d.Samples != 0 {
			bad("dataset.oracle", "oracle, expr, dim and samples are only read with kind: analytic (mnist's oracle is trained)")
		}
		if len(s.LatentDims) == 0 {
			bad("latent_dims", "list at least one bottleneck size for mnist, e.g. [2]")
		}
		for _, l := range s.LatentDims {
			if l < 1 || l > 256 {
				bad("latent_dims", "entries must be in 1…256, got %d", l)
			}
		}
		if d.MaxTrain < 0 || d.MaxVal < 0 {
			bad("dataset.max_train", "caps must be ≥ 0")
		}
	}
	if len(s.NG) == 0 {
		bad("ng", "list at least one number of generators, e.g. [1, 2, 3]")
	}
	for _, n := range s.NG {
		if n < 1 || n > 64 {
			bad("ng", "entries must be in 1…64, got %d", n)
		}
	}
	if hasDup(s.NG) {
		bad("ng", "%v lists a value twice", s.NG)
	}
	if len(s.Seeds) == 0 {
		bad("seeds", "list at least one seed, e.g. [1]")
	}
	for _, v := range s.Seeds {
		if v < 0 {
			bad("seeds", "seeds must be ≥ 0, got %d", v)
		}
	}
	if hasDup(s.Seeds) {
		bad("seeds", "%v lists a seed twice", s.Seeds)
	}
	g := s.Generator
	oneOf("generator.kind", g.Kind, "mlp", "linear")
	oneOf("generator.orthogonality", g.Orthogonality, "pointwise", "global")
	oneOf("generator.normalization", g.Normalization, "pointwise", "frobenius")
	oneOf("generator.closure", g.Closure, "posthoc", "joint")
	if g.Kind == "mlp" {
		if len(g.Hidden) == 0 {
			bad("generator.hidden", "an mlp generator needs at least one hidden layer, e.g. [32, 32]")
		}
		for _, h := range g.Hidden {
			if h < 1 {
				bad("generator.hidden", "layer sizes must be ≥ 1, got %d", h)
			}
		}
		if g.Normalization == "frobenius" {
			bad("generator.normalization", "frobenius needs linear generators (an mlp has no matrix); use pointwise")
		}
	}
	t := s.Train
	if t.Epochs < 1 {
		bad("train.epochs", "must be ≥ 1, got %d", t.Epochs)
	}
	positive("train.lr", t.LR)
	positive("train.epsilon", t.Epsilon)
	if t.Batch < 0 {
		bad("train.batch", "must be ≥ 0 (0 = full batch), got %d", t.Batch)
	}
	nonNeg("train.h_norm", t.HNorm)
	nonNeg("train.h_ortho", t.HOrtho)
	nonNeg("train.h_closure", t.HClosure)
	if t.MaxPoints < 0 {
		bad("train.max_points", "must be ≥ 0 (0 = all), got %d", t.MaxPoints)
	}
	if t.EvalPoints < 10 {
		bad("train.eval_points", "must be ≥ 10, got %d", t.EvalPoints)
	}
	if t.CheckpointEvery < 1 {
		bad("train.checkpoint_every", "must be ≥ 1 epoch, got %d", t.CheckpointEvery)
	}
	if s.Dataset.Kind == "mnist" {
		if s.Autoencoder.Epochs < 1 {
			bad("autoencoder.epochs", "must be ≥ 1, got %d", s.Autoencoder.Epochs)
		}
		positive("autoencoder.lr", s.Autoencoder.LR)
		if s.Autoencoder.Batch < 1 {
			bad("autoencoder.batch", "must be ≥ 1, got %d", s.Autoencoder.Batch)
		}
		if s.OracleNet.Epochs < 1 {
			bad("oracle_net.epochs", "must be ≥ 1, got %d", s.OracleNet.Epochs)
		}
		if s.Classifier.Epochs < 1 {
			bad("classifier.epochs", "must be ≥ 1, got %d", s.Classifier.Epochs)
		}
		positive("classifier.lr", s.Classifier.LR)
		if s.Classifier.Batch < 1 {
			bad("classifier.batch", "must be ≥ 1, got %d", s.Classifier.Batch)
		}
		positive("oracle_net.lr", s.OracleNet.LR)
		if s.OracleNet.Batch < 1 {
			bad("oracle_net.batch", "must be ≥ 1, got %d", s.OracleNet.Batch)
		}
	}
	oneOf("oracle_net.preserve", s.OracleNet.Preserve, "logits", "probabilities")
	v := s.Verdict
	positive("verdict.inv_ratio", v.InvRatio)
	positive("verdict.ortho_cos2", v.OrthoCos2)
	positive("verdict.norm_dev", v.NormDev)
	positive("verdict.closure_rel", v.ClosureRel)
	if v.Quorum < 1 || v.Quorum > len(s.Seeds) && len(s.Seeds) > 0 {
		bad("verdict.quorum", "must be between 1 and the number of seeds (%d), got %d", len(s.Seeds), v.Quorum)
	}
	if s.Concurrency < 1 {
		bad("concurrency", "must be ≥ 1, got %d", s.Concurrency)
	}
	if s.Adaptive.MaxNG < 0 || s.Adaptive.MaxNG > 64 {
		bad("adaptive.max_ng", "must be in 0…64 (0 = ℓ²), got %d", s.Adaptive.MaxNG)
	}
	if s.Adaptive.Patience < 1 {
		bad("adaptive.patience", "must be ≥ 1, got %d", s.Adaptive.Patience)
	}
	if len(errs) == 0 {
		return nil
	}
	return errors.Join(append([]error{ErrInvalidSpec}, errs...)...)
}

func hasDup(xs []int) bool {
	seen := map[int]bool{}
	for _, x := range xs {
		if seen[x] {
			return true
		}
		seen[x] = true
	}
	return false
}
