package sweeps

import (
	"sort"
)

// Losses are the final training losses of a trial (DESIGN §1.2).
type Losses struct {
	Total   float64 `json:"total"`
	Inv     float64 `json:"inv"`
	Norm    float64 `json:"norm"`
	Ortho   float64 `json:"ortho"`
	Closure float64 `json:"closure"`
}

// Metrics are the scale-free measures a trial is judged on (DESIGN §1.4).
type Metrics struct {
	// InvRatio is max_α Σ_i‖ψ(z_i+ε ĝ_α(z_i))−ψ(z_i)‖² / Σ_i‖ψ(z_i+ε u_i)−ψ(z_i)‖²
	// with ĝ_α the unit direction of g_α and u_i random unit vectors: ≪ 1 for
	// a symmetry, ~1 for a direction the oracle sees.
	InvRatio float64 `json:"inv_ratio"`
	// OrthoCos2 is the mean squared cosine between generator pairs, in the
	// inner product the orthogonality loss uses (pointwise or global).
	OrthoCos2 float64 `json:"ortho_cos2"`
	// NormDev is L_norm on the evaluation points.
	NormDev float64 `json:"norm_dev"`
	// ClosureRel is the largest per-pair relative residual
	// ‖C_αβ‖² / ‖[J_α, J_β]‖² of the least-squares structure constants.
	ClosureRel float64 `json:"closure_rel"`
}

// MetricIntervals are 95 % bootstrap intervals of a trial's metrics: the
// 2.5 % and 97.5 % percentiles of each metric over Rounds resamples (with
// replacement) of the evaluation points. A metric whose interval holds its
// threshold could pass or fail on another draw of the points.
type MetricIntervals struct {
	InvRatio   [2]float64 `json:"inv_ratio"`
	OrthoCos2  [2]float64 `json:"ortho_cos2"`
	NormDev    [2]float64 `json:"norm_dev"`
	ClosureRel [2]float64 `json:"closure_rel"`
	Rounds     int        `json:"rounds"`
}

// SparseBasis is the generators rotated, within their span, to the basis
// with the fewest non-zero entries (Forestano et al., "Discovering sparse
// representations of Lie groups with machine learning"): for so(n) the
// familiar L_ij, for the Lorentz algebra boosts and rotations apart.
type SparseBasis struct {
	// Matrices are the rotated generators, each scaled so its largest
	// |entry| is 1, entries below 1e-3 of that set to 0.
	Matrices [][][]float64 `json:"matrices"`
	// StructureConstants are a_[αβ]γ in this basis, in result.json's bracket
	// convention (the field bracket, −[M_α, M_β] for matrices).
	StructureConstants [][][]float64 `json:"structure_constants"`
	// Rotation maps the learned generators to these: M_α = Σ_β R_αβ G_β.
	Rotation [][]float64 `json:"rotation"`
	// Linearised is true for MLP generators, whose matrices are their
	// Jacobians at Point (the mean of the evaluation points).
	Linearised bool      `json:"linearised,omitempty"`
	Point      []float64 `json:"point,omitempty"`
}

// ResultSchemaVersion is the version of result.json's schema, written as
// its schema_version (results stored before it was written read as 0).
const ResultSchemaVersion = 1

// TrialResult is result.json: everything one trial (dataset, ℓ, N_g, seed)
// measured. Its schema is documented in the README.
type TrialResult struct {
	// SchemaVersion is ResultSchemaVersion (0 in results stored before it was written).
	SchemaVersion int `json:"schema_version,omitempty"`

	Sweep string `json:"sweep,omitempty"`
	// Combo, Hyper and HyperLabel name the trial's hyperparameter
	// combination when the spec sweeps some (Spec.Axes).
	Combo      int            `json:"combo,omitempty"`
	Hyper      map[string]any `json:"hyper,omitempty"`
	HyperLabel string         `json:"hyper_label,omitempty"`
	Dataset    string         `json:"dataset"`
	NG         int            `json:"ng"`
	LatentDim  int            `json:"latent_dim"`
	Seed       int            `json:"seed"`
	Passed     bool           `json:"passed"`
	// FlowsPassed is true when every criterion but closure passed.
	FlowsPassed  bool      `json:"flows_passed"`
	FailedOn     []string  `json:"failed_on"`
	Losses       Losses    `json:"losses"`
	Metrics      Metrics   `json:"metrics"`
	Thresholds   Verdict   `json:"thresholds"`
	PairResidual []float64 `json:"pair_residuals"`
	// PairOrtho[p] is the squared cosine between the generators of the
	// p-th pair (α < β, in order): which flows are distinct.
	PairOrtho []float64 `json:"pair_ortho,omitempty"`
	// StructureConstants[α][β][γ] = a_[αβ]γ with [J_α, J_β] ≈ Σ_γ a_[αβ]γ J_γ,
	// the bracket being [J_α,J_β](z) = DJ_β(z)·J_α(z) − DJ_α(z)·J_β(z).
	StructureConstants [][][]float64 `json:"structure_constants"`
	// SparseBasis is the generators in their sparsest basis (absent when
	// it could not be computed: see SparseBasisNote).
	SparseBasis     *SparseBasis `json:"sparse_basis,omitempty"`
	SparseBasisNote string       `json:"sparse_basis_note,omitempty"`
	// JointConstants are the a_[αβ]γ trained with the generators (closure: joint).
	JointConstants [][][]float64 `json:"joint_constants,omitempty"`
	Algebra        Algebra       `json:"algebra"`
	OracleAccuracy *float64      `json:"oracle_accuracy,omitempty"`
	// OracleR2 is a regression ψ's R² on the validation rows (tables).
	OracleR2 *float64 `json:"oracle_r2,omitempty"`
	// MetricIntervals are the metrics' 95 % bootstrap intervals over the
	// evaluation points (absent in results written before liesweep
	// measured them).
	MetricIntervals *MetricIntervals `json:"metric_intervals,omitempty"`
	// OracleRank is the rank of ψ's Jacobian ∂ψ that most evaluation
	// points have (models.OracleRank); absent in results written before
	// liesweep measured it.
	OracleRank *int `json:"oracle_rank,omitempty"`
	// TrivialFlows is ℓ − OracleRank for MLP generators: the number of
	// independent fields tangent to ψ's level sets that exist for any
	// oracle of that rank, so that up to that many passing flows are not
	// by themselves a discovery (issue 20). Absent for linear generators,
	// whose flows are non-trivial from N_g = 1.
	TrivialFlows   *int     `json:"trivial_flows,omitempty"`
	AutoencoderMSE *float64 `json:"autoencoder_mse,omitempty"`
	Epochs         int      `json:"epochs"`
	// EpochsRun is how many epochs the generators trained: Epochs, or fewer
	// when early_stop ended training on a plateau (StoppedEarly).
	EpochsRun    int  `json:"epochs_run,omitempty"`
	StoppedEarly bool `json:"stopped_early,omitempty"`
	// Stages lists each stage's wall time and whether it was reused from the store.
	Stages    []StageRun        `json:"stages"`
	Worker    string            `json:"worker,omitempty"`
	Artifacts map[string]string `json:"artifacts,omitempty"`
	// Notes say what of the trial could not be measured or stored, e.g. a
	// collection of floats left out because it held NaN or ±Inf (see
	// MarshalJSON).
	Notes []string `json:"notes,omitempty"`
}

// Brief returns r without its fields that grow with N_g² or N_g³ (pair
// residuals and cosines, structure constants, the sparse basis): what an
// activity returns into a workflow's history, whose size Temporal caps,
// while the full result is in the store.
func (r TrialResult) Brief() TrialResult {
	r.PairResidual, r.PairOrtho, r.StructureConstants, r.JointConstants = nil, nil, nil, nil
	r.SparseBasis = nil
	return r
}

// StageRun records how one stage of a trial ran.
type StageRun struct {
	Stage   string  `json:"stage"`
	Key     string  `json:"key"`
	Seconds float64 `json:"seconds"`
	Reused  bool    `json:"reused"`
	// ResumedFrom is the epoch a resumed stage continued from (0: from scratch).
	ResumedFrom int `json:"resumed_from,omitempty"`
	// Epochs is how many epochs the stage trained (generators: fewer than
	// train.epochs when early_stop ended it on a plateau).
	Epochs int `json:"epochs,omitempty"`
}

// Judge sets Passed, FlowsPassed and FailedOn from the metrics and the
// thresholds. A metric that is not finite (NaN, ±Inf: stored as null)
// fails.
func (r *TrialResult) Judge(v Verdict) {
	r.Thresholds = v
	r.FailedOn = r.FailedOn[:0]
	check := func(name string, got, limit float64) {
		if !finite(got) || !(got <= limit) {
			r.FailedOn = append(r.FailedOn, name)
		}
	}
	check("inv_ratio", r.Metrics.InvRatio, v.InvRatio)
	check("ortho_cos2", r.Metrics.OrthoCos2, v.OrthoCos2)
	check("norm_dev", r.Metrics.NormDev, v.NormDev)
	flows := len(r.FailedOn) == 0
	check("closure_rel", r.Metrics.ClosureRel, v.ClosureRel)
	sort.Strings(r.FailedOn)
	if r.FailedOn == nil {
		r.FailedOn = []string{}
	}
	r.Passed = len(r.FailedOn) == 0
	r.FlowsPassed = flows
}
