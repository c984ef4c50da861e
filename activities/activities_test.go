package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/liesweep/liesweep/infra/filestore"
	"github.com/liesweep/liesweep/sweeps"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
)

func so2Spec() sweeps.Spec {
	s := sweeps.DefaultSpec()
	s.Name = "so2"
	s.Dataset = sweeps.Dataset{Kind: "analytic", Oracle: "norm", Dim: 2, Samples: 100}
	s.Generator = sweeps.Generator{Kind: "linear", Orthogonality: "global", Normalization: "frobenius", Closure: "joint"}
	s.Train.Epochs, s.Train.LR, s.Train.EvalPoints = 300, 3e-3, 100
	s.Normalize()
	return s
}

func newEnv(t *testing.T) (*testsuite.TestActivityEnvironment, *filestore.Store) {
	store, err := filestore.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return newEnvOn(t, store, "w")
}

// nonRetryable returns the error's application type when retrying it is
// off, "" otherwise.
func nonRetryable(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) && app.NonRetryable() {
		return app.Type()
	}
	return ""
}

// TestAnalyzeClosureNeverTrains: analysing a trial whose generators were
// never trained fails at once, non-retryably, naming the missing stage —
// it does not train on the orchestration queue.
func TestAnalyzeClosureNeverTrains(t *testing.T) {
	env, store := newEnv(t)
	spec := so2Spec()
	in := TrialInput{SweepID: "s", Spec: spec, Trial: sweeps.Trial{Latent: 2, NG: 1, Seed: 1}}
	_, err := env.ExecuteActivity((&Activities{}).AnalyzeClosure, in)
	if typ := nonRetryable(err); typ != "StageMissing" || !strings.Contains(err.Error(), "generators") {
		t.Errorf("got %v (type %q), want a non-retryable StageMissing naming the generators", err, typ)
	}
	if keys, _ := store.List(context.Background(), ""); len(keys) != 0 {
		t.Errorf("the analysis stored %v", keys)
	}
}

// TestTrialActivitiesAndAggregate: train, analyse and aggregate a sweep of
// one trial through the activities: the result is stored once under the
// sweep, a repeated analysis reuses it, and the verdict document carries
// its schema version and the trial.
func TestTrialActivitiesAndAggregate(t *testing.T) {
	env, store := newEnv(t)
	ctx := context.Background()
	spec := so2Spec()
	in := TrialInput{SweepID: "s", Spec: spec, Trial: sweeps.Trial{Latent: 2, NG: 1, Seed: 1}}
	v, err := env.ExecuteActivity((&Activities{}).TrainGenerators, in)
	if err != nil {
		t.Fatal(err)
	}
	var tr TrainOutput
	if err := v.Get(&tr); err != nil {
		t.Fatal(err)
	}
	if tr.Stage.Stage != sweeps.StageGenerators || tr.Stage.Reused || tr.Worker != "w" {
		t.Errorf("train output %+v", tr)
	}
	in.Known = []sweeps.StageRun{tr.Stage}
	for attempt := range 2 {
		v, err = env.ExecuteActivity((&Activities{}).AnalyzeClosure, in)
		if err != nil {
			t.Fatal(err)
		}
		var res sweeps.TrialResult
		if err := v.Get(&res); err != nil {
			t.Fatal(err)
		}
		if res.Sweep != "s" || res.NG != 1 || len(res.Stages) != 2 {
			t.Errorf("attempt %d: result %+v", attempt, res)
		}
		if attempt == 1 && !res.Stages[1].Reused {
			t.Errorf("the second analysis did not reuse the stored result: %+v", res.Stages)
		}
	}
	results, err := store.List(ctx, sweeps.ResultsPrefix("s"))
	if err != nil || len(results) != 1 || results[0] != sweeps.ResultKey("s", in.Trial) {
		t.Fatalf("stored results %v (%v), want one at %s", results, err, sweeps.ResultKey("s", in.Trial))
	}
	v, err = env.ExecuteActivity((&Activities{}).Aggregate, AggregateInput{SweepID: "s", Spec: spec})
	if err != nil {
		t.Fatal(err)
	}
	var agg AggregateOutput
	if err := v.Get(&agg); err != nil {
		t.Fatal(err)
	}
	b, err := store.Get(ctx, agg.VerdictKey)
	if err != nil {
		t.Fatal(err)
	}
	var doc sweeps.VerdictDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.SchemaVersion != sweeps.VerdictSchemaVersion || doc.Sweep != "s" || len(doc.Groups) != 1 || len(doc.Groups[0].Levels[0].Trials) != 1 {
		t.Errorf("verdict %+v", doc)
	}
	if len(agg.Groups) != 1 || agg.Groups[0].MaxNG != doc.Groups[0].MaxNG {
		t.Errorf("summary %+v disagrees with the document", agg.Groups)
	}
}

// TestAggregateCorruptResult: a result whose bytes no longer match its
// digest is a non-retryable CorruptArtifact naming what to do.
func TestAggregateCorruptResult(t *testing.T) {
	env, store := newEnv(t)
	key := sweeps.ResultKey("s", sweeps.Trial{Latent: 2, NG: 1, Seed: 1})
	if err := store.Put(context.Background(), key, []byte(`{"ng": 1`)); err != nil {
		t.Fatal(err)
	}
	_, err := env.ExecuteActivity((&Activities{}).Aggregate, AggregateInput{SweepID: "s", Spec: so2Spec()})
	if typ := nonRetryable(err); typ != "CorruptArtifact" || !strings.Contains(err.Error(), key) {
		t.Errorf("got %v (type %q), want a non-retryable CorruptArtifact naming %s", err, typ, key)
	}
}

// TestPrepareLatentMissingMNIST: an MNIST spec pointing at a folder without
// the files fails at once, non-retryably, saying where it looked.
func TestPrepareLatentMissingMNIST(t *testing.T) {
	// The worker's MNIST folder counts (the spec's mnist_dir is local to
	// the machine that wrote it and is not sent to workers).
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	store, err := filestore.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	env.RegisterActivity(&Activities{Store: store, MNISTDir: t.TempDir()})
	spec := sweeps.DefaultSpec()
	spec.Dataset = sweeps.Dataset{Kind: "mnist", Classes: []int{0, 1}, MaxTrain: 50, MaxVal: 20}
	spec.Normalize()
	_, err = env.ExecuteActivity((&Activities{}).PrepareLatent, PrepareInput{Spec: spec, Latent: 2, Seed: 1})
	if typ := nonRetryable(err); typ != "MissingData" {
		t.Errorf("got %v (type %q), want a non-retryable MissingData", err, typ)
	}
}

// panicStore is a store whose every call panics: a stand-in for a bug deep
// inside a stage.
type panicStore struct{ sweeps.ArtifactStore }

func (panicStore) Exists(context.Context, string) (bool, error) { panic("bug under test") }
func (panicStore) Get(context.Context, string) ([]byte, error)  { panic("bug under test") }

// TestPanicIsNonRetryable: a panic inside an activity comes back as a
// non-retryable "Panic" error saying it is a bug, at once, instead of the
// SDK's retryable panic error that the retry policy repeats for ~16 minutes
// while `sweep status` shows the trial as running.
func TestPanicIsNonRetryable(t *testing.T) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(&Activities{Store: panicStore{}, Worker: "w"})
	in := TrialInput{SweepID: "s", Spec: so2Spec(), Trial: sweeps.Trial{Latent: 2, NG: 1, Seed: 1}}
	_, err := env.ExecuteActivity((&Activities{}).TrainGenerators, in)
	if typ := nonRetryable(err); typ != "Panic" || !strings.Contains(err.Error(), "bug under test") {
		t.Errorf("got %v (non-retryable type %q), want a non-retryable Panic carrying the panic's value", err, typ)
	}
}

// TestTrainingHandsBackOnWorkerStop: when the worker is told to stop (its
// stop channel closes: SIGINT/SIGTERM, a Nomad drain), TrainGenerators
// checkpoints at the end of the epoch it is in and returns a retryable
// error saying it handed back; the retry (on any worker) resumes from that
// checkpoint and stores weights bit-identical to an undisturbed run's.
func TestTrainingHandsBackOnWorkerStop(t *testing.T) {
	spec := so2Spec()
	spec.Train.CheckpointEvery = 100
	in := TrialInput{SweepID: "s", Spec: spec, Trial: sweeps.Trial{Latent: 2, NG: 1, Seed: 1}}

	ref, refStore := newEnv(t)
	val, err := ref.ExecuteActivity((&Activities{}).TrainGenerators, in)
	if err != nil {
		t.Fatal(err)
	}
	var out TrainOutput
	if err := val.Get(&out); err != nil {
		t.Fatal(err)
	}
	key := sweeps.ArtifactKey(sweeps.StageGenerators, out.Stage.Key, "weights.safetensors")
	want, err := refStore.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}

	env, store := newEnv(t)
	stop := make(chan struct{})
	close(stop) // the worker was told to stop while the training ran
	env.SetWorkerStopChannel(stop)
	_, err = env.ExecuteActivity((&Activities{}).TrainGenerators, in)
	if err == nil || !strings.Contains(err.Error(), "handed back") || nonRetryable(err) != "" {
		t.Fatalf("stopped training: %v, want a retryable hand-back", err)
	}
	if ok, _ := store.Exists(context.Background(), key); ok {
		t.Fatal("a handed-back training stored final weights")
	}
	retry, _ := newEnvOn(t, store, "w2")
	val, err = retry.ExecuteActivity((&Activities{}).TrainGenerators, in)
	if err != nil {
		t.Fatal(err)
	}
	if err := val.Get(&out); err != nil {
		t.Fatal(err)
	}
	if out.Stage.ResumedFrom != 1 {
		t.Errorf("the retry resumed from epoch %d, want 1 (the hand-back's checkpoint)", out.Stage.ResumedFrom)
	}
	got, err := store.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("weights after hand-back and resume differ from the undisturbed run's")
	}
}

// newEnvOn is an activity environment whose worker is named worker, on an
// existing store.
func newEnvOn(t *testing.T, store *filestore.Store, worker string) (*testsuite.TestActivityEnvironment, *filestore.Store) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(&Activities{Store: store, Worker: worker})
	return env, store
}

// TestAggregateNotesMissingResults: a grid trial without a stored result
// (it failed, or its result object was deleted mid-sweep) is named in the
// verdict's notes; the verdict used to lack the level and say nothing.
func TestAggregateNotesMissingResults(t *testing.T) {
	env, store := newEnv(t)
	spec := so2Spec()
	spec.NG = []int{1, 2}
	res := sweeps.TrialResult{SchemaVersion: sweeps.ResultSchemaVersion, Sweep: "s", NG: 1, LatentDim: 2, Seed: 1, FailedOn: []string{}}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Put(context.Background(), sweeps.ResultKey("s", sweeps.Trial{Latent: 2, NG: 1, Seed: 1}), b); err != nil {
		t.Fatal(err)
	}
	if _, err := env.ExecuteActivity((&Activities{}).Aggregate, AggregateInput{SweepID: "s", Spec: spec}); err != nil {
		t.Fatal(err)
	}
	vb, err := store.Get(context.Background(), sweeps.VerdictKey("s"))
	if err != nil {
		t.Fatal(err)
	}
	var doc sweeps.VerdictDoc
	if err := json.Unmarshal(vb, &doc); err != nil {
		t.Fatal(err)
	}
	notes := strings.Join(doc.Notes, "\n")
	if !strings.Contains(notes, "1 trial(s) of the grid have no result") || !strings.Contains(notes, "l2-ng2-seed1") || strings.Contains(notes, "l2-ng1-seed1") {
		t.Errorf("notes %q: want l2-ng2-seed1 named as missing, and only it", doc.Notes)
	}
}

// TestDivergedTrainingIsAFailedTrial: on Temporal as in `liesweep run`, a
// training whose loss is not finite is the trial's outcome: the training
// activity succeeds after storing a failed result, and the analysis
// activity returns it (failed, null metrics, a note), so the verdict
// counts the trial. It used to be a NonFiniteLoss activity error, and the
// verdict dropped the trial (and its whole combination).
func TestDivergedTrainingIsAFailedTrial(t *testing.T) {
	env, _ := newEnv(t)
	spec := so2Spec()
	spec.Train.LR = 1e300
	in := TrialInput{SweepID: "s", Spec: spec, Trial: sweeps.Trial{Latent: 2, NG: 1, Seed: 1}}
	if _, err := env.ExecuteActivity((&Activities{}).TrainGenerators, in); err != nil {
		t.Fatalf("training activity: %v, want success (the trial's failure is its result)", err)
	}
	v, err := env.ExecuteActivity((&Activities{}).AnalyzeClosure, in)
	if err != nil {
		t.Fatal(err)
	}
	var res sweeps.TrialResult
	if err := v.Get(&res); err != nil {
		t.Fatal(err)
	}
	if res.Passed || !slices.Contains(res.FailedOn, "inv_ratio") {
		t.Errorf("result passed %v, failed on %v: want it failed on every metric", res.Passed, res.FailedOn)
	}
}

// TestAnalysisHandsBackOnWorkerStop: a closure analysis under way when the
// worker is told to stop is abandoned at once and handed back (retryable),
// storing no result; it used to hold the worker for its whole stop timeout
// (25 s at ℓ = 16, N_g = 32) and then be dropped anyway. The next attempt
// analyses and stores the result.
func TestAnalysisHandsBackOnWorkerStop(t *testing.T) {
	spec := so2Spec()
	spec.Dataset = sweeps.Dataset{Kind: "analytic", Oracle: "norm", Dim: 6, Samples: 400}
	spec.Generator = sweeps.Generator{Kind: "mlp", Hidden: []int{64}, Orthogonality: "pointwise", Normalization: "pointwise", Closure: "posthoc"}
	spec.Train.Epochs, spec.Train.EvalPoints = 2, 400
	spec.Normalize()
	in := TrialInput{SweepID: "s", Spec: spec, Trial: sweeps.Trial{Latent: 6, NG: 12, Seed: 1}}
	env, store := newEnv(t)
	if _, err := env.ExecuteActivity((&Activities{}).TrainGenerators, in); err != nil {
		t.Fatal(err)
	}
	stopping, _ := newEnvOn(t, store, "w")
	stop := make(chan struct{})
	close(stop)
	stopping.SetWorkerStopChannel(stop)
	start := time.Now()
	_, err := stopping.ExecuteActivity((&Activities{}).AnalyzeClosure, in)
	if err == nil || !strings.Contains(err.Error(), "worker is stopping") || nonRetryable(err) != "" {
		t.Fatalf("analysis on a stopping worker: %v (after %v), want a retryable hand-back", err, time.Since(start))
	}
	if ok, _ := store.Exists(context.Background(), sweeps.ResultKey("s", in.Trial)); ok {
		t.Error("a handed-back analysis stored a result")
	}
	retry, _ := newEnvOn(t, store, "w2")
	if _, err := retry.ExecuteActivity((&Activities{}).AnalyzeClosure, in); err != nil {
		t.Fatalf("the next attempt: %v", err)
	}
}
