package pipeline

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/liesweep/liesweep/infra/filestore"
	"github.com/liesweep/liesweep/models"
	"github.com/liesweep/liesweep/sweeps"
)

func smallSpec() *sweeps.Spec {
	s := sweeps.DefaultSpec()
	s.Dataset = sweeps.Dataset{Kind: "analytic", Oracle: "norm", Dim: 3, Samples: 60}
	s.Generator = sweeps.Generator{Kind: "linear", Orthogonality: "global", Closure: "joint"}
	s.Train.Epochs, s.Train.LR, s.Train.CheckpointEvery, s.Train.EvalPoints = 200, 1e-2, 50, 60
	s.NG = []int{3}
	s.Normalize()
	if err := s.Validate(); err != nil {
		panic(err)
	}
	return &s
}

// TestStagesAreReusedAndResumed: a second run reuses the stored generators
// (no result key: the generator reuse path itself, not a stored result);
// a run interrupted after a checkpoint resumes from it and ends with the
// same weights; a corrupt checkpoint is reported and never used.
func TestStagesAreReusedAndResumed(t *testing.T) {
	spec := smallSpec()
	trial := sweeps.Trial{Latent: 3, NG: 3, Seed: 1}
	ctx := context.Background()

	ref, _ := filestore.New(t.TempDir())
	full, err := (&Runner{Store: ref}).RunTrial(ctx, spec, trial, Out{})
	if err != nil {
		t.Fatal(err)
	}
	again, err := (&Runner{Store: ref}).RunTrial(ctx, spec, trial, Out{})
	if err != nil {
		t.Fatal(err)
	}
	if g := again.Stages[0]; g.Stage != sweeps.StageGenerators || !g.Reused {
		t.Errorf("second run: %+v, want the generators reused", again.Stages)
	}
	if again.Metrics != full.Metrics {
		t.Errorf("reused generators measure %+v, the trained ones %+v", again.Metrics, full.Metrics)
	}
	want, err := ref.Get(ctx, full.Artifacts[sweeps.StageGenerators])
	if err != nil || len(want) == 0 {
		t.Fatalf("stored generators: %d bytes, %v", len(want), err)
	}

	for _, corrupt := range []bool{false, true} {
		dir := t.TempDir()
		st, _ := filestore.New(dir)
		cctx, cancel := context.WithCancel(ctx)
		var events []string
		r := &Runner{Store: st, Progress: func(e Event) {
			if e.Stage == sweeps.StageGenerators && e.Epoch == 100 && e.Message == "" {
				cancel() // stop right after the checkpoint at epoch 100
			}
			if e.Message != "" {
				events = append(events, e.Message)
			}
		}}
		if _, err := r.RunTrial(cctx, spec, trial, Out{}); !errors.Is(err, context.Canceled) {
			t.Fatalf("interrupted run: %v", err)
		}
		ck := filepath.Join(dir, filepath.FromSlash(sweeps.ArtifactKey(sweeps.StageGenerators, sweeps.StageKeys(spec, trial).Generators, "checkpoint.safetensors")))
		if corrupt {
			b, _ := os.ReadFile(ck)
			b[len(b)-3] ^= 0xff
			os.WriteFile(ck, b, 0o644)
		}
		res, err := r.RunTrial(ctx, spec, trial, Out{})
		if err != nil {
			t.Fatal(err)
		}
		g := res.Stages[0]
		switch {
		case !corrupt && g.ResumedFrom != 100:
			t.Errorf("resumed from epoch %d, want 100", g.ResumedFrom)
		case corrupt && g.ResumedFrom != 0:
			t.Errorf("a corrupt checkpoint was used (resumed from %d)", g.ResumedFrom)
		case corrupt && !strings.Contains(strings.Join(events, "\n"), "corrupt"):
			t.Errorf("the corrupt checkpoint was not reported: %q", events)
		}
		got, err := st.Get(ctx, res.Artifacts[sweeps.StageGenerators])
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("corrupt=%v: final weights differ from the uninterrupted run's", corrupt)
		}
	}
}

// TestCorruptArtifactIsNotUsed: stored weights whose bytes no longer match
// their SHA-256 are an error, not silently used or retrained over.
func TestCorruptArtifactIsNotUsed(t *testing.T) {
	spec := smallSpec()
	trial := sweeps.Trial{Latent: 3, NG: 3, Seed: 1}
	dir := t.TempDir()
	st, _ := filestore.New(dir)
	res, err := (&Runner{Store: st}).RunTrial(context.Background(), spec, trial, Out{})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, filepath.FromSlash(res.Artifacts[sweeps.StageGenerators]))
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] ^= 1
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = (&Runner{Store: st}).RunTrial(context.Background(), spec, trial, Out{})
	if !errors.Is(err, sweeps.ErrCorrupt) || !strings.Contains(err.Error(), "delete the object") {
		t.Errorf("want ErrCorrupt saying what to do, got %v", err)
	}
}

// storedTrial runs smallSpec's N_g = 3 trial into a fresh store with its
// result stored under sweep "s".
func storedTrial(t *testing.T) (*sweeps.Spec, sweeps.Trial, *filestore.Store, Out, *sweeps.TrialResult) {
	t.Helper()
	spec := smallSpec()
	trial := sweeps.Trial{Latent: 3, NG: 3, Seed: 1}
	st, _ := filestore.New(t.TempDir())
	out := Out{Sweep: "s", Key: sweeps.ResultKey("s", trial)}
	first, err := (&Runner{Store: st}).RunTrial(context.Background(), spec, trial, out)
	if err != nil {
		t.Fatal(err)
	}
	return spec, trial, st, out, first
}

// TestResultWrittenOnceAndReused: a result key receives the result once; a
// second run finds it there and reuses it without reading the generators;
// a result of another configuration at that key is recomputed.
func TestResultWrittenOnceAndReused(t *testing.T) {
	spec, trial, st, out, first := storedTrial(t)
	ctx := context.Background()
	keys, err := st.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var results []string
	for _, k := range keys {
		if strings.HasSuffix(k, ".json") && !strings.Contains(k, "/checkpoint.losses-") {
			results = append(results, k)
		}
	}
	if len(results) != 1 || results[0] != out.Key {
		t.Errorf("JSON objects stored: %v, want only %s", results, out.Key)
	}
	// Without the generators, only the stored result can answer.
	if err := st.Delete(ctx, first.Artifacts[sweeps.StageGenerators]); err != nil {
		t.Fatal(err)
	}
	var msgs []string
	again, err := (&Runner{Store: st, Progress: func(e Event) { msgs = append(msgs, e.Message) }}).AnalyzeTrial(ctx, spec, trial, out)
	if err != nil {
		t.Fatalf("stored result not reused: %v (%q)", err, msgs)
	}
	if again.Metrics != first.Metrics || again.Sweep != "s" {
		t.Errorf("reused result %+v / sweep %q, want %+v / s", again.Metrics, again.Sweep, first.Metrics)
	}
	other := *spec
	other.Train.EvalPoints = 50
	if _, err := (&Runner{Store: st}).AnalyzeTrial(ctx, &other, trial, out); !errors.Is(err, sweeps.ErrStageMissing) {
		t.Errorf("a result of another analysis config was reused (err %v)", err)
	}
}

// TestAnalyzeTrialNeverTrains: the analysis of a trial whose generators
// are not stored fails at once with ErrStageMissing naming the key.
func TestAnalyzeTrialNeverTrains(t *testing.T) {
	spec := smallSpec()
	trial := sweeps.Trial{Latent: 3, NG: 3, Seed: 1}
	st, _ := filestore.New(t.TempDir())
	_, err := (&Runner{Store: st}).AnalyzeTrial(context.Background(), spec, trial, Out{})
	key := sweeps.StageKeys(spec, trial).Generators
	if !errors.Is(err, sweeps.ErrStageMissing) || !strings.Contains(err.Error(), key) {
		t.Errorf("got %v, want ErrStageMissing naming %s", err, key)
	}
	if keys, _ := st.List(context.Background(), ""); len(keys) != 0 {
		t.Errorf("the analysis stored %v", keys)
	}
}

// TestLegacyGeneratorKeyFound: generators stored under the gen-v1 key (the
// format before the key covered the whole Train config) are reused.
func TestLegacyGeneratorKeyFound(t *testing.T) {
	spec := smallSpec()
	spec.Train.EarlyStop = false // as in a spec stored before early stopping existed
	trial := sweeps.Trial{Latent: 3, NG: 3, Seed: 1}
	ctx := context.Background()
	st, _ := filestore.New(t.TempDir())
	res, err := (&Runner{Store: st}).RunTrial(ctx, spec, trial, Out{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := st.Get(ctx, res.Artifacts[sweeps.StageGenerators])
	if err != nil {
		t.Fatal(err)
	}
	old, _ := filestore.New(t.TempDir())
	legacy := sweeps.LegacyGeneratorKey(spec, trial)
	if legacy == "" || legacy == sweeps.StageKeys(spec, trial).Generators {
		t.Fatalf("legacy key %q", legacy)
	}
	if err := old.Put(ctx, sweeps.ArtifactKey(sweeps.StageGenerators, legacy, "weights.safetensors"), b); err != nil {
		t.Fatal(err)
	}
	again, err := (&Runner{Store: old}).RunTrial(ctx, spec, trial, Out{})
	if err != nil {
		t.Fatal(err)
	}
	if g := again.Stages[0]; !g.Reused || g.Key != legacy || again.Metrics != res.Metrics {
		t.Errorf("stage %+v metrics %+v, want the gen-v1 generators reused (%+v)", g, again.Metrics, res.Metrics)
	}
	// …and copied under the current key, where loaders look.
	if _, err := (&Runner{Store: old}).Load(ctx, spec, trial); err != nil {
		t.Errorf("the reused generators cannot be loaded back: %v", err)
	}
}

// TestCorruptionHintRecovers: following the corruption error's advice —
// delete the object — makes the next run recompute that stage (and what
// depends on it) and end where an undisturbed run ends.
func TestCorruptionHintRecovers(t *testing.T) {
	spec := smallSpec()
	trial := sweeps.Trial{Latent: 3, NG: 3, Seed: 1}
	ctx := context.Background()
	dir := t.TempDir()
	st, _ := filestore.New(dir)
	out := Out{Sweep: "s", Key: sweeps.ResultKey("s", trial)}
	first, err := (&Runner{Store: st}).RunTrial(ctx, spec, trial, out)
	if err != nil {
		t.Fatal(err)
	}
	key := first.Artifacts[sweeps.StageGenerators]
	p := filepath.Join(dir, filepath.FromSlash(key))
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	// The result is stored: the analysis is redone only when asked to; a
	// second sweep (another result key) needs the weights.
	other := Out{Sweep: "s2", Key: sweeps.ResultKey("s2", trial)}
	_, err = (&Runner{Store: st}).AnalyzeTrial(ctx, spec, trial, other)
	if !errors.Is(err, sweeps.ErrCorrupt) || !strings.Contains(err.Error(), "delete the object") {
		t.Fatalf("got %v, want ErrCorrupt with the advice", err)
	}
	if err := st.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	again, err := (&Runner{Store: st}).RunTrial(ctx, spec, trial, other)
	if err != nil {
		t.Fatalf("after deleting the corrupt object: %v", err)
	}
	if g := again.Stages[0]; g.Stage != sweeps.StageGenerators || g.Reused || again.Metrics != first.Metrics {
		t.Errorf("stage %+v, metrics %+v; want the generators retrained to the same metrics %+v", g, again.Metrics, first.Metrics)
	}
}

// putLog is a store that records every Put's key and size.
type putLog struct {
	sweeps.ArtifactStore
	keys  []string
	sizes []int
}

func (p *putLog) Put(ctx context.Context, key string, b []byte) error {
	p.keys, p.sizes = append(p.keys, key), append(p.sizes, len(b))
	return p.ArtifactStore.Put(ctx, key, b)
}

// historyFixture is the checkpoint-history tests' training: 600 epochs
// with a checkpoint after each, over three history chunks.
func historyFixture() (spec *sweeps.Spec, trial sweeps.Trial, key, ckKey string) {
	spec = smallSpec()
	spec.Train.Epochs, spec.Train.CheckpointEvery = 600, 1
	trial = sweeps.Trial{Latent: 3, NG: 3, Seed: 1}
	key = sweeps.StageKeys(spec, trial).Generators
	return spec, trial, key, sweeps.ArtifactKey(sweeps.StageGenerators, key, "checkpoint.safetensors")
}

// interruptAt runs the trial on st and cancels it right after the
// generators' epoch (and its checkpoint); it returns the run's error.
func interruptAt(st sweeps.ArtifactStore, spec *sweeps.Spec, trial sweeps.Trial, epoch int) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := (&Runner{Store: st, Progress: func(e Event) {
		if e.Stage == sweeps.StageGenerators && e.Epoch == epoch && e.Message == "" {
			cancel()
		}
	}}).RunTrial(ctx, spec, trial, Out{})
	return err
}

// resumeEquals runs the trial on st and checks that it resumed from epoch
// from and stored the weights want (the uninterrupted run's).
func resumeEquals(t *testing.T, st sweeps.ArtifactStore, spec *sweeps.Spec, trial sweeps.Trial, from int, want []byte) {
	t.Helper()
	res, err := (&Runner{Store: st}).RunTrial(context.Background(), spec, trial, Out{})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Stages[0].ResumedFrom; got != from {
		t.Errorf("resumed from epoch %d, want %d", got, from)
	}
	if got, _ := st.Get(context.Background(), res.Artifacts[sweeps.StageGenerators]); string(got) != string(want) {
		t.Error("the resumed run's weights (and history) differ from the uninterrupted run's")
	}
}

// TestCheckpointHistoryIsAppended: with a checkpoint after every epoch, a
// checkpoint writes the same bytes at epoch 600 as at epoch 10 (its loss
// history goes to the chunk that epoch falls in, never to the chunks
// before), and a run interrupted past a chunk boundary resumes with the
// whole history and ends as the uninterrupted run does. A checkpoint
// copied in from another configuration is not resumed.
func TestCheckpointHistoryIsAppended(t *testing.T) {
	spec, trial, key, ckKey := historyFixture()
	ctx := context.Background()

	base, _ := filestore.New(t.TempDir())
	log := &putLog{ArtifactStore: base}
	full, err := (&Runner{Store: log}).RunTrial(ctx, spec, trial, Out{})
	if err != nil {
		t.Fatal(err)
	}
	var ckSizes []int
	chunk := 0 // the history chunk the next checkpoint may write
	for i, k := range log.keys {
		switch {
		case k == ckKey:
			ckSizes = append(ckSizes, log.sizes[i])
		case strings.Contains(k, "/checkpoint.losses-"):
			epoch := len(ckSizes) + 1 // written before its checkpoint
			if want := historyKey(sweeps.StageGenerators, key, (epoch-1)/historyChunk); k != want {
				t.Fatalf("the checkpoint of epoch %d wrote %s, want only %s", epoch, k, want)
			}
			chunk = (epoch - 1) / historyChunk
		}
	}
	if len(ckSizes) != 600 || chunk != 2 {
		t.Fatalf("%d checkpoints, last history chunk %d: want 600 and chunk 2", len(ckSizes), chunk)
	}
	if ckSizes[9] != ckSizes[599] {
		t.Errorf("the checkpoint grows with the epochs: %d bytes at epoch 10, %d at epoch 600", ckSizes[9], ckSizes[599])
	}
	want, _ := base.Get(ctx, full.Artifacts[sweeps.StageGenerators])

	st, _ := filestore.New(t.TempDir())
	if err := interruptAt(st, spec, trial, 300); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v", err)
	}
	resumeEquals(t, st, spec, trial, 300, want)

	// Another learning rate is another configuration: its checkpoint,
	// copied to this one's key, must not be resumed.
	other := *spec
	other.Train.LR = 3e-2
	fst, _ := filestore.New(t.TempDir())
	interruptAt(fst, &other, trial, 300)
	otherKey := sweeps.StageKeys(&other, trial).Generators
	for _, name := range []string{"checkpoint.safetensors", "checkpoint.losses-00000.json", "checkpoint.losses-00001.json"} {
		b, err := fst.Get(ctx, sweeps.ArtifactKey(sweeps.StageGenerators, otherKey, name))
		if err != nil {
			t.Fatal(err)
		}
		fst.Put(ctx, sweeps.ArtifactKey(sweeps.StageGenerators, key, name), b)
	}
	var events []string
	res, err := (&Runner{Store: fst, Progress: func(e Event) {
		if e.Message != "" {
			events = append(events, e.Message)
		}
	}}).RunTrial(ctx, spec, trial, Out{})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Stages[0].ResumedFrom; got != 0 || !strings.Contains(strings.Join(events, "\n"), "hyperparameters differ") {
		t.Errorf("another configuration's checkpoint: resumed from %d, events %q; want it refused and said", got, events)
	}
	if got, _ := fst.Get(ctx, res.Artifacts[sweeps.StageGenerators]); string(got) != string(want) {
		t.Errorf("after refusing the foreign checkpoint the weights differ from the uninterrupted run's")
	}
}

// TestDeterministicFailuresAreFailedTrials: a training whose loss is not
// finite and an analysis that cannot be solved (N_g over the values a
// field has on the evaluation points, which validate refuses for analytic
// oracles but a table's row count only shows at training) are trial
// outcomes: a stored result that fails every threshold with null metrics
// and a note saying why, reused by the next run. They used to abort
// `liesweep run` with "run again to resume", which failed the same way
// for ever.
func TestDeterministicFailuresAreFailedTrials(t *testing.T) {
	diverges := smallSpec()
	diverges.Train.LR = 1e300
	// the loss is finite before the one update, which overflows the
	// weights: inv_ratio measured 0 and passed
	lastEpoch := smallSpec()
	lastEpoch.Train.LR, lastEpoch.Train.Epochs = 1e300, 1
	unsolvable := smallSpec()
	unsolvable.Generator = sweeps.Generator{Kind: "mlp", Hidden: []int{4}, Orthogonality: "pointwise", Normalization: "pointwise", Closure: "posthoc"}
	unsolvable.Dataset.Samples, unsolvable.Train.EvalPoints, unsolvable.Train.Epochs = 3, 3, 5
	for name, c := range map[string]struct {
		spec *sweeps.Spec
		ng   int
		note string
	}{
		"diverges":   {diverges, 3, "training diverged"},
		"last epoch": {lastEpoch, 1, "training diverged"},
		"unsolvable": {unsolvable, 10, "cannot be solved"},
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st, _ := filestore.New(t.TempDir())
			trial := sweeps.Trial{Latent: 3, NG: c.ng, Seed: 1}
			out := Out{Sweep: "s", Key: sweeps.ResultKey("s", trial)}
			res, err := (&Runner{Store: st}).RunTrial(ctx, c.spec, trial, out)
			if err != nil {
				t.Fatalf("want a failed trial, got the error %v", err)
			}
			if res.Passed || !math.IsNaN(res.Metrics.InvRatio) || !strings.Contains(strings.Join(res.Notes, "; "), c.note) {
				t.Errorf("passed %v, inv_ratio %v, notes %q: want failed, NaN and a note saying %q", res.Passed, res.Metrics.InvRatio, res.Notes, c.note)
			}
			var msgs []string
			again, err := (&Runner{Store: st, Progress: func(e Event) { msgs = append(msgs, e.Message) }}).RunTrial(ctx, c.spec, trial, out)
			if err != nil || again.Passed || !strings.Contains(strings.Join(msgs, "\n"), "reusing stored result") {
				t.Errorf("second run: %v, passed %v, events %q: want the stored failed result reused", err, again != nil && again.Passed, msgs)
			}
		})
	}
}

// TestGoneWeightsAreRecreated: a stored result whose generator weights were
// deleted is not reused as if nothing were missing (the report then warned
// "run or resume the sweep first" for ever, and running reused the result
// again): the trial trains again from its last checkpoint and stores the
// same bytes.
func TestGoneWeightsAreRecreated(t *testing.T) {
	spec, trial, st, out, first := storedTrial(t)
	ctx := context.Background()
	wk := first.Artifacts[sweeps.StageGenerators]
	want, _ := st.Get(ctx, wk)
	if err := st.Delete(ctx, wk); err != nil {
		t.Fatal(err)
	}
	var msgs []string
	again, err := (&Runner{Store: st, Progress: func(e Event) { msgs = append(msgs, e.Message) }}).RunTrial(ctx, spec, trial, out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := st.Get(ctx, wk)
	if err != nil || string(got) != string(want) {
		t.Fatalf("weights after the re-run: %d bytes, %v; want the deleted bytes back", len(got), err)
	}
	if log := strings.Join(msgs, "\n"); !strings.Contains(log, "are gone") || !strings.Contains(log, "resuming generators from epoch 200") {
		t.Errorf("events %q: want the missing weights said and the training resumed from its last checkpoint", msgs)
	}
	if again.Metrics != first.Metrics {
		t.Errorf("metrics %+v after recreating, %+v before", again.Metrics, first.Metrics)
	}
}

// flakyGet fails the first Get of keys containing part with a store error
// that is neither not-found nor corrupt (a timeout).
type flakyGet struct {
	sweeps.ArtifactStore
	part   string
	failed bool
}

func (f *flakyGet) Get(ctx context.Context, key string) ([]byte, error) {
	if !f.failed && strings.Contains(key, f.part) {
		f.failed = true
		return nil, errors.New("read timeout")
	}
	return f.ArtifactStore.Get(ctx, key)
}

// TestCheckpointHistoryUpgradeAndStoreErrors: a checkpoint written before
// the history was stored apart (its history inside) resumes, and so does
// the next checkpoint after it (it used to lack the chunks before the
// resume epoch, so a second interruption trained from scratch); a store
// that fails to return a history chunk fails the attempt and keeps the
// checkpoint, instead of treating it as unusable and overwriting it.
func TestCheckpointHistoryUpgradeAndStoreErrors(t *testing.T) {
	spec, trial, key, ckKey := historyFixture()
	ctx := context.Background()
	ref, _ := filestore.New(t.TempDir())
	full, err := (&Runner{Store: ref}).RunTrial(ctx, spec, trial, Out{})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := ref.Get(ctx, full.Artifacts[sweeps.StageGenerators])
	st, _ := filestore.New(t.TempDir())
	interruptAt(st, spec, trial, 300)
	// rewrite the checkpoint as before the change: history inside, no chunks
	like, _ := models.GeneratorParams(genConfig(spec, trial), 3)
	b, _ := st.Get(ctx, ckKey)
	c, err := (&Runner{Store: st}).decodeCheckpoint(ctx, b, sweeps.StageGenerators, key, like)
	if err != nil {
		t.Fatal(err)
	}
	c.Config, c.HistoryApart = "", false
	old, _ := c.Encode()
	st.Put(ctx, ckKey, old)
	for i := 0; i < 3; i++ {
		st.Delete(ctx, historyKey(sweeps.StageGenerators, key, i))
	}
	interruptAt(st, spec, trial, 400) // resumes the old checkpoint, stops again
	resumeEquals(t, st, spec, trial, 400, want)

	st2, _ := filestore.New(t.TempDir())
	interruptAt(st2, spec, trial, 300)
	before, _ := st2.Get(ctx, ckKey)
	flaky := &flakyGet{ArtifactStore: st2, part: "checkpoint.losses-"}
	if _, err := (&Runner{Store: flaky}).RunTrial(ctx, spec, trial, Out{}); err == nil || !strings.Contains(err.Error(), "read timeout") {
		t.Errorf("a history chunk the store failed to return: %v, want the attempt to fail", err)
	}
	if after, _ := st2.Get(ctx, ckKey); string(after) != string(before) {
		t.Error("the checkpoint was overwritten after a store error")
	}
	if res, err := (&Runner{Store: flaky}).RunTrial(ctx, spec, trial, Out{}); err != nil || res.Stages[0].ResumedFrom != 300 {
		t.Errorf("the retry: %v, want it resumed from epoch 300", err)
	}
}
