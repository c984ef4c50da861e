// Package workflows orchestrates sweeps on Temporal. SweepWorkflow runs a
// sweep's units, one per (combination, ℓ, seed), under a concurrency bound:
// each prepares the autoencoder and oracle once (MNIST) and then trains and
// analyses the generators of every N_g; an Aggregate activity writes the
// verdict. A grid sweep runs its units inline and continues as new before
// its history grows large; an adaptive sweep ascends N_g level by level,
// one LatentWorkflow child per unit. Workflows only orchestrate: all I/O is
// in activities.
package workflows

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/liesweep/liesweep/activities"
	"github.com/liesweep/liesweep/sweeps"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Task queues and the names of the query and signal.
const (
	// TaskQueue serves workflows and the light Aggregate activity.
	TaskQueue = "liesweep"
	// TrainQueue serves the training activities, so GPU workers can serve
	// it apart from the orchestration queue.
	TrainQueue = "liesweep-train"
	// ProgressQuery returns a Progress.
	ProgressQuery = "progress"
	// trialSignal carries TrialStatus updates from children to the sweep.
	trialSignal = "trial-status"
)

// SweepInput starts a sweep.
type SweepInput struct {
	SweepID string
	Spec    sweeps.Spec
	// Carry is set only by SweepWorkflow itself, when a grid sweep
	// continues as new: what the runs before this one did.
	Carry *SweepCarry `json:",omitempty"`
	// Rules, when set, are the validation rules the sweep was accepted
	// under: a run that continues it (ContinueAsNew, `sweep resume`)
	// checks no more than they did, so a check added since never refuses
	// a sweep halfway. Unset: the newest rules the workflow's version
	// allows.
	Rules *sweeps.Rules `json:",omitempty"`
}

// SweepCarry is a grid sweep's state across ContinueAsNew, in a form
// bounded by the sweep's size (sweeps.MaxTrials): how many of the grid's
// units (one LatentWorkflow each, in gridUnits order) have run, and the
// final status of each of their trials.
type SweepCarry struct {
	Next   int
	Trials []TrialStatus
	// Run counts the runs before this one.
	Run int
}

// historyBudget bounds a sweep run's history: a run starts no new unit
// once its history, with what its running units will still add, would
// pass it, and continues as new when they are done. Temporal warns at
// 10,240 events and stops a workflow at 51,200. A variable for tests.
var historyBudget = 8000

// historyBytes bounds a sweep run's history size the same way (Temporal
// stops a workflow at 50 MB); the server may also suggest continuing as new.
var historyBytes = 16 << 20

// maxPendingTrials bounds the trials of a grid sweep in flight at once,
// whatever its concurrency: Temporal allows a workflow 2,000 pending
// activities.
const maxPendingTrials = 1000

// unitEvents bounds the history events a unit of a grid sweep adds: the
// preparation's activity (3 events) and its workflow task (3), and per
// trial two activities (3 each) and a workflow task after each (3 each).
func unitEvents(ngs int) int { return 6 + 12*ngs }

// maxErrorLen bounds a failed trial's error as the sweep carries it, and
// maxCarriedErrors all of them together: a carry must stay well under
// Temporal's 2 MB payload limit even when all 4,096 trials failed.
const (
	maxErrorLen      = 1000
	maxCarriedErrors = 256 << 10
)

// SweepOutput is the sweep's verdict summary (the full verdict is stored).
type SweepOutput struct {
	SweepID    string
	VerdictKey string
	Groups     []activities.GroupSummary
	Failed     []TrialStatus
}

// Trial stages as the progress query reports them.
const (
	StagePending   = "pending"
	StagePreparing = "preparing"
	StageTraining  = "training"
	StageAnalysing = "analysing"
	StageDone      = "done"
	StageFailed    = "failed"
)

// TrialStatus is one trial as the progress query shows it.
type TrialStatus struct {
	// Combo is the hyperparameter combination's index (Spec.Combos).
	Combo    int      `json:"combo,omitempty"`
	Latent   int      `json:"latent"`
	NG       int      `json:"ng"`
	Seed     int      `json:"seed"`
	Stage    string   `json:"stage"`
	Child    string   `json:"child,omitempty"` // workflow ID of its LatentWorkflow
	Passed   *bool    `json:"passed,omitempty"`
	FailedOn []string `json:"failed_on,omitempty"`
	Worker   string   `json:"worker,omitempty"`
	Error    string   `json:"error,omitempty"`
}

// Progress is what ProgressQuery returns.
type Progress struct {
	SweepID string        `json:"sweep"`
	Phase   string        `json:"phase"`
	Trials  []TrialStatus `json:"trials"`
	Verdict string        `json:"verdict,omitempty"`
	// Run counts the times a large sweep continued as new (0 at first).
	Run int `json:"run,omitempty"`

	index map[trialID]int
}

type trialID struct{ combo, latent, ng, seed int }

func (s TrialStatus) id() trialID { return trialID{s.Combo, s.Latent, s.NG, s.Seed} }

func (s TrialStatus) final() bool { return s.Stage == StageDone || s.Stage == StageFailed }

func (p *Progress) update(s TrialStatus) {
	if p.index == nil {
		p.index = map[trialID]int{}
		for i, t := range p.Trials {
			p.index[t.id()] = i
		}
	}
	if i, ok := p.index[s.id()]; ok {
		// A progress signal can arrive after the child's result, or in
		// the next run after a ContinueAsNew: a final status stays.
		if p.Trials[i].final() && !s.final() {
			return
		}
		p.Trials[i] = s
		return
	}
	p.index[s.id()] = len(p.Trials)
	p.Trials = append(p.Trials, s)
}

// finals returns the final statuses, compacted for a carry: errors cut to
// maxErrorLen, and past maxCarriedErrors in all to a pointer at the run
// that saw them.
func (p *Progress) finals() []TrialStatus {
	var out []TrialStatus
	total := 0
	for _, t := range p.Trials {
		if !t.final() {
			continue
		}
		t.Child = ""
		if len(t.Error) > maxErrorLen {
			t.Error = strings.ToValidUTF8(t.Error[:maxErrorLen], "") + "…"
		}
		if total += len(t.Error); total > maxCarriedErrors {
			t.Error = fmt.Sprintf("(error text not carried past %d KB: see run %d of this sweep in Temporal)", maxCarriedErrors>>10, p.Run)
		}
		out = append(out, t)
	}
	return out
}

// stageRetry retries a stage with backoff; non-retryable errors (bad
// spec, NaN loss, corrupt artifact) stop at once.
func stageRetry() *temporal.RetryPolicy {
	return &temporal.RetryPolicy{
		InitialInterval:    time.Second,
		BackoffCoefficient: 2,
		MaximumInterval:    time.Minute,
		MaximumAttempts:    20,
	}
}

// trainOptions are the options of the training activities: long, on the
// training queue, heartbeating, retried with backoff. With waitCancel a
// cancelled workflow waits until the activity has stopped (its next
// heartbeat delivers the cancel): a sweep reported cancelled no longer
// trains anywhere, so a resume started at once cannot race a training
// that is still running and store the same weights twice.
func trainOptions(ctx workflow.Context, waitCancel bool) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:           TrainQueue,
		StartToCloseTimeout: 48 * time.Hour,
		HeartbeatTimeout:    10 * time.Second,
		RetryPolicy:         stageRetry(),
		WaitForCancellation: waitCancel,
	})
}

// analysisOptions run the closure analysis on the orchestration queue: it
// is seconds of CPU, and must not wait behind long trainings for a
// training slot.
func analysisOptions(ctx workflow.Context, waitCancel bool) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:           TaskQueue,
		StartToCloseTimeout: time.Hour,
		HeartbeatTimeout:    10 * time.Second,
		RetryPolicy:         stageRetry(),
		WaitForCancellation: waitCancel,
	})
}

// SweepWorkflow runs a sweep: it validates the spec, fans out the grid
// (or ascends N_g level by level in adaptive mode) with at most
// spec.Concurrency (ℓ, seed) groups at once, and aggregates the verdict.
func SweepWorkflow(ctx workflow.Context, in SweepInput) (SweepOutput, error) {
	spec := in.Spec
	spec.Normalize()
	// Validate and Combos set spec fields by reflection over the struct's
	// tags: deterministic, though workflowcheck cannot see that (reflect's
	// error paths read runtime frames).
	// From version 1 (validate-v2) the workflow checks what the CLI checks
	// since 2026-12-07; a history recorded before replays the checks it
	// passed then.
	// From version 1 of validate-v3 it checks sweeps.RulesCurrent.
	rules := sweeps.RulesOriginal
	if workflow.GetVersion(ctx, "validate-v2", workflow.DefaultVersion, 1) == 1 {
		rules = sweeps.Rules1207
		if workflow.GetVersion(ctx, "validate-v3", workflow.DefaultVersion, 1) == 1 {
			rules = sweeps.RulesCurrent
		}
	}
	if in.Rules != nil && *in.Rules < rules {
		rules = *in.Rules
	}
	in.Rules = &rules                    // what a continuation checks
	verr := spec.ValidateRecorded(rules) //workflowcheck:ignore
	if verr != nil {
		return SweepOutput{}, temporal.NewNonRetryableApplicationError(verr.Error(), "InvalidSpec", nil)
	}
	combos, err := spec.Combos() //workflowcheck:ignore
	if err != nil {
		return SweepOutput{}, temporal.NewNonRetryableApplicationError(err.Error(), "InvalidSpec", nil)
	}
	// runs are the hyperparameter combinations, each a concrete spec; a
	// spec without axes is one run with no combination (its inputs and
	// child IDs are those of sweeps recorded before axes existed).
	var runs []comboRun
	for i := range combos {
		r := comboRun{spec: combos[i].Spec}
		if len(spec.Axes) > 0 {
			r.combo = &combos[i]
		}
		runs = append(runs, r)
	}
	prog := &Progress{SweepID: in.SweepID, Phase: "running"}
	for _, cr := range runs {
		for _, l := range spec.LatentDims {
			for _, seed := range spec.Seeds {
				for _, ng := range spec.NG {
					if spec.Adaptive.Enabled && ng != slices.Min(spec.NG) {
						continue
					}
					prog.update(TrialStatus{Combo: cr.combo.OrZero().Index, Latent: l, NG: ng, Seed: seed, Stage: StagePending})
				}
			}
		}
	}
	if in.Carry != nil {
		prog.Run = in.Carry.Run
		for _, t := range in.Carry.Trials {
			prog.update(t)
		}
	}
	if err := workflow.SetQueryHandler(ctx, ProgressQuery, func() (Progress, error) { return *prog, nil }); err != nil {
		return SweepOutput{}, err
	}
	sig := workflow.GetSignalChannel(ctx, trialSignal)
	workflow.Go(ctx, func(gctx workflow.Context) {
		for {
			var s TrialStatus
			if !sig.Receive(gctx, &s) {
				return
			}
			prog.update(s)
		}
	})

	// From version 1 (sweep-batches) a grid sweep runs its units through
	// runGrid, which keeps the history bounded and continues as new.
	// Adaptive sweeps, and histories recorded before, take the old path.
	var failed []TrialStatus
	if workflow.GetVersion(ctx, "sweep-batches", workflow.DefaultVersion, 1) == 1 && !spec.Adaptive.Enabled {
		f, err := runGrid(ctx, in, &spec, runs, prog)
		if err != nil {
			return SweepOutput{}, err
		}
		failed = f
	} else {
		sem := workflow.NewSemaphore(ctx, int64(spec.Concurrency))
		runLevel := func(ctx workflow.Context, cr comboRun, latents []int, ngs []int) (map[int][]sweeps.TrialResult, error) {
			results := map[int][]sweeps.TrialResult{}
			wg := workflow.NewWaitGroup(ctx)
			var firstErr error
			for _, l := range latents {
				for _, seed := range spec.Seeds {
					l, seed := l, seed
					wg.Add(1)
					workflow.Go(ctx, func(gctx workflow.Context) {
						defer wg.Done()
						if err := sem.Acquire(gctx, 1); err != nil {
							firstErr = err
							return
						}
						defer sem.Release(1)
						out, err := runUnit(gctx, in.SweepID, cr, l, seed, ngs)
						if err != nil {
							if firstErr == nil {
								firstErr = err
							}
							return
						}
						results[l] = append(results[l], out.Results...)
						failed = append(failed, out.Failed...)
						// The child's final statuses, from its result: its
						// progress signals are sent without waiting and may
						// arrive after the sweep's last look (status showed
						// every trial of an adaptive sweep "analysing" for
						// ever). The query state only: no command.
						for _, r := range out.Results {
							passed := r.Passed
							prog.update(TrialStatus{Combo: r.Combo, Latent: r.LatentDim, NG: r.NG, Seed: r.Seed, Stage: StageDone, Passed: &passed, FailedOn: r.FailedOn, Worker: r.Worker, Child: unitID(in.SweepID, cr, l, seed, ngs)})
						}
						for _, f := range out.Failed {
							prog.update(f)
						}
					})
				}
			}
			wg.Wait(ctx)
			return results, firstErr
		}

		runCombo := func(cctx workflow.Context, cr comboRun) error {
			if !cr.spec.Adaptive.Enabled {
				_, err := runLevel(cctx, cr, cr.spec.LatentDims, sortedCopy(cr.spec.NG))
				return err
			}
			return runAdaptive(cctx, &cr.spec, cr.combo.OrZero().Index, prog, func(ls, ngs []int) (map[int][]sweeps.TrialResult, error) {
				return runLevel(cctx, cr, ls, ngs)
			})
		}
		if len(runs) == 1 {
			if err := runCombo(ctx, runs[0]); err != nil {
				return SweepOutput{}, err
			}
		} else {
			// The combinations run side by side, sharing the concurrency bound.
			wg := workflow.NewWaitGroup(ctx)
			var firstErr error
			for _, cr := range runs {
				wg.Add(1)
				workflow.Go(ctx, func(gctx workflow.Context) {
					defer wg.Done()
					if err := runCombo(gctx, cr); err != nil && firstErr == nil {
						firstErr = err
					}
				})
			}
			wg.Wait(ctx)
			if firstErr != nil {
				return SweepOutput{}, firstErr
			}
		}
	}

	prog.Phase = "aggregating"
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:           TaskQueue,
		StartToCloseTimeout: 10 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumAttempts: 10},
	})
	var a *activities.Activities
	var agg activities.AggregateOutput
	if err := workflow.ExecuteActivity(actx, a.Aggregate, activities.AggregateInput{SweepID: in.SweepID, Spec: spec}).Get(ctx, &agg); err != nil {
		return SweepOutput{}, err
	}
	prog.Phase = "done"
	var parts []string
	for _, g := range agg.Groups {
		m := fmt.Sprint(g.MaxNG)
		if !g.Bounded {
			m = "≥ " + m
		}
		combo := ""
		if g.HyperLabel != "" {
			combo = " " + g.HyperLabel // status named no combination
		}
		parts = append(parts, fmt.Sprintf("%s ℓ=%d%s: max N_g %s", g.Dataset, g.LatentDim, combo, m))
	}
	prog.Verdict = strings.Join(parts, "; ")
	return SweepOutput{SweepID: in.SweepID, VerdictKey: agg.VerdictKey, Groups: agg.Groups, Failed: failed}, nil
}

// comboRun is one hyperparameter combination of a sweep as a concrete
// spec; a spec without axes is one run with no combination (its inputs and
// child IDs are those of sweeps recorded before axes existed).
type comboRun struct {
	spec  sweeps.Spec
	combo *sweeps.Combo
}

// runUnit runs one LatentWorkflow: the N_g levels ngs of (ℓ, seed) of a
// combination.
func runUnit(ctx workflow.Context, sweepID string, cr comboRun, l, seed int, ngs []int) (LatentOutput, error) {
	id := unitID(sweepID, cr, l, seed, ngs)
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:          id,
		TaskQueue:           TaskQueue,
		ParentClosePolicy:   enumspb.PARENT_CLOSE_POLICY_REQUEST_CANCEL,
		WaitForCancellation: true,
	})
	var out LatentOutput
	err := workflow.ExecuteChildWorkflow(cctx, LatentWorkflow, LatentInput{
		SweepID: sweepID, Spec: cr.spec, Latent: l, Seed: seed, NGs: ngs,
		ParentID: workflow.GetInfo(ctx).WorkflowExecution.ID, Combo: cr.combo,
	}).Get(ctx, &out)
	return out, err
}

// unitID is the workflow ID of a unit's LatentWorkflow.
func unitID(sweepID string, cr comboRun, l, seed int, ngs []int) string {
	if cr.combo != nil {
		return childID(sweepID+fmt.Sprintf("/h%d", cr.combo.Index), l, seed, ngs)
	}
	return childID(sweepID, l, seed, ngs)
}

// gridUnit is one (combination, ℓ, seed) of a grid sweep, with every N_g.
type gridUnit struct{ run, latent, seed int }

// gridUnits lists a grid sweep's units in the order they start: by
// combination, then ℓ, then seed. A carry's Next indexes this list.
func gridUnits(spec *sweeps.Spec, runs []comboRun) []gridUnit {
	var us []gridUnit
	for r := range runs {
		for _, l := range spec.LatentDims {
			for _, seed := range spec.Seeds {
				us = append(us, gridUnit{r, l, seed})
			}
		}
	}
	return us
}

// runGrid runs a grid sweep's units, at most spec.Concurrency at once,
// from in.Carry.Next on. Each unit runs inline (runLatent), its activities
// scheduled by the sweep itself: no child workflow, and no signal, since
// the unit updates the progress directly. A child and its signals cost the
// server about three times the events of the activities alone, which
// bounded sweeps of tiny trials (docs/performance.md). Before its history
// outgrows historyBudget the sweep stops starting units, waits for the
// running ones and continues as new, carrying the units done and their
// trials' final statuses. It returns the trials that failed with an error.
func runGrid(ctx workflow.Context, in SweepInput, spec *sweeps.Spec, runs []comboRun, prog *Progress) ([]TrialStatus, error) {
	units := gridUnits(spec, runs)
	next := 0
	if in.Carry != nil {
		next = in.Carry.Next
	}
	first := next
	sem := workflow.NewSemaphore(ctx, int64(spec.Concurrency))
	wg := workflow.NewWaitGroup(ctx)
	var firstErr error
	running, trials := 0, 0 // units and trials in flight
	report := func(_ workflow.Context, s TrialStatus) { prog.update(s) }
	for next < len(units) && firstErr == nil {
		if err := sem.Acquire(ctx, 1); err != nil {
			firstErr = err
			break
		}
		u := units[next]
		cr := runs[u.run]
		ngs := sortedCopy(cr.spec.NG)
		// Temporal allows 2,000 pending activities a workflow: a unit runs
		// its N_g trials at once, so wait while too many are in flight.
		if err := workflow.Await(ctx, func() bool { return trials+len(ngs) <= maxPendingTrials || trials == 0 }); err != nil {
			sem.Release(1)
			firstErr = err
			break
		}
		// Every run starts at least one unit, so the sweep always advances.
		info := workflow.GetInfo(ctx)
		grown := info.GetCurrentHistoryLength() + (running+1)*unitEvents(len(ngs))
		full := grown > historyBudget || info.GetCurrentHistorySize() > historyBytes || info.GetContinueAsNewSuggested()
		if firstErr != nil || (next > first && full) {
			sem.Release(1)
			break
		}
		next++
		running++
		trials += len(ngs)
		wg.Add(1)
		workflow.Go(ctx, func(gctx workflow.Context) {
			defer wg.Done()
			defer func() { running--; trials -= len(ngs); sem.Release(1) }()
			_, err := runLatent(gctx, LatentInput{SweepID: in.SweepID, Spec: cr.spec, Latent: u.latent, Seed: u.seed, NGs: ngs, Combo: cr.combo}, report)
			if err != nil && firstErr == nil {
				firstErr = err
			}
		})
	}
	wg.Wait(ctx)
	if firstErr != nil {
		return nil, firstErr
	}
	if next < len(units) {
		// A cancel that came with the last unit's completion must not
		// be carried into a new run, which would not inherit it.
		if ctx.Err() != nil {
			return nil, temporal.NewCanceledError()
		}
		return nil, workflow.NewContinueAsNewError(ctx, SweepWorkflow, SweepInput{
			SweepID: in.SweepID, Spec: in.Spec,
			Carry: &SweepCarry{Next: next, Trials: prog.finals(), Run: prog.Run + 1},
			Rules: in.Rules,
		})
	}
	var failed []TrialStatus
	for _, t := range prog.Trials {
		if t.Stage == StageFailed {
			failed = append(failed, t)
		}
	}
	return failed, nil
}

// runAdaptive ascends N_g level by level (sweeps.Ascent): every active ℓ
// runs the level on all seeds; an ℓ stops after `patience` consecutive
// failed levels; while levels pass past the spec's largest N_g, it extends
// up to max_ng. Since version adaptive-flows a level whose trials pass the
// flow criteria (all but closure) keeps the ascent going too.
func runAdaptive(ctx workflow.Context, spec *sweeps.Spec, combo int, prog *Progress, runLevel func([]int, []int) (map[int][]sweeps.TrialResult, error)) error {
	flows := workflow.GetVersion(ctx, "adaptive-flows", workflow.DefaultVersion, 1) == 1
	a := sweeps.NewAscent(spec, flows)
	// From version 1 (ascent-bounded) the ascent stops at MaxNG and, for
	// linear generators, at ℓ²; histories recorded before replay the
	// unbounded walk.
	if workflow.GetVersion(ctx, "ascent-bounded", workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		a.Uncapped()
	} else if workflow.GetVersion(ctx, "ascent-solvable", workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		// From version 1 (ascent-solvable) it also stops where an
		// analytic oracle's analysis can no longer be solved.
		a.WithoutAnalysisCap()
	}
	for {
		ng, ls := a.Level()
		if len(ls) == 0 {
			return nil
		}
		for _, l := range ls {
			for _, seed := range spec.Seeds {
				prog.update(TrialStatus{Combo: combo, Latent: l, NG: ng, Seed: seed, Stage: StagePending})
			}
		}
		res, err := runLevel(ls, []int{ng})
		if err != nil {
			return err
		}
		a.Record(res)
	}
}

func childID(sweepID string, l, seed int, ngs []int) string {
	parts := make([]string, len(ngs))
	for i, n := range ngs {
		parts[i] = fmt.Sprint(n)
	}
	return fmt.Sprintf("%s/l%d-s%d-ng%s", sweepID, l, seed, strings.Join(parts, "."))
}

func sortedCopy(xs []int) []int {
	out := slices.Clone(xs)
	slices.Sort(out)
	return out
}

// LatentInput is one (ℓ, seed) of a sweep and the N_g levels to run.
type LatentInput struct {
	SweepID  string
	Spec     sweeps.Spec
	Latent   int
	Seed     int
	NGs      []int
	ParentID string
	// Combo is the hyperparameter combination Spec is the concrete spec of
	// (nil when the sweep has no axes).
	Combo *sweeps.Combo `json:",omitempty"`
}

// LatentOutput holds the results of the trials that finished and the
// trials that failed with an error.
type LatentOutput struct {
	Results []sweeps.TrialResult
	Failed  []TrialStatus
}

// LatentWorkflow prepares the autoencoder and oracle of one (ℓ, seed) once
// and then trains and analyses the generators of each N_g, reporting each
// trial's stage to the parent sweep. A trial that fails with a
// non-retryable error (a NaN loss, say) is reported and the others go on.
func LatentWorkflow(ctx workflow.Context, in LatentInput) (LatentOutput, error) {
	self := workflow.GetInfo(ctx).WorkflowExecution.ID
	// report tells the parent sweep a trial's stage (best effort: progress
	// only). It blocks, so it takes the calling coroutine's context.
	//
	// From version 1 (progress-async) the signal is sent without waiting for
	// its delivery: waiting put a round trip through the server before
	// every activity of every trial (the orchestration-overhead benchmark
	// measured it). Histories recorded before replay the old path.
	async := workflow.GetVersion(ctx, "progress-async", workflow.DefaultVersion, 1) == 1
	report := func(rctx workflow.Context, s TrialStatus) {
		s.Child = self
		if in.ParentID == "" {
			return
		}
		f := workflow.SignalExternalWorkflow(rctx, in.ParentID, "", trialSignal, s)
		if !async {
			_ = f.Get(rctx, nil)
		}
	}
	return runLatent(ctx, in, report)
}

// runLatent runs one (ℓ, seed) of a sweep: the prepared stages once, then
// every N_g of in.NGs, concurrently. It is the body of a LatentWorkflow,
// and a grid sweep runs it inline (runGrid); report is told each trial's
// stage.
func runLatent(ctx workflow.Context, in LatentInput, report func(workflow.Context, TrialStatus)) (LatentOutput, error) {
	var a *activities.Activities
	// From version 1 (wait-cancel) a cancel waits for the running
	// activities to stop (trainOptions). Histories recorded before replay
	// the old path.
	waitCancel := workflow.GetVersion(ctx, "wait-cancel", workflow.DefaultVersion, 1) == 1
	ci := in.Combo.OrZero().Index
	trial := func(ng int) sweeps.Trial { return sweeps.Trial{Latent: in.Latent, NG: ng, Seed: in.Seed, Combo: ci} }
	var out LatentOutput
	// From version 1 (analytic-no-prepare) an analytic spec skips the
	// PrepareLatent activity, which has nothing to prepare for it (no
	// autoencoder, no ψ): one activity and its round trips less per (ℓ,
	// seed). Histories recorded before replay the old path.
	skipPrep := in.Spec.Dataset.Kind == "analytic" && workflow.GetVersion(ctx, "analytic-no-prepare", workflow.DefaultVersion, 1) == 1
	var prep activities.PrepareOutput
	if !skipPrep {
		for _, ng := range in.NGs {
			report(ctx, TrialStatus{Combo: ci, Latent: in.Latent, NG: ng, Seed: in.Seed, Stage: StagePreparing})
		}
		if err := workflow.ExecuteActivity(trainOptions(ctx, waitCancel), a.PrepareLatent, activities.PrepareInput{Spec: in.Spec, Latent: in.Latent, Seed: in.Seed, Combo: ci}).Get(ctx, &prep); err != nil {
			if temporal.IsCanceledError(err) {
				return out, err
			}
			for _, ng := range in.NGs {
				s := TrialStatus{Combo: ci, Latent: in.Latent, NG: ng, Seed: in.Seed, Stage: StageFailed, Error: err.Error()}
				report(ctx, s)
				out.Failed = append(out.Failed, s)
			}
			return out, nil
		}
	}
	// The N_g trials share the prepared stages and run concurrently; the
	// workers' training slots bound how many train at once.
	wg := workflow.NewWaitGroup(ctx)
	var canceled error
	results := make([]*sweeps.TrialResult, len(in.NGs))
	for i, ng := range in.NGs {
		i, ng := i, ng
		wg.Add(1)
		workflow.Go(ctx, func(gctx workflow.Context) {
			defer wg.Done()
			ti := activities.TrialInput{SweepID: in.SweepID, Spec: in.Spec, Trial: trial(ng), Combo: in.Combo}
			report(gctx, TrialStatus{Combo: ci, Latent: in.Latent, NG: ng, Seed: in.Seed, Stage: StageTraining})
			var tr activities.TrainOutput
			err := workflow.ExecuteActivity(trainOptions(gctx, waitCancel), a.TrainGenerators, ti).Get(gctx, &tr)
			var res sweeps.TrialResult
			if err == nil {
				report(gctx, TrialStatus{Combo: ci, Latent: in.Latent, NG: ng, Seed: in.Seed, Stage: StageAnalysing, Worker: tr.Worker})
				ti.Known = append(append([]sweeps.StageRun(nil), prep.Stages...), tr.Stage)
				err = workflow.ExecuteActivity(analysisOptions(gctx, waitCancel), a.AnalyzeClosure, ti).Get(gctx, &res)
			}
			if err != nil {
				if temporal.IsCanceledError(err) || gctx.Err() != nil {
					canceled = err
					return
				}
				s := TrialStatus{Combo: ci, Latent: in.Latent, NG: ng, Seed: in.Seed, Stage: StageFailed, Error: err.Error()}
				report(gctx, s)
				out.Failed = append(out.Failed, s)
				return
			}
			passed := res.Passed
			report(gctx, TrialStatus{Combo: ci, Latent: in.Latent, NG: ng, Seed: in.Seed, Stage: StageDone, Passed: &passed, FailedOn: res.FailedOn, Worker: res.Worker})
			results[i] = &res
		})
	}
	wg.Wait(ctx)
	if canceled != nil {
		return out, canceled
	}
	for _, r := range results {
		if r != nil {
			out.Results = append(out.Results, *r)
		}
	}
	return out, nil
}
