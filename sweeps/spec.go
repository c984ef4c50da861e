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
	// Axes are the hyperparameters swept beside the grid: the spec keys the
	// file gives a list of values (the fields above hold each axis's first
	// value). The sweep runs every combination (Combos).
	Axes []Axis `mapstructure:"-" json:"axes,omitempty"`
}

// Dataset selects the data: real MNIST digits, an analytic oracle, or a
// table of the user's own.
type Dataset struct {
	Kind string `mapstructure:"kind" json:"kind"` // mnist | images | analytic | table
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
	// table
	Path        string   `mapstructure:"path" json:"path,omitempty"`         // local file or s3://bucket/key; not part of any hash (Digest is)
	Features    []string `mapstructure:"features" json:"features,omitempty"` // column names or indices; empty = all but the target
	Target      string   `mapstructure:"target" json:"target,omitempty"`     // column name or index; for .npz the y array
	XArray      string   `mapstructure:"x_array" json:"x_array,omitempty"`   // .npz: the feature array (default x)
	Task        string   `mapstructure:"task" json:"task,omitempty"`         // classification | regression
	ValFraction float64  `mapstructure:"val_fraction" json:"val_fraction,omitempty"`
	// Digest is the SHA-256 of the table's bytes and Object the store key
	// that holds them; `run` and `sweep start` set both when they read the
	// file (a spec file gives neither). Digest is part of every stage key.
	Digest string `mapstructure:"-" json:"digest,omitempty"`
	Object string `mapstructure:"-" json:"object,omitempty"`
	// Columns is the table's number of features, set with Digest: a
	// latent dimension below it puts an MLP autoencoder in front.
	Columns int `mapstructure:"-" json:"columns,omitempty"`
	// ImageShape is an image set's C, H, W where it is not MNIST's
	// 1×28×28, set with Digest: the conv networks are built for it.
	ImageShape []int `mapstructure:"-" json:"image_shape,omitempty"`
}

// Images reports whether the dataset is an image set through the conv
// autoencoder: MNIST, or another IDX set (kind images).
func (d Dataset) Images() bool { return d.Kind == "mnist" || d.Kind == "images" }

// Table tasks.
const (
	TaskClassification = "classification"
	TaskRegression     = "regression"
)

// Generator chooses the generator networks and the loss terms.
type Generator struct {
	Kind          string `mapstructure:"kind" json:"kind"`                   // mlp | linear
	Hidden        []int  `mapstructure:"hidden" json:"hidden"`               // mlp hidden sizes
	Orthogonality string `mapstructure:"orthogonality" json:"orthogonality"` // pointwise | global
	Normalization string `mapstructure:"normalization" json:"normalization"` // pointwise | frobenius (default by kind)
	Closure       string `mapstructure:"closure" json:"closure"`             // posthoc | joint
	// Init is how linear generators start: random (""; small random
	// matrices) or spectral (the N_g smallest eigenvectors of the
	// invariance term's quadratic form). Empty keeps the stage keys of
	// specs written before it existed.
	Init string `mapstructure:"init" json:"init,omitempty"`
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
	// EarlyStop ends the generators' training once every loss term has
	// plateaued: every EarlyStopWindow epochs, no term's mean over the last
	// window improved on the window before by more than EarlyStopTol
	// (relative). Resumed runs stop at the same epoch.
	EarlyStop       bool    `mapstructure:"early_stop" json:"early_stop"`
	EarlyStopWindow int     `mapstructure:"early_stop_window" json:"early_stop_window,omitempty"`
	EarlyStopTol    float64 `mapstructure:"early_stop_tol" json:"early_stop_tol,omitempty"`
	// InvLoss is the invariance term the generators train on: raw (eq. 10
	// as written) or ratio (eq. 10 along the unit fields over its value for
	// random unit directions: the inv_ratio metric itself, scale-free, so a
	// sharp learned ψ cannot make the generators shrink). Empty is raw.
	InvLoss string `mapstructure:"inv_loss" json:"inv_loss,omitempty"`
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
	// Hidden and Activation shape a table's ψ (MNIST's is the paper's
	// 128-128-32 ReLU network and leaves them empty).
	Hidden     []int  `mapstructure:"hidden" json:"hidden,omitempty"`
	Activation string `mapstructure:"activation" json:"activation,omitempty"` // tanh | relu
	// ONNX is the user's own ψ: a network exported from PyTorch (opset ≥
	// 13), a local path or s3://bucket/key, on the table's raw features.
	// ψ is then imported, not trained. ONNXDigest and ONNXObject are set
	// when the sweep starts, as dataset.digest and dataset.object are.
	ONNX       string `mapstructure:"onnx" json:"onnx,omitempty"`
	ONNXDigest string `mapstructure:"-" json:"onnx_digest,omitempty"`
	ONNXObject string `mapstructure:"-" json:"onnx_object,omitempty"`
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

// Bounds on a spec. A spec comes from whoever starts a sweep and every
// worker trusts it once validated, so Validate keeps what one spec can ask
// of a worker finite: each bound is far above what the examples and the
// paper use, and below what runs a worker out of memory or never ends.
const (
	// MaxDim bounds dataset.dim (and so an analytic latent dimension). 256
	// matches MNIST's largest latent dimension; it keeps the built-in norm
	// and lorentz expressions (written out as x0^2 ± … ± x255^2, 2191
	// bytes) under datasets.MaxExprLen and a linear generator at 256² weights.
	MaxDim = 256
	// MaxLatentDim bounds every entry of latent_dims: a generator is an
	// ℓ×ℓ matrix or an MLP on R^ℓ, and adaptive mode may ascend to ℓ²
	// generators.
	MaxLatentDim = 256
	// MaxSamples bounds dataset.samples, the Gaussian points an analytic
	// oracle trains on (the examples use 300).
	MaxSamples = 1_000_000
	// MaxSampleValues bounds dataset.samples × dataset.dim: 2^24 float64s
	// is 128 MiB for the points, which the training graph copies a few
	// times.
	MaxSampleValues = 1 << 24
	// MaxHiddenWidth and MaxHiddenLayers bound generator.hidden: a wider
	// or deeper tanh MLP is not what the method needs (the examples use
	// [32, 32]) and its weights grow with width² × layers.
	MaxHiddenWidth  = 4096
	MaxHiddenLayers = 8
	// MaxNG bounds every entry of ng and adaptive.max_ng: N_g generators
	// train jointly, with N_g² brackets under joint closure.
	MaxNG = 64
	// MaxGeneratorWeights bounds the weights of the largest generator set
	// the spec can train (largest ℓ, largest N_g, including adaptive
	// mode's ascent to adaptive.max_ng or ℓ²): 2^26 float64s are 512 MiB,
	// about 2 GiB with their gradients and Adam's two moments.
	MaxGeneratorWeights = 1 << 26
	// MaxGeneratorMemory bounds GeneratorMemory, the estimated peak memory
	// of training the largest generator set of a spec (16 GiB): a spec
	// inside every other bound (dim 256, 65536 samples, hidden [4096])
	// otherwise asked for tens of GiB and died out of memory.
	MaxGeneratorMemory = 16 << 30
	// MaxEpochs bounds the epochs of every stage. The loss history keeps
	// a record per epoch in memory and in every checkpoint, so 10^6 epochs
	// are already hundreds of MB; the examples train at most 6000.
	MaxEpochs = 1_000_000
	// MaxPoints bounds train.max_points and train.eval_points (counts of
	// latents, capped by the data anyway; MNIST has 70000 images).
	MaxPoints = 10_000_000
	// MaxTrials bounds the grid, latent_dims × ng × seeds: every trial
	// trains its own networks and is an entry in the sweep's workflow
	// history (the examples run at most 12).
	MaxTrials = 4096
	// MaxConcurrency bounds concurrency, the (ℓ, seed) groups trained at
	// once: it can usefully be no larger than the grid.
	MaxConcurrency = MaxTrials
	// MaxSlots bounds a worker's trainings at a time (worker --slots,
	// infra nomad --slots): each holds a training's memory, and a node
	// has not that many cores or GPUs.
	MaxSlots = 256
	// MaxExprs bounds how many expressions (oracle outputs) dataset.expr
	// lists, and MaxExprBytes their total length: the oracle's graph is
	// built twice per training step and gorgonia's compilation of it grows
	// quadratically with its size (8 KiB of expressions, ~11000 nodes
	// with the gradient, compile in seconds). Each expression is also
	// bounded by datasets.MaxExprLen.
	MaxExprs     = 16
	MaxExprBytes = 8192
	// MaxNameLen bounds name so that the default sweep id,
	// <name>-<yyyymmdd-hhmmss>, fits ValidateID's 128 characters.
	MaxNameLen = 112
)

// DefaultSpec returns a spec with every field at its documented default;
// a spec file overrides what it sets.
func DefaultSpec() Spec {
	return Spec{
		NG:          []int{1},
		Seeds:       []int{1},
		Generator:   Generator{Kind: "mlp", Hidden: []int{32, 32}, Orthogonality: "pointwise", Closure: "posthoc"},
		Train:       Train{Epochs: 2000, LR: 1e-3, Epsilon: 1e-3, HNorm: 1, HOrtho: 1, HClosure: 1, EvalPoints: 2000, CheckpointEvery: 500, EarlyStop: true, EarlyStopWindow: 250, EarlyStopTol: 0.01},
		Autoencoder: StageTrain{Epochs: 10, LR: 1e-3, Batch: 128},
		OracleNet:   OracleTrain{Epochs: 5, LR: 1e-3, Batch: 128, Preserve: "logits"},
		Classifier:  StageTrain{Epochs: 2, LR: 1e-3, Batch: 128},
		Verdict:     Verdict{InvRatio: 1e-2, OrthoCos2: 1e-2, NormDev: 0.1, ClosureRel: 0.1, Quorum: 1},
		Concurrency: 2,
		Adaptive:    Adaptive{Patience: 2},
	}
}

// FieldError names the spec field that is wrong and why: Msg, or Err when
// the cause is an error of its own (an expression's *datasets.ExprError).
// Every FieldError is an ErrInvalidSpec (errors.Is), so the activities
// classify it as non-retryable wherever it arises.
type FieldError struct {
	Field string
	Msg   string
	Err   error
}

func (e *FieldError) Error() string {
	msg := e.Msg
	if e.Err != nil {
		msg = e.Err.Error()
		if e.Msg != "" {
			msg = e.Msg + ": " + msg
		}
	}
	return fmt.Sprintf("spec field %q: %s", e.Field, msg)
}

// Unwrap returns ErrInvalidSpec and the cause, if any.
func (e *FieldError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrInvalidSpec}
	}
	return []error{ErrInvalidSpec, e.Err}
}

// ErrInvalidSpec wraps every validation failure.
var ErrInvalidSpec = errors.New("invalid spec")

// Normalize fills the defaults that depend on other fields: the
// normalization by generator kind and, for analytic datasets, the latent
// dimension (which is the feature dimension).
func (s *Spec) Normalize() {
	// With generator.kind swept, each combination gets its own kind's
	// default (Combos normalises every combination).
	if s.Generator.Normalization == "" && !s.swept("generator.kind") {
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
	if s.Dataset.Kind == "table" {
		if s.Dataset.Task == "" {
			s.Dataset.Task = TaskClassification
		}
		if s.Dataset.ValFraction == 0 {
			s.Dataset.ValFraction = 0.25
		}
		if len(s.OracleNet.Hidden) == 0 {
			s.OracleNet.Hidden = []int{128, 128}
		}
		if s.OracleNet.Activation == "" {
			s.OracleNet.Activation = "tanh"
		}
		// A learned ψ is sharp where the data pins it: the ratio keeps
		// its gradient scale out of the loss balance (DESIGN §1.1).
		if s.Train.InvLoss == "" && !s.swept("train.inv_loss") {
			s.Train.InvLoss = "ratio"
		}
	}
	if s.Dataset.Images() && len(s.Dataset.Classes) == 0 {
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
func (s *Spec) Validate() error { return s.validate(RulesCurrent) }

// Rules is a version of Validate's checks. A check added to Validate can
// refuse a spec that a sweep already running was started with; the
// workflow replays such a history with the rules it was recorded under
// (ValidateRecorded), so that the sweep is not refused halfway (a
// non-deterministic replay).
type Rules int

const (
	// RulesOriginal are the checks before 2026-12-07.
	RulesOriginal Rules = iota
	// Rules1207 add solvable N_g, the memory bound, the sweep-id rule
	// for name and duplicate swept values.
	Rules1207
	// RulesCurrent add: train.max_points is refused for analytic oracles
	// (it never applied to them: dataset.samples is their number of
	// training points, and the memory bound used to read max_points as
	// if it did), and the memory estimate counts the closure analysis
	// and 64 B per hidden unit (GeneratorMemory).
	RulesCurrent
)

// ValidateRecorded is Validate under older rules.
func (s *Spec) ValidateRecorded(r Rules) error { return s.validate(r) }

func (s *Spec) validate(rules Rules) error {
	strict := rules >= Rules1207
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
	atMost := func(field string, v, bound int, why string) {
		if v > bound {
			bad(field, "%d is over the bound of %d (%s)", v, bound, why)
		}
	}
	// inRange: v ≥ lo (note qualifies the bound in the message) and v ≤ hi
	// (why: as atMost's)
	inRange := func(field string, v, lo int, note string, hi int, why string) {
		if v < lo {
			bad(field, "must be ≥ %d%s, got %d", lo, note, v)
		}
		atMost(field, v, hi, why)
	}
	// hiddenLayers: an MLP's hidden layer sizes (empty: what to write instead)
	hiddenLayers := func(field string, sizes []int, empty string) {
		if len(sizes) == 0 {
			bad(field, "%s", empty)
		}
		atMost(field, len(sizes), MaxHiddenLayers, "MaxHiddenLayers, the number of hidden layers")
		for _, h := range sizes {
			if h < 1 {
				bad(field, "layer sizes must be ≥ 1, got %d", h)
			}
			atMost(field, h, MaxHiddenWidth, "MaxHiddenWidth, the width of a layer: weights grow with width²")
		}
	}
	epochs := func(field string, v int, used bool) {
		if used && v < 1 {
			bad(field, "must be ≥ 1, got %d", v)
		}
		atMost(field, v, MaxEpochs, "MaxEpochs: the loss history keeps a record per epoch")
	}
	if s.Name != "" && !strict && strings.ContainsAny(s.Name, "/ \t\n") {
		bad("name", "%q must not contain spaces or slashes", s.Name)
	}
	if s.Name != "" && strict && ValidateID(s.Name) != nil {
		// the default sweep id is <name>-<time>: the same rule, so that a
		// name validate accepts is never refused by sweep start
		bad("name", "%q: use letters, digits, '.', '_' or '-', starting with a letter or digit (it begins the sweep id)", s.Name)
	}
	if len(s.Name) > MaxNameLen {
		bad("name", "is %d bytes long, over the bound of %d (MaxNameLen: the default sweep id <name>-<time> must fit 128 characters)", len(s.Name), MaxNameLen)
	}
	d := s.Dataset
	// the latent dims and split caps of a learned ψ (tables and images)
	latentsAndCaps := func() {
		for _, l := range s.LatentDims {
			if l < 1 || l > MaxLatentDim {
				bad("latent_dims", "entries must be in 1…%d (MaxLatentDim), got %d", MaxLatentDim, l)
			}
		}
		if d.MaxTrain < 0 || d.MaxVal < 0 {
			bad("dataset.max_train", "caps must be ≥ 0")
		}
	}
	oneOf("dataset.kind", d.Kind, "mnist", "images", "analytic", "table")
	if d.Kind == "images" && d.Path == "" && d.Object == "" {
		bad("dataset.path", "an image set needs its directory (or s3://bucket/prefix) holding train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (each optionally .gz), or the labels CSV of a folder of PNGs (columns file, label and optionally split)")
	}
	if sh := d.ImageShape; len(sh) > 0 && (d.Kind != "images" || len(sh) != 3 || (sh[0] != 1 && sh[0] != 3) || sh[1] < 4 || sh[2] < 4 || sh[1] > 512 || sh[2] > 512) {
		bad("dataset.image_shape", "%v is not an image set's shape: staging records [C, H, W] with C 1 or 3 and sides of 4 to 512 pixels, for kind: images only", sh)
	}
	if d.Kind != "table" && (d.Kind != "images" && d.Path != "" || len(d.Features) > 0 || d.Target != "" || d.XArray != "" || d.Task != "" || d.ValFraction != 0) {
		bad("dataset.path", "path is read with kind: table or images; features, target, x_array, task and val_fraction only with kind: table")
	}
	if d.Kind != "table" && s.OracleNet.ONNX != "" {
		bad("oracle_net.onnx", "an imported ψ needs kind: table (it takes the table's features)")
	}
	if d.Kind != "table" && (len(s.OracleNet.Hidden) > 0 || s.OracleNet.Activation != "") {
		bad("oracle_net.hidden", "hidden and activation shape a table's ψ (kind: table); MNIST's ψ is the paper's 128-128-32 ReLU network")
	}
	switch d.Kind {
	case "table":
		if d.Path == "" && d.Object == "" {
			bad("dataset.path", "a table needs the file: a local .csv, .npy, .npz or .parquet path, or s3://bucket/key")
		}
		oneOf("dataset.task", d.Task, TaskClassification, TaskRegression)
		if !(d.ValFraction >= 0.01 && d.ValFraction <= 0.9) {
			bad("dataset.val_fraction", "must be in 0.01…0.9, got %v (default 0.25)", d.ValFraction)
		}
		if d.Oracle != "" || len(d.Expr) > 0 || d.Dim != 0 || d.Samples != 0 || len(d.Classes) > 0 {
			bad("dataset.oracle", "oracle, expr, dim, samples and classes are not read with kind: table (ψ is learned from the table's target)")
		}
		if d.Digest != "" && len(s.LatentDims) == 0 {
			bad("latent_dims", "list the latent dimensions (the number of features, when the flows act on the standardised features)")
		}
		for _, l := range s.LatentDims {
			if d.Columns > 0 && l > d.Columns {
				bad("latent_dims", "%d is above the table's %d features: ℓ is the number of features (the flows act on the standardised features) or fewer (an MLP autoencoder maps the features to ℓ latents)", l, d.Columns)
			}
		}
		latentsAndCaps()
		hiddenLayers("oracle_net.hidden", s.OracleNet.Hidden, "ψ needs at least one hidden layer, e.g. [128, 128]")
		oneOf("oracle_net.activation", s.OracleNet.Activation, "tanh", "relu")
		if d.Task == TaskRegression && s.OracleNet.Preserve == "probabilities" {
			bad("oracle_net.preserve", "a regression ψ has one output and no probabilities: use logits (its output)")
		}
	case "analytic":
		oneOf("dataset.oracle", d.Oracle, "norm", "lorentz", "expr")
		inRange("dataset.dim", d.Dim, 1, " for an analytic oracle", MaxDim, "MaxDim: the generators are dim×dim matrices or MLPs on R^dim")
		inRange("dataset.samples", d.Samples, 2, "", MaxSamples, "MaxSamples: every epoch runs through all of them")
		if d.Samples <= MaxSamples && d.Dim <= MaxDim && d.Samples*d.Dim > MaxSampleValues {
			bad("dataset.samples", "samples × dim = %d × %d is over the bound of %d values (MaxSampleValues: 128 MiB of points, copied by the training graph)", d.Samples, d.Dim, MaxSampleValues)
		}
		if d.Oracle == "expr" && len(d.Expr) == 0 {
			bad("dataset.expr", "oracle expr needs one expression per output, e.g. [\"x0^2 + x1^2\"]")
		}
		if d.Oracle != "expr" && len(d.Expr) > 0 {
			bad("dataset.expr", "is only read with oracle: expr (oracle is %q)", d.Oracle)
		}
		if len(d.Expr) > MaxExprs {
			bad("dataset.expr", "lists %d expressions, over the bound of %d outputs (MaxExprs: each output is compiled into the oracle's graph)", len(d.Expr), MaxExprs)
		}
		total := 0
		for _, e := range d.Expr {
			total += len(e)
		}
		atMost("dataset.expr", total, MaxExprBytes, "MaxExprBytes, the total bytes of all expressions: the oracle's graph grows with them and compiles in time quadratic in its size")
		for _, l := range s.LatentDims {
			if l != d.Dim {
				bad("latent_dims", "an analytic dataset's latent space is its feature space: every entry must equal dataset.dim = %d, got %d", d.Dim, l)
			}
		}
		if len(d.Classes) > 0 {
			bad("dataset.classes", "is only read with kind: mnist")
		}
	case "mnist", "images":
		seen := map[int]bool{}
		top := 9
		if d.Kind == "images" {
			top = 255 // an IDX label is one byte
		}
		for _, c := range d.Classes {
			if c < 0 || c > top || seen[c] {
				if top == 9 {
					bad("dataset.classes", "%v must list distinct digits 0–9", d.Classes)
				} else {
					bad("dataset.classes", "%v must list distinct labels 0–255", d.Classes)
				}
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
		latentsAndCaps()
	}
	if hasDup(s.LatentDims) {
		bad("latent_dims", "%v lists a value twice", s.LatentDims)
	}
	if len(s.NG) == 0 {
		bad("ng", "list at least one number of generators, e.g. [1, 2, 3]")
	}
	for _, n := range s.NG {
		if n < 1 || n > MaxNG {
			bad("ng", "entries must be in 1…%d (MaxNG: the generators train jointly, with N_g² brackets), got %d", MaxNG, n)
		}
	}
	if hasDup(s.NG) {
		bad("ng", "%v lists a value twice", s.NG)
	}
	if strict {
		s.checkSolvable(bad)
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
	if a, b, c := len(s.LatentDims), len(s.NG), len(s.Seeds); a > MaxTrials || b > MaxTrials || c > MaxTrials || a*b*c > MaxTrials {
		bad("seeds", "the grid latent_dims × ng × seeds = %d × %d × %d is over the bound of %d trials (MaxTrials: each trains its own networks)", len(s.LatentDims), len(s.NG), len(s.Seeds), MaxTrials)
	}
	g := s.Generator
	oneOf("generator.kind", g.Kind, "mlp", "linear")
	oneOf("generator.orthogonality", g.Orthogonality, "pointwise", "global")
	if !(g.Normalization == "" && s.swept("generator.kind")) {
		oneOf("generator.normalization", g.Normalization, "pointwise", "frobenius", "mean")
		if g.Init != "" {
			oneOf("generator.init", g.Init, "random", "spectral")
		}
		if g.Init == "spectral" && g.Kind != "linear" {
			bad("generator.init", "spectral starts linear generators from the eigenvectors of a quadratic form; an mlp has no matrix: use random")
		}
		if g.Init == "spectral" {
			for _, l := range append(slices.Clone(s.LatentDims), s.Dataset.Dim) {
				if l > 32 {
					bad("generator.init", "spectral needs ℓ ≤ 32 (its matrix has ℓ⁴ entries), got ℓ = %d: use random", l)
					break
				}
			}
		}
	}
	oneOf("generator.closure", g.Closure, "posthoc", "joint")
	if g.Kind == "mlp" {
		hiddenLayers("generator.hidden", g.Hidden, "an mlp generator needs at least one hidden layer, e.g. [32, 32]")
		if g.Normalization == "frobenius" {
			bad("generator.normalization", "frobenius needs linear generators (an mlp has no matrix); use mean (the same for any field: the mean squared length over the points is 2) or pointwise")
		}
	}
	if w, l, n, ok := s.generatorWeights(); ok && w > MaxGeneratorWeights {
		bad("generator", "the largest generator set, N_g = %d at ℓ = %d, has %d weights, over the bound of %d (MaxGeneratorWeights: 512 MiB of float64, 2 GiB with gradients and Adam's moments); use smaller hidden layers, fewer generators or, in adaptive mode, a lower adaptive.max_ng", n, l, w, MaxGeneratorWeights)
	}
	if mem, pts, ok := s.generatorMemory(rules); strict && ok && mem > MaxGeneratorMemory {
		fewer := "lower train.max_points or set train.batch"
		if s.Dataset.Kind == "analytic" {
			fewer = "lower dataset.samples or set train.batch"
		}
		bad("train", "training the largest generator set would need about %.1f GiB (estimated from %d training points, %d evaluation points, ℓ, generator.hidden and N_g), over the bound of %d GiB (MaxGeneratorMemory); %s, use smaller hidden layers, a smaller ℓ or fewer generators", float64(mem)/(1<<30), pts, s.Train.EvalPoints, MaxGeneratorMemory>>30, fewer)
	}
	if rules >= RulesCurrent && s.Dataset.Kind == "analytic" && s.Train.MaxPoints > 0 {
		bad("train.max_points", "caps the training latents of MNIST, images and tables; an analytic oracle trains on its dataset.samples points (%d): set dataset.samples instead, or train.batch for mini-batches", s.Dataset.Samples)
	}
	t := s.Train
	epochs("train.epochs", t.Epochs, true)
	positive("train.lr", t.LR)
	positive("train.epsilon", t.Epsilon)
	if t.Batch < 0 {
		bad("train.batch", "must be ≥ 0 (0 = full batch), got %d", t.Batch)
	}
	nonNeg("train.h_norm", t.HNorm)
	nonNeg("train.h_ortho", t.HOrtho)
	nonNeg("train.h_closure", t.HClosure)
	inRange("train.max_points", t.MaxPoints, 0, " (0 = all)", MaxPoints, "MaxPoints")
	inRange("train.eval_points", t.EvalPoints, 10, "", MaxPoints, "MaxPoints")
	if t.CheckpointEvery < 1 {
		bad("train.checkpoint_every", "must be ≥ 1 epoch, got %d", t.CheckpointEvery)
	}
	if t.EarlyStop {
		if t.EarlyStopWindow < 1 {
			bad("train.early_stop_window", "must be ≥ 1 epoch when early_stop is on, got %d (default 250)", t.EarlyStopWindow)
		}
		if !(t.EarlyStopTol >= 0) || math.IsInf(t.EarlyStopTol, 0) {
			bad("train.early_stop_tol", "must be a finite number ≥ 0, got %v (default 0.01: 1%% relative improvement per window)", t.EarlyStopTol)
		}
	}
	mnist := s.Dataset.Images()
	learned := mnist || s.Dataset.Kind == "table"
	if s.Train.InvLoss != "" {
		oneOf("train.inv_loss", s.Train.InvLoss, "raw", "ratio")
	}
	// a table with ℓ below its features trains an MLP autoencoder
	tableAE := s.Dataset.Kind == "table" && slices.ContainsFunc(s.LatentDims, func(l int) bool { return l < s.Dataset.Columns })
	epochs("autoencoder.epochs", s.Autoencoder.Epochs, mnist || tableAE)
	epochs("oracle_net.epochs", s.OracleNet.Epochs, learned)
	epochs("classifier.epochs", s.Classifier.Epochs, mnist)
	if mnist || tableAE {
		positive("autoencoder.lr", s.Autoencoder.LR)
		if s.Autoencoder.Batch < 1 {
			bad("autoencoder.batch", "must be ≥ 1, got %d", s.Autoencoder.Batch)
		}
	}
	if mnist {
		positive("classifier.lr", s.Classifier.LR)
		if s.Classifier.Batch < 1 {
			bad("classifier.batch", "must be ≥ 1, got %d", s.Classifier.Batch)
		}
	}
	if learned {
		positive("oracle_net.lr", s.OracleNet.LR)
		if s.OracleNet.Batch < 1 {
			bad("oracle_net.batch", "must be ≥ 1, got %d", s.OracleNet.Batch)
		}
	}
	oneOf("oracle_net.preserve", s.OracleNet.Preserve, "logits", "probabilities")
	if rules >= RulesCurrent {
		s.checkStageMemory(bad, mnist, learned)
	}
	v := s.Verdict
	positive("verdict.inv_ratio", v.InvRatio)
	positive("verdict.ortho_cos2", v.OrthoCos2)
	positive("verdict.norm_dev", v.NormDev)
	positive("verdict.closure_rel", v.ClosureRel)
	if v.Quorum < 1 || v.Quorum > len(s.Seeds) && len(s.Seeds) > 0 {
		bad("verdict.quorum", "must be between 1 and the number of seeds (%d), got %d", len(s.Seeds), v.Quorum)
	}
	inRange("concurrency", s.Concurrency, 1, "", MaxConcurrency, "MaxConcurrency: no more groups than trials can run at once")
	if s.Adaptive.MaxNG < 0 || s.Adaptive.MaxNG > MaxNG {
		bad("adaptive.max_ng", "must be in 0…%d (0 = ℓ²; MaxNG), got %d", MaxNG, s.Adaptive.MaxNG)
	}
	if s.Adaptive.Patience < 1 {
		bad("adaptive.patience", "must be ≥ 1, got %d", s.Adaptive.Patience)
	}
	errs = append(errs, s.validateAxes(errs, rules)...)
	if len(errs) == 0 {
		return nil
	}
	return errors.Join(append([]error{ErrInvalidSpec}, errs...)...)
}

// generatorWeights returns the weights of the largest generator set the
// spec can train, with its ℓ and N_g: N_g·ℓ² for linear generators,
// N_g·Σ(in·out + out) over the layers ℓ → hidden… → ℓ of an MLP. The
// largest N_g is the largest entry of ng or, in adaptive mode, the limit
// of the ascent (adaptive.max_ng, or ℓ² when it is 0, at most MaxNG and,
// for linear generators, ℓ²). ok is false when
// the sizes are out of their own bounds (reported by Validate), so the
// products cannot overflow.
func (s *Spec) generatorWeights() (weights, latent, ng int, ok bool) {
	g := s.Generator
	if len(g.Hidden) > MaxHiddenLayers || slices.ContainsFunc(g.Hidden, func(h int) bool { return h < 1 || h > MaxHiddenWidth }) {
		return 0, 0, 0, false
	}
	for _, l := range s.LatentDims {
		if l < 1 || l > max(MaxDim, MaxLatentDim) {
			return 0, 0, 0, false
		}
		n := 0
		for _, v := range s.NG {
			if v < 1 || v > MaxNG {
				return 0, 0, 0, false
			}
			n = max(n, v)
		}
		if s.Adaptive.Enabled {
			limit := s.Adaptive.MaxNG
			if limit == 0 {
				limit = l * l
			}
			limit = min(limit, MaxNG) // where NewAscent stops
			if g.Kind == "linear" {
				limit = min(limit, l*l)
			}
			n = max(n, limit)
		}
		per := l * l
		if g.Kind == "mlp" {
			per = 0
			sizes := append(append([]int{l}, g.Hidden...), l)
			for i := 1; i < len(sizes); i++ {
				per += sizes[i-1]*sizes[i] + sizes[i]
			}
		}
		if n*per > weights {
			weights, latent, ng = n*per, l, n
		}
	}
	return weights, latent, ng, true
}

// GeneratorMemory estimates the peak memory, in bytes, of training the
// spec's largest generator set and analysing it: per training point and
// generator the graph holds the field, its Jacobian (ℓ² values) and each
// hidden layer's activations and derivatives, a few times over for the
// gradients; per evaluation point and generator the closure analysis
// holds the MLP's Jacobian through every layer. The coefficients were
// fitted to the peak RSS of `liesweep train` and round up (linear and MLP,
// ℓ = 8…256, 400…8000 points, hidden 16…2048, N_g 1…6; 2026-12-07): per
// training point and generator 8 KiB + 20 B·ℓ² + 64 B per hidden unit,
// per evaluation point and generator of an MLP 8 B·ℓ·(ℓ + hidden units),
// plus 128 MiB (the process, with OpenBLAS's buffers). The training
// points are train.batch when set, else dataset.samples (analytic), else
// train.max_points; ok is false when they are not known before the data
// is read (tables and images without max_points) or the sizes are out of
// their own bounds. TestMemoryEstimateBoundsPeak (worker) checks it
// against measured peaks.
func (s *Spec) GeneratorMemory() (bytes int64, points int, ok bool) {
	return s.generatorMemory(RulesCurrent)
}

// generatorMemory is GeneratorMemory under rules: before RulesCurrent it
// left the analysis out, counted 32 B per hidden unit and read
// max_points for analytic oracles too.
func (s *Spec) generatorMemory(rules Rules) (bytes int64, points int, ok bool) {
	_, l, n, ok := s.generatorWeights()
	if !ok || n == 0 {
		return 0, 0, false
	}
	analytic := s.Dataset.Kind == "analytic"
	switch {
	case s.Train.Batch > 0:
		points = s.Train.Batch
	case analytic && rules >= RulesCurrent:
		points = s.Dataset.Samples
	case s.Train.MaxPoints > 0:
		points = s.Train.MaxPoints
	case analytic:
		points = s.Dataset.Samples
	}
	if analytic && s.Dataset.Samples > 0 && (points == 0 || s.Dataset.Samples < points) {
		points = s.Dataset.Samples
	}
	if points <= 0 {
		return 0, 0, false
	}
	perHidden, hidden := int64(32), int64(0)
	if rules >= RulesCurrent {
		perHidden = 64
	}
	if s.Generator.Kind == "mlp" {
		for _, h := range s.Generator.Hidden {
			hidden += int64(h)
		}
	}
	L := int64(l)
	base := int64(64 << 20)
	if rules >= RulesCurrent {
		// the process itself: OpenBLAS's thread buffers alone add ~30 MiB
		base = 128 << 20
	}
	bytes = base + int64(points)*int64(n)*(8<<10+20*L*L+perHidden*hidden)
	if rules >= RulesCurrent && hidden > 0 {
		bytes += int64(s.Train.EvalPoints) * int64(n) * 8 * L * (L + hidden)
	}
	return bytes, points, true
}

// ImageBatchMemory estimates the peak memory of training a conv network
// of the spec's images (the autoencoder, φ) on batches of batch images:
// 512 MiB (the data and the process) and 512 B per input pixel of the
// batch, fitted to MNIST, whose peak grew by 360 KB per 784-pixel image
// from batch 256 to 1024 (2026-12-07).
func (s *Spec) ImageBatchMemory(batch int) int64 {
	px := int64(28 * 28)
	if sh := s.Dataset.ImageShape; len(sh) == 3 {
		px = int64(sh[0]) * int64((sh[1]+3)/4*4) * int64((sh[2]+3)/4*4)
	}
	return 512<<20 + int64(batch)*px*512
}

// OracleMemory estimates the peak memory of training ψ's MLP: 64 MiB, 16 B
// per weight (the float32 weights, their gradients and Adam's two
// moments) and 32 B per hidden unit for each row of a batch (activations
// and their gradients). It also returns the weights.
func (s *Spec) OracleMemory() (bytes, weights int64) {
	hidden := s.OracleNet.Hidden
	if len(hidden) == 0 {
		hidden = []int{128, 128, 32} // the paper's ψ
	}
	in := s.Dataset.Columns
	for _, l := range s.LatentDims {
		in = max(in, l)
	}
	sizes := append(append([]int{max(in, 1)}, hidden...), 16) // ≤ 16 outputs: classes or a target
	units := int64(0)
	for i := 1; i < len(sizes); i++ {
		weights += int64(sizes[i-1]+1) * int64(sizes[i])
		units += int64(sizes[i])
	}
	return 64<<20 + 16*weights + 32*int64(s.OracleNet.Batch)*units, weights
}

// checkStageMemory bounds the training stages before the generators by
// the generators' bounds: MaxGeneratorWeights for ψ's weights and
// MaxGeneratorMemory for the estimated peak of each (a batch had no upper
// bound: autoencoder.batch 60000 needed about 21 GiB).
func (s *Spec) checkStageMemory(bad func(field, format string, args ...any), images, learned bool) {
	if images {
		for _, st := range []struct {
			field string
			batch int
		}{{"autoencoder.batch", s.Autoencoder.Batch}, {"classifier.batch", s.Classifier.Batch}} {
			if mem := s.ImageBatchMemory(st.batch); st.batch > 0 && mem > MaxGeneratorMemory {
				bad(st.field, "%d images a batch would need about %.1f GiB to train the conv network on, over the bound of %d GiB (MaxGeneratorMemory); use a batch of at most %d", st.batch, float64(mem)/(1<<30), MaxGeneratorMemory>>30, (MaxGeneratorMemory-512<<20)/(s.ImageBatchMemory(1)-512<<20))
			}
		}
	}
	if learned && s.OracleNet.ONNX == "" && s.OracleNet.Batch > 0 {
		mem, w := s.OracleMemory()
		switch {
		case w > MaxGeneratorWeights:
			bad("oracle_net.hidden", "ψ would have %d weights, over the bound of %d (MaxGeneratorWeights); use fewer or narrower hidden layers", w, MaxGeneratorWeights)
		case mem > MaxGeneratorMemory:
			bad("oracle_net.batch", "training ψ on batches of %d rows would need about %.1f GiB, over the bound of %d GiB (MaxGeneratorMemory); use a smaller batch or narrower hidden layers", s.OracleNet.Batch, float64(mem)/(1<<30), MaxGeneratorMemory>>30)
		}
	}
}

// unread says why a key's section is not read by the spec's dataset ("" when
// it is): the autoencoder and φ train on images (and a table's
// autoencoder when ℓ is below its features), ψ is learned from images
// and tables (and imported with oracle_net.onnx).
func (s *Spec) unread(key string) string {
	section, _, _ := strings.Cut(key, ".")
	d := s.Dataset
	images := d.Images()
	// a table's columns are known once it is read: until then its
	// autoencoder may train
	tableAE := d.Kind == "table" && (d.Columns == 0 || slices.ContainsFunc(s.LatentDims, func(l int) bool { return l < d.Columns }))
	switch {
	case section == "autoencoder" && !images && !tableAE:
		return fmt.Sprintf("a %s dataset trains no autoencoder", d.Kind)
	case section == "classifier" && !images:
		return fmt.Sprintf("a %s dataset trains no classifier φ", d.Kind)
	case section == "oracle_net" && d.Kind == "analytic":
		return "an analytic oracle is a formula: no ψ is trained"
	case section == "oracle_net" && s.OracleNet.ONNX != "" && key != "oracle_net.preserve":
		return "ψ is imported (oracle_net.onnx), not trained"
	}
	return ""
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

// swept reports whether key is one of the spec's axes.
func (s *Spec) swept(key string) bool {
	for _, a := range s.Axes {
		if a.Key == key {
			return true
		}
	}
	return false
}

// validateAxes checks the swept keys, the size of the whole grid, and every
// combination as a spec of its own (its errors name the combination).
func (s *Spec) validateAxes(base []error, rules Rules) []error {
	if len(s.Axes) == 0 {
		return nil
	}
	var errs []error
	seen := map[string]bool{}
	n := 1
	for _, a := range s.Axes {
		if err := SweepableKey(a.Key); err != nil {
			errs = append(errs, &FieldError{Field: a.Key, Msg: "is given a list of values, but " + err.Error()})
		}
		if seen[a.Key] {
			errs = append(errs, &FieldError{Field: a.Key, Msg: "is swept twice"})
		}
		seen[a.Key] = true
		if len(a.Values) == 0 {
			errs = append(errs, &FieldError{Field: a.Key, Msg: "a swept key needs at least one value"})
		}
		if rules >= RulesCurrent && len(a.Values) > 1 {
			if why := s.unread(a.Key); why != "" {
				errs = append(errs, &FieldError{Field: a.Key, Msg: "is swept, but " + why + ": every combination would train the same trials again; give it one value"})
			}
		}
		vals := map[string]bool{}
		for _, v := range a.Values {
			if rules < Rules1207 {
				break
			}
			if f := FormatValue(v); vals[f] {
				errs = append(errs, &FieldError{Field: a.Key, Msg: fmt.Sprintf("lists the value %s twice (each combination would run twice)", f)})
			} else {
				vals[f] = true
			}
		}
		n *= max(1, len(a.Values))
		if n > MaxTrials {
			break
		}
	}
	if len(errs) > 0 {
		return errs
	}
	if trials := n * len(s.LatentDims) * len(s.NG) * len(s.Seeds); trials > MaxTrials {
		return []error{&FieldError{Field: s.Axes[0].Key, Msg: fmt.Sprintf("the %d combinations of the swept keys × latent_dims × ng × seeds make %d trials, over the bound of %d (MaxTrials)", n, trials, MaxTrials)}}
	}
	combos, err := s.Combos()
	if err != nil {
		return []error{err}
	}
	for _, c := range combos {
		if err := c.Spec.validate(rules); err != nil {
			var fe *FieldError
			for _, e := range flatten(err) {
				if errors.As(e, &fe) && !reported(base, fe) {
					errs = append(errs, &FieldError{Field: fe.Field, Msg: fmt.Sprintf("in the combination %s: %s", c.Label, fe.Msg)})
				}
			}
		}
	}
	return errs
}

// reported reports whether the base spec's errors already hold fe (a
// problem every combination shares is said once).
func reported(base []error, fe *FieldError) bool {
	for _, e := range base {
		if b, ok := e.(*FieldError); ok && b.Field == fe.Field && b.Msg == fe.Msg {
			return true
		}
	}
	return false
}

// flatten lists the errors an errors.Join holds.
func flatten(err error) []error {
	if _, ok := err.(*FieldError); ok {
		return []error{err}
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

// checkSolvable refuses the N_g whose analysis has no answer, before
// anything trains: more linear generators than ℓ² (gl(ℓ) has dimension ℓ²,
// so more cannot be linearly independent and the structure constants'
// least squares is singular), and, for an analytic oracle, more
// generators than the values each field has on the evaluation points
// (min(samples, eval_points) · ℓ: the least squares needs at least one
// value per unknown). A table's or an image set's evaluation points are
// counted when its data is read; the analysis refuses the same shapes
// there.
func (s *Spec) checkSolvable(bad func(field, format string, args ...any)) {
	latents := s.LatentDims
	if s.Dataset.Kind == "analytic" {
		latents = []int{s.Dataset.Dim}
	}
	for _, n := range s.NG {
		for _, l := range latents {
			if l < 1 || n < 1 {
				continue // reported by their own checks
			}
			if s.Generator.Kind == "linear" && n > l*l {
				bad("ng", "N_g = %d linear generators in ℓ = %d dimensions: at most ℓ² = %d can be linearly independent (gl(ℓ) has dimension ℓ²); use N_g ≤ %d or generator.kind: mlp", n, l, l*l, l*l)
				return
			}
			if s.Dataset.Kind == "analytic" && s.Dataset.Samples > 0 && s.Train.EvalPoints > 0 {
				if m := min(s.Dataset.Samples, s.Train.EvalPoints); n > m*l {
					bad("ng", "N_g = %d generators on %d evaluation points in ℓ = %d dimensions: their structure constants are solved by least squares over the %d values of each field, fewer than the %d unknowns; raise dataset.samples and train.eval_points to at least %d, or lower N_g", n, m, l, m*l, n, (n+l-1)/l)
					return
				}
			}
		}
	}
}
