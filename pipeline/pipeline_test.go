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

// TestStagesAreReusedAndResumed: a second run reuses the stored generators;
// a run interrupted after a checkpoint resumes from it and ends with the
// same weights; a corrupt checkpoint is reported and never used.
func TestStagesAreReusedAndResumed(t *testing.T) {
	spec := smallSpec()
	trial := sweeps.Trial{Latent: 3, NG: 3, Seed: 1}
	ctx := context.Background()

	ref, _ := filestore.New(t.TempDir())
	full, err := (&Runner{Store: ref}).RunTrial(ctx, spec, trial)
	if err != nil {
		t.Fatal(err)
	}
	again, err := (&Runner{Store: ref}).RunTrial(ctx, spec, trial)
	if err != nil {
		t.Fatal(err)
	}
	if g := again.Stages[0]; g.Stage != sweeps.StageGenerators || !g.Reused {
		t.Errorf("second run: %+v, want the generators reused", again.Stages)
	}
	want, _ := ref.Get(ctx, full.Artifacts[sweeps.StageGenerators])

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
		if _, err := r.RunTrial(cctx, spec, trial); !errors.Is(err, context.Canceled) {
			t.Fatalf("interrupted run: %v", err)
		}
		ck := filepath.Join(dir, filepath.FromSlash(sweeps.ArtifactKey(sweeps.StageGenerators, sweeps.StageKeys(spec, trial).Generators, "checkpoint.safetensors")))
		if corrupt {
			b, _ := os.ReadFile(ck)
			b[len(b)-3] ^= 0xff
			os.WriteFile(ck, b, 0o644)
		}
		res, err := r.RunTrial(ctx, spec, trial)
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
		got, _ := st.Get(ctx, res.Artifacts[sweeps.StageGenerators])
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
	res, err := (&Runner{Store: st}).RunTrial(context.Background(), spec, trial)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, filepath.FromSlash(res.Artifacts[sweeps.StageGenerators]))
	b, _ := os.ReadFile(p)
	b[len(b)-1] ^= 1
	os.WriteFile(p, b, 0o644)
	st.Delete(context.Background(), res.Artifacts[sweeps.StageAnalysis]) // force the analysis to read the weights
	_, err = (&Runner{Store: st}).RunTrial(context.Background(), spec, trial)
	if !errors.Is(err, sweeps.ErrCorrupt) || !strings.Contains(err.Error(), "delete the object") {
		t.Errorf("want ErrCorrupt saying what to do, got %v", err)
	}
}
