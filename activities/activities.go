// Package activities runs the stages of a trial as Temporal activities:
// each is idempotent (a stage whose output is stored is not run again),
// heartbeats its progress, resumes from the last checkpoint in the artifact
// store when retried, and classifies its errors (bad spec, corrupt data,
// NaN loss: non-retryable; everything else: retried).
package activities

import (
	"context"
	"errors"
	"fmt"
	"log"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/liesweep/liesweep/datasets"
	"github.com/liesweep/liesweep/models"
	"github.com/liesweep/liesweep/pipeline"
	"github.com/liesweep/liesweep/sweeps"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
)

// Activities holds what the stages need: the store, where MNIST is, and
// the worker's identity. Workflows call its methods through a nil pointer.
type Activities struct {
	Store    sweeps.ArtifactStore
	MNISTDir string
	// Worker names this worker (host, GPU) in results and heartbeats.
	Worker string

	mu     sync.Mutex
	runner *pipeline.Runner
}

// Heartbeat is the detail every heartbeat carries.
type Heartbeat struct {
	Worker string             `json:"worker"`
	Combo  int                `json:"combo,omitempty"`
	Latent int                `json:"latent"`
	NG     int                `json:"ng,omitempty"` // 0 for PrepareLatent
	Seed   int                `json:"seed"`
	Stage  string             `json:"stage"`
	Epoch  int                `json:"epoch"`
	Epochs int                `json:"epochs"`
	Losses map[string]float64 `json:"losses,omitempty"`
	Note   string             `json:"note,omitempty"`
}

// heartbeatEvery is how often a running stage heartbeats even between
// epochs (an autoencoder epoch on all of MNIST takes minutes), so a killed
// worker is noticed within the HeartbeatTimeout and a cancel is delivered.
const heartbeatEvery = 2 * time.Second

// withRunner runs f with a pipeline runner whose progress heartbeats ctx.
// The MNIST files are loaded once per worker.
func (a *Activities) withRunner(ctx context.Context, t sweeps.Trial, f func(r *pipeline.Runner) error) error {
	a.mu.Lock()
	if a.runner == nil {
		a.runner = &pipeline.Runner{Store: a.Store, MNISTDir: a.MNISTDir, Worker: a.Worker}
	}
	shared := a.runner
	a.mu.Unlock()
	var mu sync.Mutex
	last := Heartbeat{Worker: a.Worker, Combo: t.Combo, Latent: t.Latent, NG: t.NG, Seed: t.Seed, Note: "starting"}
	beat := func() {
		mu.Lock()
		hb := last
		mu.Unlock()
		activity.RecordHeartbeat(ctx, hb)
	}
	// Progress only updates the detail; the ticker sends it. An activity
	// shorter than heartbeatEvery sends no heartbeat at all (the server's
	// heartbeat timer runs from its start): in a sweep of thousands of
	// short trials each heartbeat is a server write.
	r := shared.WithProgress(func(e pipeline.Event) {
		mu.Lock()
		last = Heartbeat{Worker: a.Worker, Combo: t.Combo, Latent: t.Latent, NG: t.NG, Seed: t.Seed, Stage: e.Stage, Epoch: e.Epoch, Epochs: e.Epochs, Losses: e.Losses, Note: e.Message}
		mu.Unlock()
	})
	done := make(chan struct{})
	defer close(done)
	go func() {
		t := time.NewTicker(heartbeatEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				beat()
			}
		}
	}()
	return runGuarded(func() error { return f(r) })
}

// handBackOnStop makes the trainings under ctx watch the worker's stop
// channel: when the worker is told to stop (SIGINT/SIGTERM, a Nomad drain)
// each training checkpoints at the end of its epoch and returns
// models.ErrHandedBack, a retryable error, so another worker resumes it
// from there (worker.Options.StopTimeout bounds the wait).
func handBackOnStop(ctx context.Context) context.Context {
	return models.WithStop(ctx, activity.GetWorkerStopChannel(ctx))
}

// runGuarded runs f and turns a panic into a non-retryable "Panic" error:
// a panic in a stage is a bug that fails the same way on every attempt,
// so retrying it for the activity's whole retry policy (20 attempts, ~16
// minutes) only hides it from `sweep status`. The stack goes to the
// worker's log.
func runGuarded(f func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			log.Printf("panic in an activity: %v\n%s", p, debug.Stack())
			err = temporal.NewNonRetryableApplicationError(fmt.Sprintf("internal error: %v (a bug in liesweep, not in your spec or data: the worker's log has the stack; retrying would fail the same way)", p), "Panic", nil)
		}
	}()
	return f()
}

// classify turns errors that retrying cannot fix into non-retryable
// application errors with a message saying what to do.
func classify(err error) error {
	if err == nil {
		return nil
	}
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.Is(err, sweeps.ErrInvalidSpec):
		return temporal.NewNonRetryableApplicationError(err.Error(), "InvalidSpec", err)
	case errors.Is(err, models.ErrNonFinite):
		return temporal.NewNonRetryableApplicationError(err.Error(), "NonFiniteLoss", err)
	case errors.Is(err, sweeps.ErrCorrupt):
		return temporal.NewNonRetryableApplicationError(err.Error()+" (delete the corrupt object and resume the sweep)", "CorruptArtifact", err)
	case errors.Is(err, sweeps.ErrStageMissing):
		return temporal.NewNonRetryableApplicationError(err.Error(), "StageMissing", err)
	case errors.Is(err, datasets.ErrBadData):
		return temporal.NewNonRetryableApplicationError(err.Error(), "BadData", err)
	case errors.Is(err, datasets.ErrMNISTNotFound), errors.Is(err, datasets.ErrMNISTCorrupt):
		return temporal.NewNonRetryableApplicationError(err.Error(), "MissingData", err)
	}
	return err
}

// PrepareInput names the (ℓ, seed) whose autoencoder, latents and oracle
// to prepare.
type PrepareInput struct {
	Spec   sweeps.Spec
	Latent int
	Seed   int
	// Combo is the hyperparameter combination's index: its heartbeats say
	// which (ℓ, seed) of which combination they are.
	Combo int `json:",omitempty"`
}

// PrepareOutput reports the prepared stages.
type PrepareOutput struct {
	Stages         []sweeps.StageRun
	OracleAccuracy float64
	Worker         string
}

// PrepareLatent trains (or reuses) the autoencoder, encodes the images (or,
// for a table, standardises its seeded split) and
// trains (or reuses) the oracle of one (ℓ, seed). Analytic specs need none
// of it and return at once.
func (a *Activities) PrepareLatent(ctx context.Context, in PrepareInput) (PrepareOutput, error) {
	out := PrepareOutput{Worker: a.Worker}
	if in.Spec.Dataset.Kind == "analytic" {
		return out, nil
	}
	ctx = handBackOnStop(ctx)
	err := a.withRunner(ctx, sweeps.Trial{Latent: in.Latent, Seed: in.Seed, Combo: in.Combo}, func(r *pipeline.Runner) error {
		var err error
		out.Stages, out.OracleAccuracy, err = r.Prepare(ctx, &in.Spec, sweeps.Trial{Latent: in.Latent, Seed: in.Seed})
		if errors.Is(err, models.ErrNonFinite) {
			// a diverged autoencoder, ψ or φ is the outcome of every trial
			// of this (ℓ, seed): each trial's training records it as a
			// failed result (TrainGenerators), so the verdict counts them
			log.Printf("prepare ℓ=%d seed=%d: %v (the trials that need it fail with this as their note)", in.Latent, in.Seed, err)
			return nil
		}
		return err
	})
	return out, classify(err)
}

// TrialInput names one trial of a sweep.
type TrialInput struct {
	SweepID string
	Spec    sweeps.Spec
	Trial   sweeps.Trial
	// Known are the stage runs of earlier activities of this trial
	// (PrepareLatent, TrainGenerators), recorded in its result.
	Known []sweeps.StageRun
	// Combo names the trial's hyperparameter combination; Spec is then that
	// combination's concrete spec.
	Combo *sweeps.Combo `json:",omitempty"`
}

// TrainOutput reports how the generators were trained.
type TrainOutput struct {
	Stage  sweeps.StageRun
	Worker string
}

// TrainGenerators trains (or reuses) the generators of one trial, resuming
// from the checkpoint in the store when a previous attempt was interrupted.
func (a *Activities) TrainGenerators(ctx context.Context, in TrialInput) (TrainOutput, error) {
	out := TrainOutput{Worker: a.Worker}
	ctx = handBackOnStop(ctx)
	err := a.withRunner(ctx, in.Trial, func(r *pipeline.Runner) error {
		var err error
		out.Stage, err = r.TrainGeneratorsStage(ctx, &in.Spec, in.Trial)
		if tf := (*pipeline.TrialFailedError)(nil); errors.As(err, &tf) {
			// the trial's outcome, not the activity's failure: a failed
			// result (null metrics, the reason as a note) that
			// AnalyzeClosure finds and returns, so the verdict counts
			// it as failed instead of dropping it
			_, err = r.FailTrial(ctx, &in.Spec, in.Trial, pipeline.Out{Sweep: in.SweepID, Key: sweeps.ResultKey(in.SweepID, in.Trial), Combo: in.Combo.OrZero()}, tf)
		}
		return err
	})
	return out, classify(err)
}

// AnalyzeClosure analyses one trial's trained generators (structure
// constants, metrics, algebra), judges it, and stores its result once,
// under the sweep: sweeps/<id>/results/l<ℓ>-ng<N>-seed<S>.json (a retry
// finds it there). It never trains: a stage that is not stored is a
// non-retryable StageMissing error naming its key.
func (a *Activities) AnalyzeClosure(ctx context.Context, in TrialInput) (sweeps.TrialResult, error) {
	// The analysis keeps nothing worth waiting for (at ℓ = 16, N_g = 32
	// it runs 80 s): when the worker stops, it is abandoned at once and
	// the activity handed back to run again elsewhere, instead of holding
	// the worker for its whole stop timeout and being dropped anyway.
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := activity.GetWorkerStopChannel(ctx)
	go func() {
		select {
		case <-stop:
			cancel()
		case <-actx.Done():
		}
	}()
	var res *sweeps.TrialResult
	err := a.withRunner(ctx, in.Trial, func(r *pipeline.Runner) error {
		var err error
		res, err = r.AnalyzeTrial(actx, &in.Spec, in.Trial, pipeline.Out{Sweep: in.SweepID, Key: sweeps.ResultKey(in.SweepID, in.Trial), Combo: in.Combo.OrZero()}, in.Known...)
		return err
	})
	if err != nil && ctx.Err() == nil && actx.Err() != nil {
		// stopped by the worker, not cancelled by the sweep: retryable
		err = fmt.Errorf("closure analysis of ℓ=%d N_g=%d seed=%d handed back: the worker is stopping (the next attempt analyses again)", in.Trial.Latent, in.Trial.NG, in.Trial.Seed)
	}
	if err != nil {
		return sweeps.TrialResult{}, classify(err)
	}
	// The workflow needs the verdict, not the constants: a result of many
	// generators is megabytes, and a sweep's history is capped at 50 MB.
	return res.Brief(), nil
}

// AggregateInput names a finished sweep.
type AggregateInput struct {
	SweepID string
	Spec    sweeps.Spec
}

// AggregateOutput summarises the verdict.
type AggregateOutput struct {
	VerdictKey string
	Groups     []GroupSummary
}

// GroupSummary is one (dataset, ℓ) line of the verdict.
type GroupSummary struct {
	Dataset    string
	LatentDim  int
	MaxNG      int
	Bounded    bool
	MaxNGFlows int
	// HyperLabel names the group's hyperparameter combination ("" without
	// axes).
	HyperLabel string `json:",omitempty"`
}

// Aggregate reads every stored result of the sweep, derives the verdict
// and stores it as sweeps/<id>/verdict.json.
func (a *Activities) Aggregate(ctx context.Context, in AggregateInput) (AggregateOutput, error) {
	keys, err := a.Store.List(ctx, sweeps.ResultsPrefix(in.SweepID))
	if err != nil {
		return AggregateOutput{}, err
	}
	var results []sweeps.TrialResult
	for _, k := range keys {
		b, err := a.Store.Get(ctx, k)
		if err != nil {
			return AggregateOutput{}, classify(err)
		}
		var r sweeps.TrialResult
		if err := unmarshal(b, &r); err != nil {
			return AggregateOutput{}, classify(fmt.Errorf("%w: result %s: %v", sweeps.ErrCorrupt, k, err))
		}
		results = append(results, r)
	}
	rep := sweeps.NewVerdictDoc(in.SweepID, in.Spec, results)
	rep.Notes = append(rep.Notes, MissingResults(&in.Spec, in.SweepID, keys)...)
	groups := rep.Groups
	out := AggregateOutput{VerdictKey: sweeps.VerdictKey(in.SweepID)}
	if err := a.Store.Put(ctx, out.VerdictKey, jsonBytes(rep)); err != nil {
		return AggregateOutput{}, err
	}
	for _, g := range groups {
		out.Groups = append(out.Groups, GroupSummary{Dataset: g.Dataset, LatentDim: g.LatentDim, MaxNG: g.MaxNG, Bounded: g.Bounded, MaxNGFlows: g.MaxNGFlows, HyperLabel: g.HyperLabel})
	}
	return out, nil
}

// MissingResults notes every trial of a grid sweep without a stored
// result: it failed (its error is in `sweep status`) or its result object
// was deleted. Without the note the verdict lacked a level and said
// nothing. An adaptive sweep's levels depend on the ascent, so only a grid
// is checked.
func MissingResults(spec *sweeps.Spec, id string, keys []string) []string {
	if spec.Adaptive.Enabled {
		return nil
	}
	combos, err := spec.Combos()
	if err != nil {
		return nil
	}
	have := make(map[string]bool, len(keys))
	for _, k := range keys {
		have[k] = true
	}
	var missing []string
	for _, c := range combos {
		for _, l := range c.Spec.LatentDims {
			for _, ng := range c.Spec.NG {
				for _, seed := range c.Spec.Seeds {
					t := sweeps.Trial{Latent: l, NG: ng, Seed: seed, Combo: c.Index}
					if !have[sweeps.ResultKey(id, t)] {
						missing = append(missing, strings.TrimSuffix(sweeps.ResultFile(t), ".json"))
					}
				}
			}
		}
	}
	if len(missing) == 0 {
		return nil
	}
	const show = 20
	list := strings.Join(missing[:min(show, len(missing))], ", ")
	if len(missing) > show {
		list += fmt.Sprintf(", … (%d in all)", len(missing))
	}
	return []string{fmt.Sprintf("%d trial(s) of the grid have no result and are not in the verdict: %s; each failed (its error is in `liesweep sweep status %s`) or its result object was deleted (`liesweep sweep resume %s` runs it again)", len(missing), list, id, id)}
}
