package pipeline

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/liesweep/liesweep/infra/filestore"
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

// TestResultWrittenOnceAndReused: a result key receives the result once; a
// second run finds it there and reuses it without reading the generators;
// a result of another configuration at that key is recomputed.
func TestResultWrittenOnceAndReused(t *testing.T) {
	spec := smallSpec()
	trial := sweeps.Trial{Latent: 3, NG: 3, Seed: 1}
	ctx := context.Background()
	st, _ := filestore.New(t.TempDir())
	out := Out{Sweep: "s", Key: sweeps.ResultKey("s", trial)}
	first, err := (&Runner{Store: st}).RunTrial(ctx, spec, trial, out)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := st.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var results []string
	for _, k := range keys {
		if strings.HasSuffix(k, ".json") {
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
